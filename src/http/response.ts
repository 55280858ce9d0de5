/**
 * Encoding a handler's response (or an error status) as HTTP/1.1 bytes: status line, headers,
 * framing (Content-Length or chunked), one payload so it leaves in one host write.
 * Pure functions; imports no Bun API.
 */
import { byteLength, checkBody, chunk, collect, isStream, LAST_CHUNK } from "./outgoing-body.ts";
import { checkHeaders, outgoingValues, show } from "./head.ts";
import { listHas, trimOws } from "./fields.ts";
import { HttpCode, HttpError } from "./errors.ts";
import type { HttpResponseInit } from "./request.ts";
import type { StreamBody, StreamFraming, StreamHead } from "./stream-body.ts";
import { concatBytes } from "../bytes.ts";
import { WIDE, headWith, wireHead } from "./wire-head.ts";
import { describe, isAsyncFunction } from "../syscall.ts";
import { HttpResponse } from "./response-object.ts";
import { StreamedResponse } from "./streamed-response.ts";

/** Reason phrases for the usual statuses. */
export const STATUS_TEXT: Record<number, string> = {
  100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
  205: "Reset Content", 206: "Partial Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
  304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
  401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed",
  413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
  417: "Expectation Failed", 422: "Unprocessable Content", 426: "Upgrade Required", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
  502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();
/** The fields of a response object. */
const RESPONSE_KEYS = new Set(["status", "statusText", "headers", "body"]);
/** Headers the server sets itself from the body and connection state. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection"]);

/** Everything needed to encode a response. */
export interface ResponseContext {
  method: string;
  /** The request's minor version: 0 gets no chunked coding. */
  minor: number;
  /** Keep the connection open after this response (if the request's body is read: see `bodyRead`). */
  keepAlive: boolean;
  /** The request's body was read to its end (default true; else the connection closes after the response; a streamed body's head decides as it goes out). */
  bodyRead?: boolean;
}

/** A reason phrase may hold tabs, spaces and visible characters only (RFC 9112 §4): CR or LF would split the response. */
const BAD_REASON = /[\x00-\x08\x0a-\x1f\x7f]/;

/** The wire form of a response: one payload (or, for a streamed body, its head and how to send the rest), and whether the connection stays open. */
export interface Encoded {
  payload: string | Uint8Array;
  keepAlive: boolean;
  /** A body to stream, and its head (then not in `payload`): see stream-body.ts. */
  stream?: { body: StreamBody; head: StreamHead };
}

/** Encode `res` for the request described by `ctx`. Throws `HttpError` BAD_ARGUMENT for a bad status or header. */
export function encodeResponse(res: HttpResponseInit, ctx: ResponseContext): Encoded {
  // A string is a 200 text response; an object is checked to be one (once, here).
  const init = typeof res === "string" ? { body: res } : checkResponse(res);
  const status = init.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 999) {
    throw new HttpError(HttpCode.BadArgument, `a handler returned status ${describe(status)} (expected an integer 200..999)`);
  }
  const reason = init.statusText ?? STATUS_TEXT[status] ?? "";
  if (typeof reason !== "string" || BAD_REASON.test(reason) || WIDE.test(reason)) {
    throw new HttpError(HttpCode.BadArgument, `a handler returned statusText ${show(reason)}, which has a control character (CR, LF...) or one above U+00FF, or is not a string`);
  }
  let keepAlive = ctx.keepAlive;
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  let hasType = false;
  let hasDate = false;
  /** A Content-Length the handler gave: kept for a response with no body to a HEAD, or a 304 (the size a GET would have, RFC 9110 §8.6). */
  let given: string | undefined = undefined;
  const headers = init.headers;
  checkHeaders(headers, "a handler gave");
  if (headers !== undefined) {
    for (const name in headers) {
      const field = headers[name];
      if (field === undefined) continue; // an optional field left out (see HttpResponseInit)
      const key = name.toLowerCase();
      // A list is sent once per value (several set-cookie); a field the server frames with takes one.
      const list = Array.isArray(field);
      const values = outgoingValues(name, field, "a handler gave");
      if (FRAMING.has(key)) {
        if (list) throw new HttpError(HttpCode.BadArgument, `a handler gave header ${show(name)} a list of values: it takes one`);
        const value = values[0]!;
        if (key === "connection" && listHas(value, "close")) keepAlive = false;
        if (key === "content-length") given = byteCount(value);
        continue;
      }
      for (const value of values) head += `${name}: ${value}\r\n`;
      // An empty list sends nothing, so it sets nothing either.
      if (values.length > 0 && key === "content-type") hasType = true;
      else if (values.length > 0 && key === "date") hasDate = true;
    }
  }
  // An origin server with a clock sends one (RFC 9110 §6.6.1), unless the handler did.
  if (!hasDate) head += `date: ${httpDate()}\r\n`;
  // 205 Reset Content carries none either (RFC 9110 §15.3.6), but says so: it is framed like any other.
  const noBody = status === 204 || status === 205 || status === 304;
  let body = noBody ? undefined : init.body;
  checkBody(body, "the body a handler returned", true);
  if (typeof body === "function") {
    // Refused before it is called: calling it would run it (as the request side refuses one).
    if (isAsyncFunction(body)) throw new HttpError(HttpCode.BadArgument, "the response body a handler returned is an async function; write it as function* (out) { yield* out.write(...) }");
    return streamed(body as StreamBody, head, given, keepAlive, ctx);
  }
  // A body the handler left unread would be parsed as the next request: close instead.
  keepAlive &&= ctx.bodyRead !== false;
  if (typeof body === "string" && !hasType) head += "content-type: text/plain;charset=utf-8\r\n";
  let chunked = false;
  if (isStream(body)) {
    if (ctx.minor === 1) chunked = true;
    else body = collect(body);
  }
  if (chunked) head += "transfer-encoding: chunked\r\n";
  else if (!noBody) head += `content-length: ${body !== undefined ? byteLength(body as string | Uint8Array) : ctx.method === "HEAD" ? (given ?? 0) : 0}\r\n`;
  else if (status === 304 && given !== undefined) head += `content-length: ${given}\r\n`;
  else if (status === 205) head += "content-length: 0\r\n";
  head += connectionField(keepAlive, ctx.minor) + "\r\n";
  if (ctx.method === "HEAD" || body === undefined) return { payload: wireHead(head), keepAlive };
  if (typeof body === "string") return { payload: headWith(head, body), keepAlive };
  const parts: (string | Uint8Array)[] = [wireHead(head)];
  if (chunked) {
    for (const c of body as Iterable<string | Uint8Array>) parts.push(...chunk(c));
    parts.push(LAST_CHUNK);
  } else parts.push(body as Uint8Array);
  return { payload: join(parts), keepAlive };
}

/** The connection field a response needs: `close`, `keep-alive` (to an HTTP/1.0 client), or none. */
export function connectionField(keepAlive: boolean, minor: number): string {
  return !keepAlive ? "connection: close\r\n" : minor === 0 ? "connection: keep-alive\r\n" : "";
}

/**
 * The head of a streamed body's response: framed by the handler's Content-Length, else chunked
 * (HTTP/1.1), else by closing the connection (HTTP/1.0). Its connection field is settled as it
 * goes out (StreamOut): kept alive only if the request's body has been read by then.
 */
function streamed(body: StreamBody, head: string, given: string | undefined, keepAlive: boolean, ctx: ResponseContext): Encoded {
  if (ctx.method === "HEAD") {
    // No body is sent: the head says what a GET would get, and nothing ends by a close.
    if (given !== undefined) head += `content-length: ${given}\r\n`;
    else if (ctx.minor === 1) head += "transfer-encoding: chunked\r\n";
    keepAlive &&= ctx.bodyRead !== false;
    return { payload: wireHead(head + connectionField(keepAlive, ctx.minor) + "\r\n"), keepAlive };
  }
  let framing: StreamFraming;
  if (given !== undefined) {
    framing = "length";
    head += `content-length: ${given}\r\n`;
  } else if (ctx.minor === 1) {
    framing = "chunked";
    head += "transfer-encoding: chunked\r\n";
  } else {
    framing = "close";
    keepAlive = false;
  }
  return { payload: "", keepAlive, stream: { body, head: { text: head, framing, length: given === undefined ? 0 : Number(given), keepAlive, minor: ctx.minor } } };
}

/** A Content-Length a handler gave, as a byte count (spaces around it dropped); anything else is BAD_ARGUMENT, never dropped without a word. */
function byteCount(value: string): string {
  const n = trimOws(value);
  if (!/^\d{1,15}$/.test(n)) throw new HttpError(HttpCode.BadArgument, `a handler gave header "content-length" the value ${show(value)}, which is not a byte count`);
  return n;
}

/** `res`, if it is a response object: anything else a handler may return by mistake is BAD_ARGUMENT, naming it. */
function checkResponse(res: unknown): Exclude<HttpResponseInit, string> {
  if (res === null || typeof res !== "object" || Array.isArray(res)) {
    throw new HttpError(HttpCode.BadArgument, `a handler returned ${describe(res)}, not a response (a string, or { status?, statusText?, headers?, body? })`);
  }
  if (res instanceof HttpResponse || res instanceof StreamedResponse) {
    throw new HttpError(HttpCode.BadArgument, `a handler returned a client's ${res.constructor.name} (${res}): pass on what it should send, e.g. { status: res.status, body: ... }`);
  }
  if (typeof Response === "function" && res instanceof Response) {
    throw new HttpError(HttpCode.BadArgument, "a handler returned a web Response (Bun.serve's kind): return a string, or { status?, statusText?, headers?, body? }");
  }
  if (typeof (res as { then?: unknown }).then === "function") {
    // `return fetch(...)` or `return somePromise`: its fields are none of a response's, so it read as an empty 200.
    throw new HttpError(HttpCode.BadArgument, `a handler returned a promise (${describe(res)}), not a response: wait for it first, return yield* wait(p)`);
  }
  const proto: unknown = Object.getPrototypeOf(res);
  if (proto !== Object.prototype && proto !== null) {
    // An Error returned instead of thrown, a Map, a Date, a class instance: no response fields of its own to read.
    const hint = res instanceof Error ? ": throw an error rather than return it" : "";
    throw new HttpError(HttpCode.BadArgument, `a handler returned ${describe(res)}, not a response (a string, or a plain object { status?, statusText?, headers?, body? })${hint}`);
  }
  for (const key in res) {
    if (!RESPONSE_KEYS.has(key)) {
      // Data returned as it is (`return data`, or a forgotten yield*): it would be a silent empty 200.
      throw new HttpError(HttpCode.BadArgument, `a handler returned an object with a field "${key}", which a response does not have (return { status?, statusText?, headers?, body? }: JSON goes in body, e.g. body: JSON.stringify(data))`);
    }
  }
  return res as Exclude<HttpResponseInit, string>;
}

/** A short error response (400, 413, 431...) that closes the connection. */
export function errorResponse(status: number, detail: string, head = false): string {
  const body = `${status} ${STATUS_TEXT[status] ?? "Error"}: ${detail}\n`;
  // To a HEAD request: the same head, no body (RFC 9110 §9.3.2).
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\ndate: ${httpDate()}\r\ncontent-type: text/plain;charset=utf-8\r\ncontent-length: ${byteLength(body)}\r\nconnection: close\r\n\r\n${head ? "" : body}`;
}

let dateSecond = -1;
let dateText = "";

/**
 * `now` as an HTTP date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), made once per second.
 *
 * @example
 * ```ts
 * httpDate(Date.UTC(1994, 10, 6, 8, 49, 37)); // "Sun, 06 Nov 1994 08:49:37 GMT"
 * ```
 */
export function httpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** Strings and byte arrays as one payload (one string if they are all strings). */
export function join(parts: (string | Uint8Array)[]): string | Uint8Array {
  if (parts.every((p) => typeof p === "string")) return (parts as string[]).join("");
  const bytes = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  let total = 0;
  for (const b of bytes) total += b.length;
  return concatBytes(bytes, total);
}
