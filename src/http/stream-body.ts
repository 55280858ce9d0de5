/**
 * Streamed response bodies: a handler gives its body as a coroutine that writes it piece by
 * piece (`body: function* (out) { yield* out.write(...) }`), and the server sends each piece
 * as it is written — chunked, by a Content-Length the handler set, or until the connection
 * closes (HTTP/1.0) — with the head going out with the first piece. Imports no Bun API.
 */
import type { Co, Yieldable } from "../types.ts";
import { NetError } from "../net/errors.ts";
import { describe, ignoreRejection, isCoroutine } from "../syscall.ts";
import { byteLength, chunk, LAST_CHUNK } from "./outgoing-body.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { connectionField, join } from "./response.ts";
import { wireHead } from "./wire-head.ts";

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

/** Not for users: a streamed response's head, as far as it is known before its first piece goes out. */
export interface StreamHead {
  /** Status line and fields, without the connection field and the blank line. */
  text: string;
  framing: StreamFraming;
  /** The Content-Length, for "length". */
  length: number;
  /** The connection may stay open, if the request's body is read by the time the head goes out. */
  keepAlive: boolean;
  /** The request's minor version (0: a kept connection is announced). */
  minor: number;
}

/** Not for users: what the server gives a streamed body's sender. */
export interface StreamHooks {
  send(payload: string | Uint8Array): Co<void>;
  /** The request's body has been read to its end. */
  bodyRead(): boolean;
  /** The head is going out (the response has begun). */
  onHead(): void;
  /** The server is closing (an endless stream should end). */
  closing(): boolean;
}

/** Not for users: the server's side of a streamed body: framing, the head, the checks. */
export class StreamOut {
  readonly #head: StreamHead;
  readonly #hooks: StreamHooks;
  #headSent = false;
  #writing = false;
  #ended = false;
  /** A send failed or was cut short (a cancel at its yield): what reached the client is unknown, so the response cannot go on. */
  #broken = false;
  /** Body bytes written so far. */
  written = 0;
  /** The connection's error a write threw (the client went away or stopped reading). */
  failure: NetError | undefined = undefined;
  /** Whether the head announced a kept connection (decided as it goes out). */
  keepAlive = false;
  /** Writes made (`out.write(...)` called), and writes begun (yielded): fewer begun is a forgotten `yield*`. */
  made = 0;
  begun = 0;

  constructor(head: StreamHead, hooks: StreamHooks) {
    this.#head = head;
    this.#hooks = hooks;
  }

  /** True once the head has gone out (an error can no longer be answered with a 500). */
  get headSent(): boolean {
    return this.#headSent;
  }

  /** The server is closing. */
  get closing(): boolean {
    return this.#hooks.closing();
  }

  *write(data: string | Uint8Array): Co<void> {
    this.begun++;
    if (typeof data !== "string" && !(data instanceof Uint8Array)) throw new HttpError(HttpCode.BadArgument, `BodyWriter.write: expected a string or a Uint8Array, got ${describe(data)}`);
    if (this.#ended) throw new Error("BodyWriter.write: the response has ended (a body's writer is used only while its function runs)");
    if (this.#writing) throw new Error("BodyWriter.write: another write is in progress (write from one task, one piece at a time)");
    if (this.#broken) throw new Error("BodyWriter.write: an earlier write failed or was cut short (cancelled), so the response cannot go on");
    const n = byteLength(data);
    if (n === 0) {
      if (!this.#headSent) yield* this.#out([]); // the head, now
      return;
    }
    if (this.#head.framing === "length" && this.written + n > this.#head.length) {
      throw new HttpError(HttpCode.BadArgument, `a streamed body wrote ${this.written + n} bytes, more than its Content-Length of ${this.#head.length}`);
    }
    yield* this.#out(this.#head.framing === "chunked" ? chunk(data) : [data]);
    this.written += n;
  }

  /** The body's function returned: send its end (the head too, if nothing was written). */
  *end(): Co<void> {
    if (this.#ended) return;
    // The server resets the connection: the client must not take a broken response for a whole one.
    if (this.#broken) throw new Error("a streamed body's write failed or was cut short (cancelled): the response is cut off");
    if (this.#head.framing === "length" && this.written !== this.#head.length) {
      throw new HttpError(HttpCode.BadArgument, `a streamed body wrote ${this.written} bytes, fewer than its Content-Length of ${this.#head.length}`);
    }
    if (this.#head.framing === "chunked") yield* this.#out([LAST_CHUNK]);
    else if (!this.#headSent) yield* this.#out([]);
    this.#ended = true;
  }

  /** The exchange is over: later writes are errors. */
  close(): void {
    this.#ended = true;
  }

  /** Run the body's function with a writer on this, then end the body. */
  *run(body: StreamBody): Co<void> {
    yield* runStreamBody(body, new BodyWriter(this));
    if (this.begun < this.made) {
      const n = this.made - this.begun;
      throw new HttpError(HttpCode.BadArgument, `a streamed body's function made ${n} write${n === 1 ? "" : "s"} it never yielded: write yield* out.write(data)`);
    }
    yield* this.end(); // which ends it: later writes are errors
  }

  *#out(parts: (string | Uint8Array)[]): Co<void> {
    if (!this.#headSent) {
      // Decided now: a request body read by now lets the connection stay open.
      const h = this.#head;
      this.keepAlive = h.keepAlive && this.#hooks.bodyRead();
      parts.unshift(wireHead(h.text + connectionField(this.keepAlive, h.minor) + "\r\n"));
      this.#headSent = true;
      this.#hooks.onHead();
    }
    this.#writing = true;
    try {
      yield* this.#hooks.send(join(parts));
    } catch (error) {
      if (error instanceof NetError) this.failure = error;
      this.#broken = true;
      throw error;
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * The writer a `StreamBody` gets. Writes go out as they are made: each waits until the
 * connection took its bytes, so a slow client slows the writer down, and one that does not
 * take a piece within the server's `bodyTimeout` is cut off (the write throws `NetError`).
 * The head goes out with the first piece; `write("")` sends it at once (an event stream
 * whose first event comes later).
 *
 * @example
 * ```typescript
 * return { headers: { "content-length": "10" }, body: function* (out) {
 *   yield* out.write("0123456789"); // exactly the Content-Length set: more throws, fewer cuts the response off
 * } };
 * ```
 */
export class BodyWriter {
  readonly #out: StreamOut;

  /** Not for users: made by the server. */
  constructor(out: StreamOut) {
    this.#out = out;
  }

  /** Body bytes written so far. */
  get written(): number {
    return this.#out.written;
  }

  /**
   * True once the server is closing (`server.close()`): an endless body (an event stream)
   * should end then, or `close()` waits for it for ever.
   */
  get closing(): boolean {
    return this.#out.closing;
  }

  /**
   * Send `data` (text as UTF-8, or bytes) as the next piece of the body; an empty one sends
   * only the head, if it has not gone out. Throws `HttpError` BAD_ARGUMENT for a value that
   * is no string or bytes, or one that would go past the Content-Length the handler set, and
   * `NetError` if the client has gone.
   */
  write(data: string | Uint8Array): Co<void> {
    this.#out.made++;
    return this.#out.write(data);
  }
}

/**
 * Run a streamed body's function with `writer`, checked: it must return a generator, and a
 * chunk it yields (a mistake for `yield* out.write(chunk)`) is thrown back into it as an
 * error that says so, instead of reaching the scheduler as an unknown yield.
 */
export function* runStreamBody(body: StreamBody, writer: BodyWriter): Co<void> {
  const made: unknown = body(writer);
  if (!isCoroutine(made)) {
    ignoreRejection(made); // the error below is the one to report, not its rejection later
    throw new HttpError(HttpCode.BadArgument, `a streamed body's function returned ${describe(made)}, not a generator: write it as function* (out) { yield* out.write(...) }`);
  }
  const gen = made;
  let r = gen.next();
  while (r.done !== true) {
    const y: unknown = r.value;
    if (typeof y === "string" || y instanceof Uint8Array) {
      r = gen.throw(new HttpError(HttpCode.BadArgument, `a streamed body's function yielded a chunk (${describe(y)}): send it with yield* out.write(chunk)`));
      continue;
    }
    let sent: unknown;
    try {
      sent = yield y as Yieldable;
    } catch (error) {
      r = gen.throw(error);
      continue;
    }
    r = gen.next(sent);
  }
}
