/**
 * Reading and parsing an HTTP/1.x head (start line + header lines) from a connection:
 * bounded in size, strict about syntax (request smuggling and injection come from leniency).
 * Built on Conn's read/unread only; imports no Bun API.
 */
import { ByteGather } from "../bytes.ts";
import { describe } from "../syscall.ts";
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { NetError } from "../net/errors.ts";
import { Fields, TOKEN, trimOws, type HttpHeaders } from "./fields.ts";
import { WIDE, decodeHead } from "./wire-head.ts";

/** A parsed request head. */
export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  fields: Fields;
  /** The host the request is for: an absolute-form target's authority, else the Host header ("" if none). */
  host: string;
  /** Where the target's path starts (after an absolute-form target's scheme and authority; else 0). */
  pathAt: number;
}

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  statusText: string;
  minor: number;
  fields: Fields;
}

const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** The target: no spaces or control bytes (NUL, DEL, ESC... never reach `req.url`); other bytes pass (UTF-8 too). */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/(\d)\.(\d)$/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;

/** Where the head ends in `buf` (the index just past the blank line), searching from `from`; -1 if not yet. */
function headEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 10) continue;
    const a = buf[i + 1];
    if (a === 10) return i + 2;
    if (a === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

/**
 * Read one head from `conn`: the bytes up to and including the blank line (leftovers are
 * pushed back). Null if the connection ended cleanly before any byte, or if `stop()` says so
 * while nothing of a head has come. Throws `HttpError` HEADERS_TOO_LARGE past `max` bytes,
 * (or past `max` bytes of empty lines before it), INCOMPLETE_HEAD if the stream ends inside the head. `seen` (a server's): that a head has begun
 * (blank lines before one do not count) and whether it begins as a HEAD request's, as bytes
 * come, for an answer before it is whole (a 408, a 431).
 */
export function* readHead(conn: Conn, max: number, stop?: () => boolean, seen?: { headBegun: boolean; headRequest: boolean }): Co<Uint8Array | null> {
  const got = new ByteGather(); // the head so far (a dribbled head costs O(n) copying)
  let scanned = 0;
  let blank = 0; // bytes of empty lines before it, which count against `max` too
  for (;;) {
    if (got.bytes.length === 0 && stop?.() === true && !conn.hasInput) return null;
    let b: Uint8Array | null;
    try {
      b = yield* conn.read();
    } catch (error) {
      // Cancelled or interrupted (not a broken connection): the part read so far goes back.
      if (!(error instanceof NetError) && got.bytes.length > 0) conn.unread(got.bytes);
      throw error;
    }
    if (b === null) {
      if (got.bytes.length === 0) return null;
      throw new HttpError(HttpCode.IncompleteHead, `the connection ended after ${got.bytes.length} bytes of the head`);
    }
    if (got.bytes.length === 0) {
      // Empty lines before a start line are ignored (RFC 9112 §2.2).
      let skip = 0;
      while (skip < b.length && (b[skip] === 13 || b[skip] === 10)) skip++;
      blank += skip;
      if (blank > max) throw new HttpError(HttpCode.HeadersTooLarge, `more than ${max} bytes of empty lines came where a head was due`);
      if (skip === b.length) continue;
      got.push(skip === 0 ? b : b.subarray(skip)); // (a Buffer's subarray is not free: a head a request)
    } else got.push(b);
    const buf = got.bytes;
    if (seen !== undefined) {
      seen.headBegun = true;
      seen.headRequest = isHeadRequest(buf);
    }
    const end = headEnd(buf, Math.max(0, scanned - 2));
    if (end >= 0) {
      if (end > max) throw tooLarge(max, buf);
      if (end === buf.length) return buf;
      conn.unread(buf.subarray(end));
      return buf.subarray(0, end);
    }
    if (buf.length > max) throw tooLarge(max, buf);
    scanned = buf.length;
  }
}

/** The head passed `max` bytes: a 414 if its start line alone did (a request's target), else a 431. */
function tooLarge(max: number, buf?: Uint8Array): HttpError {
  const lineEnd = buf === undefined ? -1 : buf.indexOf(10);
  if (buf !== undefined && (lineEnd < 0 || lineEnd > max)) {
    return new HttpError(HttpCode.StartLineTooLong, `the start line is longer than ${max} bytes`);
  }
  return new HttpError(HttpCode.HeadersTooLarge, `the head is larger than ${max} bytes`);
}

/**
 * True if `raw` (a request head, whole or in part) begins with the method HEAD, past blank lines
 * before it: a head refused is answered without a body then too (RFC 9110 §9.3.2).
 */
export function isHeadRequest(raw: Uint8Array): boolean {
  let i = 0;
  while (raw[i] === 13 || raw[i] === 10) i++;
  return raw[i] === 72 && raw[i + 1] === 69 && raw[i + 2] === 65 && raw[i + 3] === 68 && raw[i + 4] === 32; // "HEAD "
}


/** Token characters (RFC 9110 §5.6.2), by char code. */
const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[ch.charCodeAt(0)] = 1;

function isToken(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A header line continued on the next (obs-fold): a line break followed by a space or tab. */
const FOLD = /\n[ \t]/;
const FOLDS = /\r?\n[ \t]+/g;

/** An absolute-form request target's scheme and authority (RFC 9112 §3.2.2): `http://host:port`. */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;
/** The schemes an HTTP server serves in an absolute-form target. */
const HTTP_SCHEME = /^https?:/i;

/** A Host value: `uri-host [":" port]` (RFC 9112 §3.2, RFC 3986 §3.2.2). */
const HOST = /^(?:\[[0-9A-Za-z:._~!$&'()*+;=%-]+\]|[0-9A-Za-z._~!$&'()*+;=%-]*)(?::[0-9]*)?$/; // % in brackets: an IPv6 zone (RFC 6874)

/** Lengths of the names `scan` keeps, and the names. */
const KNOWN = new Set(["content-length", "transfer-encoding", "connection", "host", "expect"]);
const KNOWN_LENGTHS = new Uint8Array(32);
for (const k of KNOWN) KNOWN_LENGTHS[k.length] = 1;

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Validate a head's header lines in one pass (no folding, a colon, a token name, no control
 * characters in values) and keep only the fields that frame the message.
 */
function scan(head: Uint8Array, unfold = false): [string, Fields] {
  let text = decodeHead(head);
  // A response's obsolete line folding is replaced with a space (RFC 9112 §5.2); a request's is refused below.
  if (unfold && FOLD.test(text)) {
    // ...but not onto the start line: whitespace before the first field is refused (RFC 9112 §2.2).
    const nl = text.indexOf("\n");
    if (nl >= 0 && isSpace(text.charCodeAt(nl + 1))) {
      const end = text.indexOf("\n", nl + 1);
      throw new HttpError(HttpCode.BadHeader, `a line beginning with whitespace after the start line: ${show(text.slice(nl + 1, end < 0 ? text.length : end).replace(/\r$/, ""))}`);
    }
    text = text.replace(FOLDS, " ");
  }
  const known = Object.create(null) as HttpHeaders; // no prototype: "constructor" is not a header
  let nl = text.indexOf("\n");
  if (nl < 0) nl = text.length;
  const start = text.slice(0, nl > 0 && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
  const first = nl + 1;
  for (let at = first; at < text.length; at = nl + 1) {
    nl = text.indexOf("\n", at);
    if (nl < 0) nl = text.length;
    const end = nl > at && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (end === at) continue; // the blank line(s) at the end
    if (isSpace(text.charCodeAt(at))) throw new HttpError(HttpCode.BadHeader, `folded header line ${show(text.slice(at, end))} (obsolete line folding is not accepted)`);
    const colon = text.indexOf(":", at);
    if (colon < 0 || colon >= end) throw new HttpError(HttpCode.BadHeader, `header line without a colon: ${show(text.slice(at, end))}`);
    if (!isToken(text, at, colon)) throw new HttpError(HttpCode.BadHeader, `invalid header name ${show(text.slice(at, colon))}`);
    for (let i = colon + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if ((c < 32 && c !== 9) || c === 127) throw new HttpError(HttpCode.BadHeader, `control character in the value of header ${show(text.slice(at, colon))}`);
    }
    const n = colon - at;
    if (n < 32 && KNOWN_LENGTHS[n] === 1) {
      const key = text.slice(at, colon).toLowerCase();
      if (KNOWN.has(key)) {
        const value = trimOws(text.slice(colon + 1, end));
        const had = known[key];
        known[key] = had === undefined ? value : `${had}, ${value}`;
      }
    }
  }
  return [start, new Fields(text, first, known)];
}

/** Parse a request head (as read by `readHead`). Throws `HttpError` naming what is wrong. */
export function parseRequestHead(head: Uint8Array): RequestHead {
  const [line, fields] = scan(head);
  const m = REQUEST_LINE.exec(line);
  if (m === null) throw new HttpError(HttpCode.BadRequestLine, `expected "METHOD target HTTP/1.x", got ${show(line)}`);
  // A later 1.x is served as 1.1, the highest this server speaks (RFC 9110 §2.5).
  if (m[3] !== "1") throw new HttpError(HttpCode.UnsupportedVersion, `HTTP/${m[3]}.${m[4]} is not supported (only HTTP/1.x)`);
  const minor = m[4] === "0" ? 0 : 1;
  // No form of request target has a fragment (RFC 9112 §3.2): it would end up in the path.
  if (m[2]!.includes("#")) throw new HttpError(HttpCode.BadRequestLine, `the target ${show(m[2]!)} has a fragment ("#..."), which a request does not send`);
  const host = fields.known.host;
  if (minor === 1 && host === undefined) throw new HttpError(HttpCode.BadHeader, "an HTTP/1.1 request without a Host header");
  if (host?.includes(",")) throw new HttpError(HttpCode.BadHeader, `more than one Host header (${show(host)})`);
  if (host !== undefined && !HOST.test(host)) throw new HttpError(HttpCode.BadHeader, `invalid Host ${show(host)}`);
  const target = m[2]!;
  // CONNECT asks for a tunnel (its target is an authority, "host:port"); a server that makes
  // none says so, rather than handing a handler a target that is no path.
  if (m[1] === "CONNECT") throw new HttpError(HttpCode.UnsupportedMethod, `CONNECT (a tunnel to ${show(target)}) is not supported`);
  // An absolute-form target names the host itself, and the Host header is ignored (RFC 9112 §3.2.2).
  const abs = ABSOLUTE.exec(target);
  if (abs !== null) {
    const authority = abs[1]!;
    if (!HTTP_SCHEME.test(target)) throw new HttpError(HttpCode.BadRequestLine, `the target ${show(target)} is not an http or https URL`);
    if (authority === "" || !HOST.test(authority)) throw new HttpError(HttpCode.BadRequestLine, `invalid authority in the target ${show(target)}`);
    return { method: m[1]!, target, minor, fields, host: authority, pathAt: abs[0].length };
  }
  if (target.charCodeAt(0) !== 47 && !(target === "*" && m[1] === "OPTIONS")) {
    throw new HttpError(HttpCode.BadRequestLine, `the target ${show(target)} is not a path ("/..."), an http(s) URL, or "*" for OPTIONS`);
  }
  return { method: m[1]!, target, minor, fields, host: host ?? "", pathAt: 0 };
}

/** Parse a response head (as read by `readHead`). Throws `HttpError` naming what is wrong. */
export function parseResponseHead(head: Uint8Array): ResponseHead {
  const [line, fields] = scan(head, true);
  const m = STATUS_LINE.exec(line);
  if (m === null) throw new HttpError(HttpCode.BadStatusLine, `expected "HTTP/1.x NNN reason", got ${show(line)}`);
  // A later 1.x is read as 1.1 (RFC 9110 §2.5).
  if (m[1] !== "1") throw new HttpError(HttpCode.UnsupportedVersion, `the response is HTTP/${m[1]}.${m[2]} (only HTTP/1.x)`);
  const status = Number(m[3]);
  if (status < 100) throw new HttpError(HttpCode.BadStatusLine, `status ${m[3]} is out of range`);
  return { status, statusText: m[4] ?? "", minor: m[2] === "0" ? 0 : 1, fields };
}

/** A short, quoted rendering of a line for messages. */
export function show(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + "…" : s);
}

/**
 * The text of an outgoing header's value: a string as it is; a finite number, a bigint or a
 * boolean as it prints. Anything else (undefined, null, an object) is BAD_ARGUMENT naming the
 * header, never sent as "undefined". `whose`: "a handler gave" or "the request options give".
 */
function headerText(name: string, value: unknown, whose: string): string {
  if (typeof value === "string") return value;
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "bigint" || typeof value === "boolean") return String(value);
  throw new HttpError(HttpCode.BadArgument, `${whose} header ${show(name)} the value ${describe(value)}: expected a string (or a finite number)`);
}

/**
 * `headers`, if given, is an object of fields (`whose` as for `headerText`). A Map or a web
 * Headers is refused, not read as an object with no fields (its entries silently dropped).
 */
export function checkHeaders(headers: unknown, whose: string): void {
  if (headers === undefined) return;
  // Any object is read for its fields (another realm's, a class's, one inheriting defaults);
  // a Map or a Headers has none, its entries would be dropped.
  const tag = Object.prototype.toString.call(headers);
  if (headers === null || typeof headers !== "object" || Array.isArray(headers) || tag === "[object Map]" || tag === "[object Headers]") {
    const hint = tag === "[object Map]" || tag === "[object Headers]" ? " (for a Map or Headers, pass Object.fromEntries(h))" : "";
    throw new HttpError(HttpCode.BadArgument, `${whose} headers ${describe(headers)}: expected a plain object such as { "content-type": "text/plain" }${hint}`);
  }
}

/**
 * The values an outgoing header `name` is given (`field`: one, or a list, each sent on its own
 * line), as text and checked (`checkOutgoing`); the name is checked even for an empty list.
 * `whose` as for `headerText`.
 *
 * @example
 * ```ts
 * outgoingValues("set-cookie", ["a=1", "b=2"], "a handler gave"); // ["a=1", "b=2"]
 * ```
 */
export function outgoingValues(name: string, field: unknown, whose: string): string[] {
  const values = Array.isArray(field) ? field.map((v: unknown) => headerText(name, v, whose)) : [headerText(name, field, whose)];
  if (values.length === 0) checkOutgoing(name, "");
  for (const value of values) checkOutgoing(name, value);
  return values;
}

/** Check a header name and value a program wants to send; throws `HttpError` BAD_ARGUMENT. */
export function checkOutgoing(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new HttpError(HttpCode.BadArgument, `invalid header name ${show(name)}`);
  if (BAD_VALUE.test(value) || value.includes("\n") || value.includes("\r")) {
    throw new HttpError(HttpCode.BadArgument, `header ${show(name)} has a control character or line break in its value`);
  }
  if (WIDE.test(value)) {
    throw new HttpError(HttpCode.BadArgument, `header ${show(name)} has a character above U+00FF in its value ${show(value)}: a head carries one byte per character (latin1); encode it (percent-encoding, or RFC 8187 for a parameter such as filename*=UTF-8''...)`);
  }
}
