/**
 * Request targets and request encoding for the client: parse (and remember) an http:// URL,
 * and encode a request head and body as one payload. Pure functions; imports no Bun API.
 */
import { HttpCode, HttpError } from "./errors.ts";
import { checkOutgoing, show } from "./head.ts";
import { byteLength, checkBody, chunk, collect, isStream, LAST_CHUNK } from "./outgoing-body.ts";
import { join } from "./response.ts";
import type { RequestOptions } from "./options.ts";

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
  let u: URL;
  try {
    u = typeof url === "string" ? new URL(url) : url;
  } catch {
    throw new HttpError(HttpCode.BadArgument, `invalid URL ${show(String(url))}`, String(url));
  }
  if (u.protocol !== "http:") throw new HttpError(HttpCode.BadArgument, `only http:// URLs are supported, got ${show(u.protocol)}`, u.href);
  const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? 80 : Number(u.port);
  const path = (u.pathname || "/") + u.search;
  return { hostname, port, key: `${hostname}:${port}`, host: u.host, path, href: u.href, connect: { hostname, port }, plain: new Map() };
}

export function encodeRequest(method: string, t: Target, o: RequestOptions): string | Uint8Array {
  if (o.headers === undefined && o.body === undefined) {
    const key = `${method} ${o.http10 === true} ${o.keepAlive === false}`;
    let head = t.plain.get(key);
    if (head === undefined) t.plain.set(key, (head = encode(method, t, o) as string));
    return head;
  }
  return encode(method, t, o);
}

function encode(method: string, t: Target, o: RequestOptions): string | Uint8Array {
  const minor = o.http10 === true ? 0 : 1;
  let head = `${method} ${t.path} HTTP/1.${minor}\r\nhost: ${t.host}\r\n`;
  const headers = o.headers;
  if (headers !== undefined) {
    for (const name in headers) {
      const value = String(headers[name]);
      checkOutgoing(name, value);
      const key = name.toLowerCase();
      if (key === "host" || key === "content-length" || key === "transfer-encoding" || key === "connection") continue;
      head += `${name}: ${value}\r\n`;
    }
  }
  if (minor === 1 && o.keepAlive === false) head += "connection: close\r\n";
  let body = o.body;
  checkBody(body, "the request body", false);
  let chunked = false;
  if (isStream(body)) {
    if (minor === 1) chunked = true;
    else body = collect(body);
  }
  if (chunked) head += "transfer-encoding: chunked\r\n";
  else if (body !== undefined) head += `content-length: ${byteLength(body as string | Uint8Array)}\r\n`;
  else if (method === "POST" || method === "PUT" || method === "PATCH") head += "content-length: 0\r\n";
  head += "\r\n";
  if (body === undefined) return head;
  if (typeof body === "string") return head + body;
  if (!chunked) return join([head, body as Uint8Array]);
  const parts: (string | Uint8Array)[] = [head];
  for (const c of body as Iterable<string | Uint8Array>) parts.push(...chunk(c));
  parts.push(LAST_CHUNK);
  return join(parts);
}
