/**
 * Starting an HTTP server: `serve()` listens and serves, `httpServer()` serves on a listener
 * you made. The server itself is server.ts. No Bun API.
 */
import type { Co } from "../types.ts";
import { listen, Listener } from "../net/listener.ts";
import type { HttpHandler } from "./request.ts";
import type { HttpServerOptions, ServeOptions } from "./options.ts";
import { HttpServer } from "./server.ts";
import { SERVER_KEYS } from "./server-limits.ts";
import { checkKeys } from "../option-keys.ts";
import { Syscall, describe, isAsyncFunction } from "../syscall.ts";

/**
 * Serve HTTP on a listener you made with `listen()`: each connection gets its own task.
 *
 * @example
 * ```ts
 * import { run, listen, httpServer, request } from "corun";
 * await run(function* () {
 *   const listener = yield* listen({ hostname: "127.0.0.1", port: 0 });
 *   const server = yield* httpServer(listener, function* (req) { return { body: req.path }; });
 *   console.log((yield* request(`${server.url}/a/b`)).text()); // /a/b
 *   yield* server.close();
 * });
 * ```
 */
export function* httpServer(listener: Listener, handler: HttpHandler, options: HttpServerOptions = {}): Co<HttpServer> {
  if (!(listener instanceof Listener)) {
    const hint = (listener as unknown) instanceof Syscall ? " (a listen() not yielded: write httpServer(yield* listen({...}), handler))" : "";
    throw new TypeError(`httpServer(listener, handler): listener must be a Listener, got ${describe(listener)}${hint}`);
  }
  // A closed listener accepts nothing: the server would never answer, saying nothing.
  if (listener.closed) throw new TypeError(`httpServer(listener, handler): ${listener} is closed (closed by close(), or its run() ended): listen again`);
  if (options === null || typeof options !== "object") throw new TypeError(`httpServer(listener, handler, options): options must be an object of limits, got ${describe(options)}`);
  checkKeys(options, SERVER_KEYS, "httpServer(listener, handler, options)");
  checkHandler(handler, "httpServer(listener, handler)");
  const server = new HttpServer(listener, handler, options);
  yield* server.start();
  return server;
}

/**
 * Listen on `hostname:port` (default 127.0.0.1, a free port) and serve HTTP/1.0 and 1.1
 * with `handler`. Returns at once; the server runs in its own tasks until `close()` or the
 * end of `run()`.
 *
 * @example
 * ```ts
 * import { run, serve, request } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* (req) {
 *     return { status: 200, headers: { "x-seen": req.headers["user-agent"] ?? "" }, body: "ok" };
 *   } });
 *   const res = yield* request(server.url, { headers: { "user-agent": "me" } });
 *   console.log(res.status, res.headers["x-seen"], res.text()); // 200 me ok
 *   yield* server.close();
 * });
 * ```
 */
export function* serve(options: ServeOptions): Co<HttpServer> {
  if (options === null || typeof options !== "object") throw new TypeError(`serve(options): expected { port, handler }, got ${String(options)}`);
  checkHandler(options.handler, "serve({ handler })");
  // A listener's own options are not serve()'s: dropped, `tls` would serve plain HTTP on what
  // the caller takes for an HTTPS port.
  for (const key of LISTEN_ONLY) {
    if ((options as unknown as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(`serve(options): ${key} is a listener's option, which serve() does not take; listen yourself and serve on it: httpServer(yield* listen({ port, ${key}, ... }), handler, limits)`);
    }
  }
  checkKeys(options, SERVE_KEYS, "serve(options)");
  const listener = yield* listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 0 });
  try {
    // Its options were checked above: the limits among them are the server's.
    const server = new HttpServer(listener, options.handler, options);
    yield* server.start();
    return server;
  } catch (error) {
    yield* listener.close(); // a bad handler or limit: the port is not kept
    throw error;
  }
}

/** Options of listen() that serve() does not pass on (it listens on hostname:port only). */
const LISTEN_ONLY = ["tls", "handshakeTimeout", "unix", "reusePort", "highWaterMark", "closeLingerMs"] as const;

/** serve()'s own keys and the server's limits (a listener's are refused above with their own message). */
const SERVE_KEYS = [...Object.keys({ hostname: 1, port: 1, handler: 1 } satisfies Record<Exclude<keyof ServeOptions, keyof HttpServerOptions>, 1>), ...SERVER_KEYS];

/** A handler is a generator function: an async function (or async generator) would answer every request with a 500. */
function checkHandler(handler: unknown, where: string): void {
  if (typeof handler !== "function") throw new TypeError(`${where}: handler must be a generator function (function* (req) {...}), got ${typeof handler}`);
  if (isAsyncFunction(handler)) {
    throw new TypeError(`${where}: handler is an async function; write it as function* (req) {...} and wait for promises in it with yield* wait(p)`);
  }
}
