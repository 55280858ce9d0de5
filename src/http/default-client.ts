/**
 * `request()` and `requestStream()`: HTTP requests through the default client of the running
 * scheduler (one per `run()`, shared by all its tasks). Imports no Bun API.
 */
import { current } from "../syscalls.ts";
import type { Co } from "../types.ts";
import { HttpClient } from "./client.ts";
import type { RequestOptions } from "./options.ts";
import type { HttpResponse } from "./response-object.ts";
import type { StreamedResponse } from "./streamed-response.ts";

const defaults = new WeakMap<object, HttpClient>();

/** The default client of the calling task's scheduler (made on first use). */
function* defaultClient(): Co<HttpClient> {
  // One default client per scheduler: every task of a run() shares its pool, also those
  // started from outside with scheduler.spawn() (each of which is a root of its own).
  const scheduler = (yield* current()).owner;
  let client = defaults.get(scheduler);
  if (client === undefined) defaults.set(scheduler, (client = new HttpClient()));
  return client;
}

/**
 * Send one HTTP request with the default client of this `run()` (keep-alive pool, 256
 * connections per host, 30 s timeout) and read the whole response.
 *
 * @example
 * ```ts
 * import { run, serve, request } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* (req) { return { body: `you sent ${yield* req.text()}` }; } });
 *   const res = yield* request(`${server.url}/echo`, { method: "POST", body: "abc", timeout: 2000 });
 *   console.log(res.status, res.text()); // 200 you sent abc
 *   const old = yield* request(server.url, { http10: true });
 *   console.log(old.version); // 1.1
 *   yield* server.close();
 * });
 * ```
 */
export function* request(url: string | URL, options?: RequestOptions): Co<HttpResponse> {
  return yield* (yield* defaultClient()).request(url, options);
}

/**
 * Send one HTTP request with the default client of this `run()` and hand the response to
 * `use` with its body unread, to read piece by piece as it arrives (see
 * `HttpClient.requestStream`). Returns what `use` returns.
 *
 * @example
 * ```ts
 * import { run, serve, requestStream } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ handler: function* () { return { body: ["one ", "two"] }; } });
 *   const text = yield* requestStream(server.url, {}, function* (res) {
 *     let s = "";
 *     for (let b = yield* res.read(); b !== null; b = yield* res.read()) s += new TextDecoder().decode(b);
 *     return s;
 *   });
 *   console.log(text); // one two
 *   yield* server.close();
 * });
 * ```
 */
export function* requestStream<T>(url: string | URL, options: RequestOptions, use: (res: StreamedResponse) => Co<T>): Co<T> {
  return yield* (yield* defaultClient()).requestStream(url, options, use);
}
