/**
 * HttpRequest: what a server handler receives — method, target, headers, and a body read on
 * demand (once, capped, answering `Expect: 100-continue`). Also the handler's response type.
 * Built on Conn and the body readers; imports no Bun API.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { readBody, type BodyInit, type Framing } from "./body.ts";
import { trimOws, type Fields, type HttpHeaders, type RequestHead } from "./head.ts";
import { HttpCode, HttpError } from "./errors.ts";
import type { Deadline } from "./watchdog.ts";

/** @internal how the server bounds the time a body takes: arm a deadline that closes the connection. */
export interface BodyGuard {
  arm(): Co<Deadline>;
  disarm(d: Deadline): void;
  /** Write an interim response (100 Continue): a client that does not take it in time is cut off. */
  send(payload: string): Co<void>;
}

const decoder = new TextDecoder();

/**
 * What a handler returns: a status (default 200), headers, and a body — text (sent as
 * UTF-8, `text/plain` unless you set `content-type`), bytes, or a sequence of chunks (sent
 * with chunked coding to HTTP/1.1 clients). A plain string is a 200 text response.
 *
 * @example
 * ```typescript
 * return { status: 404, headers: { "content-type": "text/html" }, body: "<h1>gone</h1>" };
 * ```
 */
export type HttpResponseInit =
  | string
  | {
      status?: number;
      statusText?: string;
      headers?: Record<string, string>;
      body?: BodyInit;
    };

/**
 * A request handler: a coroutine from request to response. It runs in the connection's task.
 *
 * @example
 * ```typescript
 * const handler: HttpHandler = function* (req) { return `you asked for ${req.path}`; };
 * ```
 */
export type HttpHandler = (req: HttpRequest) => Co<HttpResponseInit>;

/**
 * A request as a server handler sees it. The body is not read until you ask for it
 * (`yield* req.text()`); a body left unread closes the connection after the response.
 *
 * @example
 * ```ts
 * import { run, serve, request } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* (req) {
 *     return { status: 201, body: `${req.method} ${req.path} ${yield* req.text()}` };
 *   } });
 *   const res = yield* request(`${server.url}/things?x=1`, { method: "POST", body: "hi" });
 *   console.log(res.status, res.text()); // 201 POST /things hi
 *   yield* server.close();
 * });
 * ```
 */
export class HttpRequest {
  /** `GET`, `POST`, ... as sent. */
  readonly method: string;
  /** The request target as sent, e.g. `/search?q=1` (or `http://host/search?q=1`, absolute-form). */
  readonly url: string;
  /** The target's path without its query, e.g. `/search` (also for an absolute-form target). */
  readonly path: string;
  /** The host asked for: an absolute-form target's authority, else the `Host` header ("" for none). */
  readonly host: string;
  /** The query without `?`, e.g. `q=1` (empty if none). */
  readonly query: string;
  /** `"1.0"` or `"1.1"`. */
  readonly version: "1.0" | "1.1";
  /** @internal the header section (framing fields at hand, the rest parsed on first read). */
  readonly fields: Fields;
  readonly #conn: Conn;
  readonly #framing: Framing;
  readonly #max: number;
  readonly #guard: BodyGuard | undefined;
  #body: Uint8Array | undefined = undefined;
  #reading = false;
  #failure: { error: unknown } | undefined = undefined;

  /** @internal made by the server. */
  constructor(head: RequestHead, conn: Conn, framing: Framing, maxBody: number, guard?: BodyGuard) {
    this.#guard = guard;
    this.method = head.method;
    this.url = head.target;
    this.host = head.host;
    const rest = head.pathAt === 0 ? head.target : head.target.slice(head.pathAt);
    const q = rest.indexOf("?");
    this.path = (q < 0 ? rest : rest.slice(0, q)) || "/";
    this.query = q < 0 ? "" : rest.slice(q + 1);
    this.version = head.minor === 1 ? "1.1" : "1.0";
    this.fields = head.fields;
    this.#conn = conn;
    this.#framing = framing;
    this.#max = maxBody;
    if (framing.kind === "none") this.#body = EMPTY;
  }

  /** The client's address (read from the socket on first use; "" if it is gone by then). */
  get remoteAddress(): string {
    return this.#conn.remoteAddress;
  }

  /** Header fields, names in lower case (repeated fields joined with ", "). Parsed on first read. */
  get headers(): HttpHeaders {
    return this.fields.all;
  }

  /** True once the body was read whole (always true for a request without a body). */
  get bodyRead(): boolean {
    return this.#body !== undefined;
  }

  /**
   * The whole body as bytes (read once; later calls return the same bytes). Throws
   * `HttpError` BODY_TOO_LARGE past the server's `maxBodyBytes`, which answers 413.
   *
   * @example
   * ```typescript
   * const bytes = yield* req.body();
   * ```
   */
  *body(): Co<Uint8Array> {
    if (this.#body !== undefined) return this.#body;
    if (this.#failure !== undefined) throw this.#failure.error;
    if (this.#reading) throw new Error(`HttpRequest.body(): the body of ${this.method} ${this.url} is already being read`);
    this.#reading = true;
    try {
      const expect = this.fields.known.expect;
      // The field may repeat (joined with commas): any 100-continue in it asks for the 100.
      if (expect !== undefined && this.version === "1.1" && expect.toLowerCase().split(",").some((t) => trimOws(t) === "100-continue")) {
        const go = "HTTP/1.1 100 Continue\r\n\r\n";
        yield* this.#guard === undefined ? this.#conn.write(go) : this.#guard.send(go);
      }
      const deadline = this.#guard === undefined ? undefined : yield* this.#guard.arm();
      let body: Uint8Array;
      try {
        body = yield* readBody(this.#conn, this.#framing, this.#max);
      } catch (error) {
        if (deadline?.expired) throw new HttpError(HttpCode.Timeout, `the body of ${this.method} ${this.url} took too long`, this.remoteAddress);
        throw error;
      } finally {
        if (deadline !== undefined) this.#guard!.disarm(deadline);
      }
      // Read whole just as the deadline closed the connection: no answer could reach the client.
      if (deadline?.expired) throw new HttpError(HttpCode.Timeout, `the body of ${this.method} ${this.url} took too long`, this.remoteAddress);
      this.#body = body;
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
    return this.#body;
  }

  /**
   * @internal the error `body()` threw, if it did (the request's own failure: the server
   * answers it with that error's status, where a handler's other errors are a 500).
   */
  get failure(): { error: unknown } | undefined {
    return this.#failure;
  }

  /**
   * The body decoded as UTF-8 text.
   *
   * @example
   * ```typescript
   * const text = yield* req.text();
   * ```
   */
  *text(): Co<string> {
    return decoder.decode(yield* this.body());
  }

  /**
   * The body parsed as JSON (throws `SyntaxError` if it is not JSON).
   *
   * @example
   * ```typescript
   * const { name } = yield* req.json<{ name: string }>();
   * ```
   */
  *json<T = unknown>(): Co<T> {
    return JSON.parse(yield* this.text()) as T;
  }

  /** `GET /path` */
  toString(): string {
    return `${this.method} ${this.url}`;
  }
}

const EMPTY = new Uint8Array(0);
