/**
 * HTTP/1.x message bodies: how a message says its body ends (framing), reading a body by
 * Content-Length, chunked coding or until close (each capped), and encoding outgoing bodies.
 * Built on Conn's read/unread only; imports no Bun API.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { show, trimOws, type HttpHeaders } from "./head.ts";
import { concatBytes } from "../bytes.ts";

/** How a body is delimited: none, a byte count, chunked coding, or the end of the connection. */
export type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
const CLOSE: Framing = { kind: "close" };
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

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
  if (te !== undefined) return isChunked(te) ? CHUNKED : CLOSE;
  const n = contentLength(headers);
  if (n === undefined) return CLOSE;
  return n === 0 ? NONE : { kind: "length", length: n };
}


function tooLarge(max: number): HttpError {
  return new HttpError(HttpCode.BodyTooLarge, `the body is larger than ${max} bytes`);
}

/** Exactly `n` bytes, or INCOMPLETE_BODY. */
function* exactly(conn: Conn, n: number): Co<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const b = yield* conn.read();
    if (b === null) throw new HttpError(HttpCode.IncompleteBody, `the connection ended after ${have} of ${n} body bytes`);
    const need = n - have;
    if (b.length > need) {
      conn.unread(b.subarray(need));
      chunks.push(b.subarray(0, need));
      have = n;
    } else {
      chunks.push(b);
      have += b.length;
    }
  }
  return concatBytes(chunks, n);
}

/**
 * One CRLF-terminated line of a chunked body, at most `max` bytes before its CRLF. A bare LF or CR is refused:
 * a proxy that ends these lines only at CRLF would frame the body differently (smuggling).
 */
function* line(conn: Conn, max: number): Co<string> {
  let text = "";
  for (;;) {
    const b = yield* conn.read();
    if (b === null) throw new HttpError(HttpCode.IncompleteBody, "the connection ended inside a chunked body");
    const nl = b.indexOf(10);
    const end = nl < 0 ? b.length : nl;
    // `max` bounds the line's text: its CR (required before the LF) is not counted.
    if (text.length + end > max + 1) throw new HttpError(HttpCode.BadChunk, `a chunk-size or trailer line longer than ${max} bytes`);
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

/**
 * A chunked body of at most `max` data bytes. Chunk extensions and trailers, which are
 * dropped, share a budget of their own, so a peer cannot send much more than the body's
 * size with a little data in each of many long-extended chunks.
 */
function* chunked(conn: Conn, max: number): Co<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ignored = 0;
  for (;;) {
    const sizeLine = yield* line(conn, MAX_SIZE_LINE);
    const semi = sizeLine.indexOf(";");
    // No whitespace before the size; spaces or tabs only between it and an extension's ";".
    const hex = semi < 0 ? sizeLine : sizeLine.slice(0, semi).replace(/[ \t]+$/, "");
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpError(HttpCode.BadChunk, `invalid chunk size ${show(sizeLine)}`);
    ignored += sizeLine.length - hex.length;
    if (ignored > MAX_IGNORED) throw new HttpError(HttpCode.BadChunk, `more than ${MAX_IGNORED} bytes of chunk extensions and trailers`);
    const size = parseInt(hex, 16);
    if (size === 0) break;
    if (total + size > max) throw tooLarge(max);
    chunks.push(yield* exactly(conn, size));
    total += size;
    const after = yield* line(conn, 1); // room for one stray byte, to name it in the error
    if (after !== "") throw new HttpError(HttpCode.BadChunk, `chunk data not followed by CRLF (got ${show(after)})`);
  }
  // Trailer fields, ignored, up to the blank line.
  for (;;) {
    const t = yield* line(conn, 8192);
    if (t === "") break;
    if (!TRAILER.test(t)) throw new HttpError(HttpCode.BadChunk, `invalid trailer field ${show(t)}`);
    ignored += t.length;
    if (ignored > MAX_IGNORED) throw new HttpError(HttpCode.BadChunk, `more than ${MAX_IGNORED} bytes of chunk extensions and trailers`);
  }
  return concatBytes(chunks, total);
}

function* untilClose(conn: Conn, max: number): Co<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const b = yield* conn.read();
    if (b === null) return concatBytes(chunks, total);
    total += b.length;
    if (total > max) throw tooLarge(max);
    chunks.push(b);
  }
}

/** Read a whole body framed as `framing`, at most `max` bytes (BODY_TOO_LARGE past it). */
export function* readBody(conn: Conn, framing: Framing, max: number): Co<Uint8Array> {
  switch (framing.kind) {
    case "none":
      return EMPTY;
    case "length":
      if (framing.length > max) throw tooLarge(max);
      return yield* exactly(conn, framing.length);
    case "chunked":
      return yield* chunked(conn, max);
    case "close":
      return yield* untilClose(conn, max);
  }
}

/**
 * A body a program sends: text (UTF-8), bytes, or a sequence of chunks (sent chunked).
 *
 * @example
 * ```typescript
 * yield* request(url, { method: "POST", body: ["part 1, ", "part 2"] }); // transfer-encoding: chunked
 * ```
 */
export type BodyInit = string | Uint8Array | Iterable<string | Uint8Array>;

/** True for the chunk-sequence form of a body. */
export function isStream(body: BodyInit | undefined): body is Iterable<string | Uint8Array> {
  return body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array);
}

/** The byte length of a string or bytes (ASCII strings without encoding them). */
export function byteLength(body: string | Uint8Array): number {
  if (typeof body !== "string") return body.length;
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(body) ? body.length : encoder.encode(body).length;
}

/** One chunk of a chunked body on the wire (an empty chunk is skipped: it would end the body). */
export function chunk(data: string | Uint8Array): (string | Uint8Array)[] {
  const n = byteLength(data);
  if (n === 0) return [];
  return [`${n.toString(16)}\r\n`, data, "\r\n"];
}

/** The end of a chunked body. */
export const LAST_CHUNK = "0\r\n\r\n";

/** All chunks of a sequence as one byte array (for peers that cannot take chunked coding). */
export function collect(body: Iterable<string | Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const p of body) {
    const b = typeof p === "string" ? encoder.encode(p) : p;
    parts.push(b);
    total += b.length;
  }
  return concatBytes(parts, total);
}
