/**
 * HttpRequest: what a server handler receives — method, target, headers, and a body read on
 * demand, whole or piece by piece (once, capped, answering `Expect: 100-continue`). Also the
 * handler's response type.
 * Built on Conn and the body readers; imports no Bun API.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { BodyReader, type Framing } from "./body.ts";
import type { BodyInit } from "./outgoing-body.ts";
import { concatBytes } from "../bytes.ts";
import type { StreamBody } from "./stream-body.ts";
import type { RequestHead } from "./head.ts";
import { trimOws, type Fields, type HttpHeaders } from "./fields.ts";
import { HttpCode, HttpError, requestFailure } from "./errors.ts";
import { Cancelled } from "../errors.ts";
import { current } from "../syscalls.ts";
import type { Deadline } from "./watchdog.ts";

/** Not for users: how the server bounds the time a body takes: `ms` of waiting in all; a deadline armed for a read closes the connection when it passes. */
export interface BodyGuard {
  readonly ms: number;
  arm(ms: number): Co<Deadline>;
  disarm(d: Deadline): void;
  /** Write an interim response (100 Continue): a client that does not take it in time is cut off. */
  send(payload: string): Co<void>;
}

const decoder = new TextDecoder();

/**
 * What a handler returns: a status (default 200), headers, and a body — text (sent as
 * UTF-8, `text/plain` unless you set `content-type`), bytes, a sequence of chunks (sent
 * with chunked coding to HTTP/1.1 clients), or a function writing it as it goes (a
 * `StreamBody`). A plain string is a 200 text response.
 *
 * @example
 * ```typescript
 * return { status: 404, headers: { "content-type": "text/html" }, body: "<h1>gone</h1>" };
 * ```
 */
export type HttpResponseInit =
  | string
  | {
      status?: number | undefined;
      statusText?: string | undefined;
      /**
       * A list sends the field once per value, in order (several `set-cookie`, say); a field
       * whose value is `undefined` is not sent (`{ "x-trace": id }` with no id), so handlers
       * whose returns name different fields type-check as one.
       */
      headers?: Record<string, string | readonly string[] | undefined> | undefined;
      body?: BodyInit | StreamBody | undefined;
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

/** @internal the key of `HttpRequest`'s method the server gives it its own limits with (not exported from the package). */
export const SET_LIMITS: unique symbol = Symbol("corun.http.setLimits");

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
  #max: number;
  #guard: BodyGuard | undefined;
  #body: Uint8Array | undefined = undefined;
  /** Set once the body is read: whole by `body()`, or piece by piece by `read()`. */
  #reader: BodyReader | undefined = undefined;
  /** Milliseconds spent waiting for the client in reads (counted against `bodyTimeout`). */
  #waited = 0;
  #answered = false;
  /** What `body()` has read so far, once it has begun. */
  #gathered: Uint8Array[] | undefined = undefined;
  #reading = false;
  #failure: { error: unknown } | undefined = undefined;

  /** Not for users: made by the server. */
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

  /** @internal the server's `limitsFor` gave this request limits of its own (before the handler runs; a symbol, so no handler can call it). */
  [SET_LIMITS](maxBody: number, guard: BodyGuard | undefined): void {
    this.#max = maxBody;
    this.#guard = guard;
  }

  /** The client's address (read from the socket on first use; "" if it is gone by then). */
  get remoteAddress(): string {
    return this.#conn.remoteAddress;
  }

  /** Header fields, names in lower case (repeated fields joined with ", "). Parsed on first read. */
  get headers(): HttpHeaders {
    return this.fields.all;
  }

  /**
   * Every value of the header `name` (any case), one per field line, in the order received;
   * `[]` if absent. For fields whose values may hold commas, which `headers` would run together.
   *
   * @example
   * ```ts
   * const hops = req.headerValues("forwarded"); // ["for=192.0.2.60", "for=198.51.100.17"]
   * ```
   */
  headerValues(name: string): string[] {
    return this.fields.values(name);
  }

  /** True once the body was read to its end, by `body()` or `read()` (always true for a request without a body). */
  get bodyRead(): boolean {
    return this.#body !== undefined || this.#reader?.done === true;
  }

  /**
   * The whole body as bytes (read once; later calls return the same bytes). Throws
   * `HttpError` BODY_TOO_LARGE past the server's `maxBodyBytes`, which answers 413. Not after
   * `read()`: a body is read whole or piece by piece.
   *
   * @example
   * ```typescript
   * const bytes = yield* req.body();
   * ```
   */
  *body(): Co<Uint8Array> {
    if (this.#body !== undefined) return this.#body;
    if (this.#gathered === undefined) {
      if (this.#reader !== undefined && this.#failure === undefined) throw new Error(`HttpRequest.body(): the body of ${this} is being read piece by piece with read() (body() reads it whole, from its start)`);
      this.#gathered = [];
    }
    // Kept on the request: a body() cut short (the handler's own time limit) goes on where it stopped.
    const chunks = this.#gathered;
    for (let b = yield* this.#next("body"); b !== null; b = yield* this.#next("body")) chunks.push(b);
    this.#body = concatBytes(chunks, this.#reader!.received);
    this.#gathered = [];
    return this.#body;
  }

  /**
   * The body piece by piece, as it arrives: each call returns the bytes that came next (a
   * view of them, any size), then null at the body's end. For a body too large to hold, or to
   * handle while it arrives (an upload written to a file as it comes). The same limits as
   * `body()`: `maxBodyBytes` in all, and `bodyTimeout` for the whole body; a request whose
   * body was not read to the end closes its connection after the response. After `body()`,
   * it returns null.
   *
   * @example
   * ```typescript
   * const file = yield* open("/tmp/upload", "w");
   * for (let b = yield* req.read(); b !== null; b = yield* req.read()) yield* file.write(b);
   * yield* file.close();
   * ```
   */
  *read(): Co<Uint8Array | null> {
    if (this.#body !== undefined) return null;
    if (this.#gathered !== undefined && this.#failure === undefined) throw new Error(`HttpRequest.read(): the body of ${this} is being read whole with body() (a body() cut short goes on with body())`);
    return yield* this.#next("read");
  }

  /**
   * The next piece of the body, or null at its end. The first call sends a 100 Continue if
   * asked (unless the response has begun). Each call waits for the client within what is left
   * of `bodyTimeout`: the time spent waiting in reads counts, not the handler's between them.
   */
  *#next(op: string): Co<Uint8Array | null> {
    if (this.#failure !== undefined) throw this.#failure.error;
    if (this.#reader?.done === true) return null;
    if (this.#reading) throw new Error(`HttpRequest.${op}(): the body of ${this} is already being read`);
    this.#reading = true;
    try {
      if (this.#reader === undefined) {
        this.#reader = new BodyReader(this.#conn, this.#framing, this.#max);
        const expect = this.fields.known.expect;
        // The field may repeat (joined with commas): any 100-continue in it asks for the 100.
        if (!this.#answered && expect !== undefined && this.version === "1.1" && expect.toLowerCase().split(",").some((t) => trimOws(t) === "100-continue")) {
          const go = "HTTP/1.1 100 Continue\r\n\r\n";
          yield* this.#guard === undefined ? this.#conn.write(go) : this.#guard.send(go);
        }
      }
      const guard = this.#guard;
      if (guard === undefined) return yield* this.#reader.read();
      const left = guard.ms - this.#waited;
      if (left <= 0) throw this.#timedOut();
      const clock = (yield* current()).owner;
      const t0 = clock.clock();
      // Past it, the connection is closed under the waiting read.
      const deadline = yield* guard.arm(left);
      let b: Uint8Array | null;
      try {
        b = yield* this.#reader.read();
      } catch (error) {
        if (deadline.expired) throw this.#timedOut();
        throw error;
      } finally {
        guard.disarm(deadline);
        this.#waited += clock.clock() - t0;
      }
      // Read just as the deadline closed the connection: no answer could reach the client.
      if (deadline.expired) throw this.#timedOut();
      return b;
    } catch (error) {
      // A cancelled read (a time limit of the handler's own) leaves the body readable; other errors stick.
      if (!(error instanceof Cancelled)) this.#failure = requestFailure(error);
      throw error;
    } finally {
      this.#reading = false;
    }
  }

  #timedOut(): HttpError {
    return new HttpError(HttpCode.Timeout, `the body of ${this} took too long`, this.remoteAddress);
  }

  /** @internal the response has begun: no 100 Continue may follow. */
  answered(): void {
    this.#answered = true;
  }

  /**
   * @internal the error `body()` or `read()` threw, if one did (the request's own failure: the server
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
   * The body parsed as JSON. A body that is no JSON throws `HttpError` BAD_BODY (its `cause`
   * the `SyntaxError`), which the server answers with a 400 if the handler lets it out.
   *
   * @example
   * ```typescript
   * const { name } = yield* req.json<{ name: string }>();
   * ```
   */
  *json<T = unknown>(): Co<T> {
    const text = yield* this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      // The client's fault, not the handler's: answered 400 unless the handler catches it.
      const bad = new HttpError(HttpCode.BadBody, `the body of ${this} is not JSON (${error instanceof Error ? error.message : String(error)})`, this.remoteAddress, "", error);
      this.#failure = requestFailure(bad);
      throw bad;
    }
  }

  /** `GET /path` */
  toString(): string {
    return `${this.method} ${this.url}`;
  }
}

const EMPTY = new Uint8Array(0);
