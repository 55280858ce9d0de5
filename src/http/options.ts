/**
 * The option and counter types of corun's HTTP client and server, in one place.
 * Types only (and the request handler type they mention); imports nothing at run time.
 */
import type { HttpHandler, HttpRequest } from "./request.ts";
import type { PoolStats } from "./pool.ts";
import type { BodyInit } from "./outgoing-body.ts";
import type { StreamBody } from "./stream-body.ts";

/**
 * Limits of a server (all optional).
 *
 * @example
 * ```typescript
 * const server = yield* httpServer(listener, handler, { maxBodyBytes: 64 * 1024, headerTimeout: 5000 });
 * ```
 */
export interface HttpServerOptions {
  /** Most bytes of a request head (request line + headers); more → 431 and close. Default 16 KiB. */
  maxHeaderBytes?: number | undefined;
  /** Most bytes of a request body; more → 413 and close. Default 1 MiB. */
  maxBodyBytes?: number | undefined;
  /**
   * Milliseconds a client has to send a complete request head, counted from when the server
   * starts waiting for it (also bounds idle keep-alive connections). Default 10,000.
   */
  headerTimeout?: number | undefined;
  /**
   * Milliseconds a client has to send a request body once the handler asks for it: the time
   * the handler's reads (`req.body()`, `req.read()`) spend waiting for it, in all. Past it, a
   * waiting read is cut off by resetting the connection, and a read that starts with no time
   * left throws `HttpError` TIMEOUT (answered 408). Also how long a client may take to accept
   * a response, or a streamed body's piece. Default 30,000.
   */
  bodyTimeout?: number | undefined;
  /**
   * Most connections open at once. At the cap a new connection is reset as soon as it is
   * accepted, before any request (counted in `server.refused`). Default: no limit.
   */
  maxConnections?: number | undefined;
  /**
   * Limits of one request's own, for the routes that need other ones than the server's (an
   * upload route taking more, or longer): called with each request, after its head and before
   * the handler (so a `Content-Length` over its own `maxBodyBytes` is still answered 413
   * before the body is read). What it leaves out, or `undefined`, is the server's. If it
   * throws, or gives something other than such an object (or `undefined`), or a limit that is no
   * finite number > 0, the request is answered 500 and the error goes to `onError`. It must be a
   * plain function (not async, not a generator): anything else is refused at `serve()`. A `bodyTimeout` given here is served at the server's granularity
   * (an eighth of its smaller timeout, between 5 and 250 ms).
   *
   * @example
   * ```ts
   * import { run, serve } from "corun";
   * await run(function* () {
   *   const server = yield* serve({
   *     port: 0,
   *     maxBodyBytes: 64 * 1024,
   *     limitsFor: (req) => (req.path === "/upload" ? { maxBodyBytes: 1 << 30, bodyTimeout: 600_000 } : undefined),
   *     handler: function* (req) { return `${(yield* req.body()).length} bytes`; },
   *   });
   *   yield* server.close();
   * });
   * ```
   */
  limitsFor?: ((req: HttpRequest) => RequestLimits | undefined) | undefined;
  /**
   * Called with an error a handler let out, and the request; the client gets a 500 (or, if a
   * streamed body had begun, the connection is reset). (The
   * `HttpError` that `req.body()` or `req.read()` throws for the request's own fault, a body over the limit
   * or too slow, is answered with its status instead, and not passed here.) Default: none
   * (the error is counted in `server.handlerErrors`).
   */
  onError?: ((error: unknown, req: HttpRequest) => void) | undefined;
}

/**
 * One request's own body limits, from `limitsFor` (each optional: the server's otherwise).
 *
 * @example
 * ```ts
 * import type { RequestLimits } from "corun";
 * const upload: RequestLimits = { maxBodyBytes: 1 << 30, bodyTimeout: 600_000 };
 * ```
 */
export interface RequestLimits {
  /** Most bytes of this request's body; more → 413 and close. */
  maxBodyBytes?: number | undefined;
  /** As the server's `bodyTimeout`, for this request's body and its response. */
  bodyTimeout?: number | undefined;
}

/**
 * Options of `serve()`: where to listen, the handler, and the limits.
 *
 * @example
 * ```typescript
 * const server = yield* serve({ hostname: "127.0.0.1", port: 8080, handler, maxHeaderBytes: 8192 });
 * ```
 */
export interface ServeOptions extends HttpServerOptions {
  /** Interface to bind; default `"127.0.0.1"`. */
  hostname?: string | undefined;
  /** Port; 0 (the default) picks a free one — read it from `server.port`. */
  port?: number | undefined;
  /** Called for every request, in the connection's task. */
  handler: HttpHandler;
}

/**
 * Options of one request.
 *
 * @example
 * ```typescript
 * yield* request(url, { method: "PUT", headers: { "content-type": "application/json" }, body: "{}", timeout: 5000 });
 * ```
 */
export interface RequestOptions {
  /** Default `GET`. */
  method?: string | undefined;
  /** Header fields to send (`host`, framing and `connection` are set for you); a list is sent once per value, a field whose value is `undefined` not at all. */
  headers?: Record<string, string | readonly string[] | undefined> | undefined;
  /**
   * Text (UTF-8), bytes, a sequence of chunks (sent chunked over HTTP/1.1, gathered first), or
   * a function writing it as it goes (`function* (out) { yield* out.write(...) }`: streamed,
   * chunked or by a `content-length` header you set; such a request is never sent again).
   */
  body?: BodyInit | StreamBody | undefined;
  /** Send an HTTP/1.0 request on a connection of its own, closed after the response. */
  http10?: boolean | undefined;
  /** Reuse connections (default true); false sends `connection: close`. */
  keepAlive?: boolean | undefined;
  /** Milliseconds for the whole exchange (waiting for a connection included); 0 for none. Default: the client's. */
  timeout?: number | undefined;
}

/**
 * Options of an `HttpClient`.
 *
 * @example
 * ```typescript
 * const client = new HttpClient({ maxConnectionsPerHost: 32, timeout: 10_000, maxBodyBytes: 1 << 20 });
 * ```
 */
export interface HttpClientOptions {
  /** Most connections open at once to one `host:port`; more requests wait. Default 256. */
  maxConnectionsPerHost?: number | undefined;
  /** Default timeout of a request in ms (0: none). Default 30,000. */
  timeout?: number | undefined;
  /**
   * Milliseconds a keep-alive connection may stay idle in the pool; then it is closed (up to
   * half a second later). Default 4,000: below the usual server keep-alive timeouts, so a
   * server seldom closes one just as a request takes it.
   */
  idleTimeout?: number | undefined;
  /** Most bytes of a response head. Default 64 KiB. */
  maxHeaderBytes?: number | undefined;
  /** Most bytes of a response body. Default 16 MiB. */
  maxBodyBytes?: number | undefined;
}

/**
 * Counters of a client, from `client.stats()`.
 *
 * @example
 * ```typescript
 * const { requests, connects, reused } = client.stats(); // reused / requests: how well keep-alive works
 * ```
 */
export interface HttpClientStats extends PoolStats {
  /** Requests whose response was read (any status; one whose task was cancelled just after counts too; for `requestStream`, those whose `use` returned). */
  requests: number;
  /** Connections opened. */
  connects: number;
  /** Requests sent on a reused keep-alive connection. */
  reused: number;
  /** Requests retried on a fresh connection because a reused one had gone stale. */
  retries: number;
}
