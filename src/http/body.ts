/**
 * Incoming HTTP/1.x bodies: how a message says its body ends (framing), and reading a body by
 * Content-Length, chunked coding or until close, a piece at a time or whole (capped).
 * Built on Conn's read/unread only; imports no Bun API. (Outgoing bodies: outgoing-body.ts.)
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { show } from "./head.ts";
import { trimOws, type HttpHeaders } from "./fields.ts";
import { concatBytes } from "../bytes.ts";

/** How a body is delimited: none, a byte count, chunked coding, or the end of the connection. */
export type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
const CLOSE: Framing = { kind: "close" };
const EMPTY = new Uint8Array(0);

function contentLength(headers: HttpHeaders): number | undefined {
  const v = headers["content-length"];
  if (v === undefined) return undefined;
  // "5, 5" (a repeated header) is allowed when every value agrees.
  const parts = v.split(",").map(trimOws);
  const first = parts[0]!;
  if (!/^\d{1,15}$/.test(first) || parts.some((p) => p !== first)) {
    throw new HttpError(HttpCode.BadContentLength, `invalid Content-Length ${show(v)}`);
  }
  return Number(first);
}

function isChunked(te: string): boolean {
  const codings = te.toLowerCase().split(",").map(trimOws);
  if (codings[codings.length - 1] !== "chunked") return false;
  if (codings.length > 1) throw new HttpError(HttpCode.UnsupportedEncoding, `Transfer-Encoding ${show(te)}: only "chunked" is supported`);
  return true;
}

/** The framing of a request body (RFC 9112 §6.3): none without Content-Length or Transfer-Encoding. */
export function requestFraming(headers: HttpHeaders): Framing {
  const te = headers["transfer-encoding"];
  if (te !== undefined) {
    if (headers["content-length"] !== undefined) {
      throw new HttpError(HttpCode.BadContentLength, "a request with both Content-Length and Transfer-Encoding");
    }
    // Chunked not last: the body's length cannot be known, so the request is refused (RFC 9112 §6.3).
    if (!isChunked(te)) throw new HttpError(HttpCode.BadTransferEncoding, `Transfer-Encoding ${show(te)} does not end in "chunked"`);
    return CHUNKED;
  }
  const n = contentLength(headers);
  return n === undefined || n === 0 ? NONE : { kind: "length", length: n };
}

/** The framing of a response body to a request with `method`. */
export function responseFraming(method: string, status: number, headers: HttpHeaders): Framing {
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return NONE;
  const te = headers["transfer-encoding"];
  if (te !== undefined) {
    // "identity" (no coding, from RFC 2616) changes nothing: alone, the body runs to the close.
    const coded = te.toLowerCase().split(",").map(trimOws).filter((c) => c !== "identity");
    if (coded.length === 0) return CLOSE;
    // Any other coding, chunked last or not (the body would run to the close), is one corun does
    // not decode: refused, not handed over still coded as if it were the content.
    if (coded.length > 1 || coded[0] !== "chunked") throw new HttpError(HttpCode.UnsupportedEncoding, `Transfer-Encoding ${show(te)}: only "chunked" is supported`);
    return CHUNKED;
  }
  const n = contentLength(headers);
  if (n === undefined) return CLOSE;
  return n === 0 ? NONE : { kind: "length", length: n };
}


function tooLarge(max: number): HttpError {
  return new HttpError(HttpCode.BodyTooLarge, `the body is larger than ${max} bytes`);
}

/**
 * One CRLF-terminated line of a chunked body, at most `max` bytes before its CRLF. A bare LF or CR is refused:
 * a proxy that ends these lines only at CRLF would frame the body differently (smuggling).
 */
function* line(conn: Conn, max: number, tooLong = `a chunk-size or trailer line longer than ${max} bytes`): Co<string> {
  let text = "";
  for (;;) {
    let b: Uint8Array | null;
    try {
      b = yield* conn.read();
    } catch (error) {
      // Cancelled (or failed) part way: what was taken of the line goes back, so a later read
      // of the body starts the line again instead of in its middle.
      if (text.length > 0) conn.unread(Uint8Array.from(text, (c) => c.charCodeAt(0)));
      throw error;
    }
    if (b === null) throw new HttpError(HttpCode.IncompleteBody, "the connection ended inside a chunked body");
    const nl = b.indexOf(10);
    const end = nl < 0 ? b.length : nl;
    // `max` bounds the line's text: its CR (required before the LF) is not counted.
    if (text.length + end > max + 1) throw new HttpError(HttpCode.BadChunk, tooLong);
    for (let i = 0; i < end; i++) text += String.fromCharCode(b[i]!);
    if (nl >= 0) {
      if (nl + 1 < b.length) conn.unread(b.subarray(nl + 1));
      const cr = text.indexOf("\r");
      if (cr < 0 || cr !== text.length - 1) throw new HttpError(HttpCode.BadChunk, cr < 0 ? "a chunk line ended with a bare LF (CRLF is required)" : "a bare CR inside a chunk line");
      return text.slice(0, -1);
    }
  }
}

/** Longest chunk-size line (the size and any extensions): extensions are ignored, so they get little room. */
const MAX_SIZE_LINE = 256;
/** A trailer field's start: a token, then a colon. */
const TRAILER = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/;
/** Most bytes of chunk extensions and trailer fields in one body (they are read and dropped). */
const MAX_IGNORED = 64 * 1024;

/** Where a BodyReader is in a chunked body. */
const enum Chunk {
  Size,
  Data,
  Crlf,
  Trailers,
}

/**
 * One message body read as it arrives: `read()` gives each piece of data (a view of the bytes
 * the connection received, at most `max` in all: BODY_TOO_LARGE past it), then null at the
 * body's end, having consumed its framing (a chunked body's last chunk and trailers). Chunk
 * extensions and trailers are dropped, within a budget of their own, so a peer cannot send
 * much more than the body's size with a little data in each of many long-extended chunks.
 *
 * @example
 * ```ts
 * const r = new BodyReader(conn, { kind: "chunked" }, 1 << 20);
 * for (let b = yield* r.read(); b !== null; b = yield* r.read()) sink.push(b);
 * ```
 */
export class BodyReader {
  readonly #conn: Conn;
  readonly #framing: Framing;
  readonly #max: number;
  /** Bytes left: of the whole body (length), or of the current chunk (chunked). */
  #left: number;
  #chunk = Chunk.Size;
  #total = 0;
  #ignored = 0;
  /** True once the body's end (and its framing) has been read. */
  done: boolean;

  constructor(conn: Conn, framing: Framing, max: number) {
    this.#conn = conn;
    this.#framing = framing;
    this.#max = max;
    this.#left = framing.kind === "length" ? framing.length : 0;
    this.done = framing.kind === "none" || (framing.kind === "length" && framing.length === 0);
    if (framing.kind === "length" && framing.length > max) throw tooLarge(max);
  }

  /** Body bytes read so far. */
  get received(): number {
    return this.#total;
  }

  /** The next piece of the body, or null at its end. */
  *read(): Co<Uint8Array | null> {
    if (this.done) return null;
    switch (this.#framing.kind) {
      case "length": {
        const b = yield* this.#some();
        if (this.#left === 0) this.done = true;
        return b;
      }
      case "chunked":
        return yield* this.#chunked();
      default: {
        const b = yield* this.#conn.read();
        if (b === null) {
          this.done = true;
          return null;
        }
        this.#total += b.length;
        if (this.#total > this.#max) throw tooLarge(this.#max);
        return b;
      }
    }
  }

  /** Up to `#left` bytes (what has arrived); INCOMPLETE_BODY if the connection ends first. */
  *#some(): Co<Uint8Array> {
    const b = yield* this.#conn.read();
    if (b === null) {
      const ofLength = this.#framing.kind === "length" ? ` of ${this.#framing.length}` : "";
      throw new HttpError(HttpCode.IncompleteBody, this.#framing.kind === "chunked" ? "the connection ended inside a chunked body" : `the connection ended after ${this.#total}${ofLength} body bytes`);
    }
    const left = this.#left;
    let piece = b;
    if (b.length > left) {
      this.#conn.unread(b.subarray(left));
      piece = b.subarray(0, left);
    }
    this.#left -= piece.length;
    this.#total += piece.length;
    return piece;
  }

  *#chunked(): Co<Uint8Array | null> {
    const conn = this.#conn;
    if (this.#chunk === Chunk.Trailers) {
      // A read cancelled in the trailers goes on with them.
      yield* this.#trailers();
      this.done = true;
      return null;
    }
    for (;;) {
      if (this.#chunk === Chunk.Data) {
        const b = yield* this.#some();
        if (this.#left === 0) this.#chunk = Chunk.Crlf;
        return b;
      }
      if (this.#chunk === Chunk.Crlf) {
        // Room for one stray byte, to name it in the error; more is the same fault.
        const after = yield* line(conn, 1, "chunk data not followed by CRLF (the chunk is longer than its size)");
        if (after !== "") throw new HttpError(HttpCode.BadChunk, `chunk data not followed by CRLF (got ${show(after)})`);
        this.#chunk = Chunk.Size;
      }
      const sizeLine = yield* line(conn, MAX_SIZE_LINE);
      const semi = sizeLine.indexOf(";");
      // No whitespace before the size; spaces or tabs only between it and an extension's ";".
      const hex = semi < 0 ? sizeLine : sizeLine.slice(0, semi).replace(/[ \t]+$/, "");
      // Leading zeros do not count toward the 12 digits (RFC 9112 allows any number of them).
      if (!/^0*[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpError(HttpCode.BadChunk, `invalid chunk size ${show(sizeLine)}`);
      this.#ignore(sizeLine.length - hex.length);
      const size = parseInt(hex, 16);
      if (size === 0) {
        this.#chunk = Chunk.Trailers;
        yield* this.#trailers();
        this.done = true;
        return null;
      }
      if (this.#total + size > this.#max) throw tooLarge(this.#max);
      this.#left = size;
      this.#chunk = Chunk.Data;
    }
  }

  /** Trailer fields, dropped, up to the blank line. */
  *#trailers(): Co<void> {
    for (;;) {
      const t = yield* line(this.#conn, 8192);
      if (t === "") return;
      if (!TRAILER.test(t)) throw new HttpError(HttpCode.BadChunk, `invalid trailer field ${show(t)}`);
      this.#ignore(t.length);
    }
  }

  #ignore(n: number): void {
    this.#ignored += n;
    if (this.#ignored > MAX_IGNORED) throw new HttpError(HttpCode.BadChunk, `more than ${MAX_IGNORED} bytes of chunk extensions and trailers`);
  }
}

/** Read a whole body framed as `framing`, at most `max` bytes (BODY_TOO_LARGE past it). */
export function* readBody(conn: Conn, framing: Framing, max: number): Co<Uint8Array> {
  if (framing.kind === "none") return EMPTY;
  if (framing.kind === "length") {
    // The common case in line (a generator fewer per piece): exactly `length` bytes.
    const n = framing.length;
    if (n > max) throw tooLarge(max);
    const chunks: Uint8Array[] = [];
    let have = 0;
    while (have < n) {
      const b = yield* conn.read();
      if (b === null) throw new HttpError(HttpCode.IncompleteBody, `the connection ended after ${have} of ${n} body bytes`);
      if (b.length > n - have) conn.unread(b.subarray(n - have));
      const piece = b.length > n - have ? b.subarray(0, n - have) : b;
      chunks.push(piece);
      have += piece.length;
    }
    return concatBytes(chunks, n);
  }
  const r = new BodyReader(conn, framing, max);
  const chunks: Uint8Array[] = [];
  for (let b = yield* r.read(); b !== null; b = yield* r.read()) chunks.push(b);
  return concatBytes(chunks, r.received);
}
