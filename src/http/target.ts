/**
 * Request targets and request encoding for the client: parse (and remember) an http:// URL,
 * and encode a request head and body as one payload. Pure functions; imports no Bun API.
 */
import { HttpCode, HttpError } from "./errors.ts";
import { describe, isAsyncFunction } from "../syscall.ts";
import { checkHeaders, outgoingValues, show } from "./head.ts";
import { byteLength, checkBody, chunk, collect, isStream, LAST_CHUNK } from "./outgoing-body.ts";
import { join } from "./response.ts";
import { headWith, wireHead } from "./wire-head.ts";
import type { RequestOptions } from "./options.ts";
import type { StreamBody, StreamFraming, StreamHead } from "./stream-body.ts";

/** Where a request goes, parsed once per URL. */
export interface Target {
  hostname: string;
  port: number;
  key: string;
  host: string;
  path: string;
  href: string;
  /** For `connect()`, made once. */
  connect: { hostname: string; port: number };
  /** Encoded requests without headers or body, by method and mode (most requests are these). */
  plain: Map<string, string>;
}

const targets = new Map<string, Target>();

/** Parse (and remember: most programs fetch from few URLs) an http:// URL. */
export function parseTarget(url: string | URL): Target {
  if (typeof url === "string") {
    const known = targets.get(url);
    if (known !== undefined) return known;
  }
  const t = parseUrl(url);
  if (typeof url === "string") {
    if (targets.size >= 1024) targets.clear();
    targets.set(url, t);
  }
  return t;
}

function parseUrl(url: string | URL): Target {
  if (typeof url !== "string" && !(url instanceof URL)) throw new HttpError(HttpCode.BadArgument, `expected a URL (a string or a URL object), got ${describe(url)}`);
  let u: URL;
  try {
    u = typeof url === "string" ? new URL(url) : url;
  } catch {
    throw new HttpError(HttpCode.BadArgument, `invalid URL ${show(String(url))}`, String(url));
  }
  if (u.protocol !== "http:") throw new HttpError(HttpCode.BadArgument, `only http:// URLs are supported, got ${show(u.protocol)}`, u.href);
  const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? 80 : Number(u.port);
  if (port === 0) throw new HttpError(HttpCode.BadArgument, "port 0 is no port to send a request to (it means any free port only to a listener)", u.href);
  const path = (u.pathname || "/") + u.search;
  return { hostname, port, key: `${hostname}:${port}`, host: u.host, path, href: u.href, connect: { hostname, port }, plain: new Map() };
}

/** A request whose body a function writes as it goes: its head (see StreamOut) and that function. */
export interface StreamedRequest {
  head: StreamHead;
  body: StreamBody;
}

/** True for a request whose body a function writes (see `encodeRequest`). */
export function isStreamedRequest(p: string | Uint8Array | StreamedRequest): p is StreamedRequest {
  return typeof p === "object" && !(p instanceof Uint8Array);
}

export function encodeRequest(method: string, t: Target, o: RequestOptions): string | Uint8Array | StreamedRequest {
  if (o.headers === undefined && o.body === undefined) {
    const key = `${method} ${o.http10 === true} ${o.keepAlive === false}`;
    let head = t.plain.get(key);
    if (head === undefined) t.plain.set(key, (head = encode(method, t, o) as string));
    return head;
  }
  return encode(method, t, o);
}

function encode(method: string, t: Target, o: RequestOptions): string | Uint8Array | StreamedRequest {
  const minor = o.http10 === true ? 0 : 1;
  let head = `${method} ${t.path} HTTP/1.${minor}\r\nhost: ${t.host}\r\n`;
  /** A Content-Length the caller gave (kept for a streamed body only: the others are measured). */
  let given: string | undefined = undefined;
  const headers = o.headers;
  checkHeaders(headers, "the request options give");
  if (headers !== undefined) {
    for (const name in headers) {
      // A list is sent once per value, as a response's is; a field the client frames with takes one.
      const field: unknown = headers[name];
      if (field === undefined) continue; // an optional field left out
      const list = Array.isArray(field);
      const values = outgoingValues(name, field, "the request options give");
      const key = name.toLowerCase();
      if (key === "host" || key === "content-length" || key === "transfer-encoding" || key === "connection") {
        if (list) throw new HttpError(HttpCode.BadArgument, `the request options give header ${show(name)} a list of values: it takes one`);
        if (key === "content-length") given = values[0];
        continue;
      }
      for (const value of values) head += `${name}: ${value}\r\n`;
    }
  }
  let body = o.body;
  checkBody(body, "the request body", true);
  if (typeof body === "function") return streamed(head, body, given, minor, o);
  if (minor === 1 && o.keepAlive === false) head += "connection: close\r\n";
  let chunked = false;
  if (isStream(body)) {
    if (minor === 1) chunked = true;
    else body = collect(body);
  }
  if (chunked) head += "transfer-encoding: chunked\r\n";
  else if (body !== undefined) head += `content-length: ${byteLength(body as string | Uint8Array)}\r\n`;
  else if (method === "POST" || method === "PUT" || method === "PATCH") head += "content-length: 0\r\n";
  head += "\r\n";
  if (body === undefined) return wireHead(head);
  if (typeof body === "string") return headWith(head, body);
  if (!chunked) return join([wireHead(head), body as Uint8Array]);
  const parts: (string | Uint8Array)[] = [wireHead(head)];
  for (const c of body as Iterable<string | Uint8Array>) parts.push(...chunk(c));
  parts.push(LAST_CHUNK);
  return join(parts);
}

/**
 * A request whose body `body` writes as it goes: framed by the caller's Content-Length, else
 * chunked (HTTP/1.1). HTTP/1.0 has no chunked coding, so it needs the Content-Length.
 */
function streamed(head: string, body: StreamBody, given: string | undefined, minor: number, o: RequestOptions): StreamedRequest {
  if (isAsyncFunction(body)) {
    throw new HttpError(HttpCode.BadArgument, "the request body is an async function; write it as function* (out) { yield* out.write(...) }");
  }
  if (given !== undefined) {
    const n = given.trim();
    if (!/^\d{1,15}$/.test(n)) throw new HttpError(HttpCode.BadArgument, `a streamed request body's content-length ${show(given)} is not a byte count`);
    given = n;
  }
  let framing: StreamFraming;
  if (given !== undefined) {
    framing = "length";
    head += `content-length: ${given}\r\n`;
  } else if (minor === 1) {
    framing = "chunked";
    head += "transfer-encoding: chunked\r\n";
  } else {
    throw new HttpError(HttpCode.BadArgument, "a request body written by a function needs HTTP/1.1 (chunked coding) or a content-length header under http10");
  }
  return { head: { text: head, framing, length: given === undefined ? 0 : Number(given), keepAlive: minor === 1 && o.keepAlive !== false, minor }, body };
}
