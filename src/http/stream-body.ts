/**
 * Streamed response bodies: a handler gives its body as a coroutine that writes it piece by
 * piece (`body: function* (out) { yield* out.write(...) }`), and the server sends each piece
 * as it is written — chunked, by a Content-Length the handler set, or until the connection
 * closes (HTTP/1.0) — with the head going out with the first piece. Imports no Bun API.
 */
import type { Co } from "../types.ts";
import { NetError } from "../net/errors.ts";
import { byteLength, chunk, LAST_CHUNK } from "./body.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { join } from "./response.ts";

/**
 * A response body written by a coroutine as it goes: for a body too large to hold, produced
 * over time (server-sent events, a log tail), or copied from elsewhere (a file, an upstream).
 * Each `yield* out.write(data)` returns once the client's connection has taken the bytes.
 *
 * @example
 * ```ts
 * import { run, serve, request, sleep } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* () {
 *     return { body: function* (out) {
 *       for (let i = 1; i <= 3; i++) { yield* out.write(`tick ${i}\n`); yield* sleep(1); }
 *     } };
 *   } });
 *   console.log((yield* request(server.url)).text()); // tick 1\ntick 2\ntick 3\n (as one string)
 *   yield* server.close();
 * });
 * ```
 */
export type StreamBody = (out: BodyWriter) => Co<void>;

/** How a streamed body ends on the wire. */
export type StreamFraming = "chunked" | "length" | "close";

/**
 * The writer a `StreamBody` gets. Writes go out as they are made (each waits until the
 * connection took its bytes, so a slow client slows the writer down, and one that stops
 * taking them for the server's `bodyTimeout` is cut off: the write throws `NetError`).
 *
 * @example
 * ```typescript
 * return { headers: { "content-length": "10" }, body: function* (out) {
 *   yield* out.write("0123456789"); // exactly the Content-Length set: more throws, fewer cuts the response off
 * } };
 * ```
 */
export class BodyWriter {
  readonly #send: (payload: string | Uint8Array) => Co<void>;
  readonly #framing: StreamFraming;
  readonly #length: number;
  #head: string | undefined;
  #writing = false;
  #ended = false;
  /** Body bytes written so far. */
  written = 0;
  /** @internal the connection's error a write threw (the client went away or stopped reading). */
  failure: NetError | undefined = undefined;

  /** @internal made by the server, with the response head to send first. */
  constructor(head: string, framing: StreamFraming, length: number, send: (payload: string | Uint8Array) => Co<void>) {
    this.#head = head;
    this.#framing = framing;
    this.#length = length;
    this.#send = send;
  }

  /** @internal true once the head has gone out (an error can no longer be answered with a 500). */
  get headSent(): boolean {
    return this.#head === undefined;
  }

  /**
   * Send `data` (text as UTF-8, or bytes) as the next piece of the body. An empty piece is
   * skipped. Throws `HttpError` BAD_ARGUMENT if it would go past the Content-Length the
   * handler set, and `NetError` if the client has gone.
   */
  *write(data: string | Uint8Array): Co<void> {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) throw new TypeError(`BodyWriter.write: expected a string or a Uint8Array, got ${data === null ? "null" : typeof data}`);
    if (this.#ended) throw new Error("BodyWriter.write: the response has ended (a body's writer is used only while its function runs)");
    if (this.#writing) throw new Error("BodyWriter.write: another write is in progress (write from one task, one piece at a time)");
    const n = byteLength(data);
    if (n === 0) return;
    if (this.#framing === "length" && this.written + n > this.#length) {
      throw new HttpError(HttpCode.BadArgument, `a streamed body wrote ${this.written + n} bytes, more than its Content-Length of ${this.#length}`);
    }
    const parts: (string | Uint8Array)[] = this.#framing === "chunked" ? chunk(data) : [data];
    yield* this.#out(parts);
    this.written += n;
  }

  /** @internal the body's function returned: send its end (the head too, if nothing was written). */
  *end(): Co<void> {
    if (this.#framing === "length" && this.written !== this.#length) {
      throw new HttpError(HttpCode.BadArgument, `a streamed body wrote ${this.written} bytes, fewer than its Content-Length of ${this.#length}`);
    }
    if (this.#framing === "chunked") yield* this.#out([LAST_CHUNK]);
    else if (this.#head !== undefined) yield* this.#out([]);
    this.#ended = true;
  }

  /** @internal the exchange is over: later writes are errors. */
  close(): void {
    this.#ended = true;
  }

  *#out(parts: (string | Uint8Array)[]): Co<void> {
    if (this.#head !== undefined) {
      parts.unshift(this.#head);
      this.#head = undefined;
    }
    this.#writing = true;
    try {
      yield* this.#send(join(parts));
    } catch (error) {
      if (error instanceof NetError) this.failure = error;
      throw error;
    } finally {
      this.#writing = false;
    }
  }
}
