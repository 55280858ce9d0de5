/**
 * The client's side of one response: read its head (skipping interim 1xx ones) and its body
 * whole, or hand it to a `requestStream` caller's `use` with its body unread. Also the types
 * the client and this share. Imports no Bun API.
 */
import { current } from "../syscalls.ts";
import { describe, ignoreRejection } from "../syscall.ts";
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { parseResponseHead, readHead } from "./head.ts";
import { connectionHas } from "./fields.ts";
import { BodyReader, readBody, responseFraming } from "./body.ts";
import { HttpResponse } from "./response-object.ts";
import { StreamedResponse } from "./streamed-response.ts";
import type { Target } from "./target.ts";
import type { Exchange } from "./deadline.ts";

/** What a `requestStream` caller does with the response. */
export type Use = (res: StreamedResponse) => Co<unknown>;

/** How far an attempt got: a response head arrived (no retry then, but for a 408), the response was handed to `use`. */
export interface Progress {
  head: boolean;
  handed: boolean;
  /** A reused connection's bytes read before the request (-1 for a new one): any more, and part of a response came. */
  received: number;
  /** The request's deadline, if it has one. */
  ex: Exchange | undefined;
}

/** A response read: the whole response (or what `use` returned), its status, and whether its connection may serve another request. */
export interface Read {
  response: unknown;
  status: number;
  keepAlive: boolean;
  /** The response was read to its end (a streamed one's `use` may leave it part read). */
  complete: boolean;
}

/** Most interim (1xx) responses accepted before the final one: a server sending them forever is an error, not a hang. */
const MAX_INTERIM = 16;

/** What `readResponse` needs besides the connection. */
export interface ReadOptions {
  maxHeader: number;
  maxBody: number;
  /** A `requestStream` caller's function, or undefined to read the body whole. */
  use: Use | undefined;
  /** A 408 would be sent again (a reused connection's first attempt, an idempotent method): not handed to `use`. */
  retry408: boolean;
  progress: Progress;
}

/**
 * Read the response on `conn`: whole, or (with `use`) its head, then hand it to `use`;
 * `progress` says how far it got (the client decides from it whether a retry is safe).
 *
 * @example
 * ```ts
 * const { response, keepAlive } = yield* readResponse(conn, "GET", target, { maxHeader, maxBody, use: undefined, retry408: false, progress });
 * ```
 */
export function* readResponse(conn: Conn, method: string, target: Target, o: ReadOptions): Co<Read> {
  const { use, retry408, progress } = o;
  for (let interim = 0; ; interim++) {
    if (interim > MAX_INTERIM) throw new HttpError(HttpCode.BadStatusLine, `more than ${MAX_INTERIM} interim (1xx) responses before the response`);
    const raw = yield* readHead(conn, o.maxHeader);
    if (raw === null) throw new HttpError(HttpCode.NoResponse, "the server closed the connection without sending a response");
    progress.head = true;
    const head = parseResponseHead(raw);
    if (head.status < 200) {
      if (head.status === 101) throw new HttpError(HttpCode.BadStatusLine, "101 Switching Protocols is not supported");
      continue; // 100 Continue and other interim responses
    }
    const known = head.fields.known;
    const framing = responseFraming(method, head.status, known);
    // A body framed both ways (or chunked in HTTP/1.0) is read as chunked, but the connection
    // is not trusted for another request (RFC 9112 §6.3).
    const ambiguous = known["transfer-encoding"] !== undefined && (known["content-length"] !== undefined || head.minor === 0);
    // A `close` in the list wins over a `keep-alive` beside it (RFC 9112 §9.3).
    const keepAlive = !ambiguous && framing.kind !== "close" && !connectionHas(known, "close") && (head.minor === 1 || connectionHas(known, "keep-alive"));
    if (use === undefined) {
      const body = yield* readBody(conn, framing, o.maxBody);
      return { response: new HttpResponse(head, body, target.href), status: head.status, keepAlive, complete: true };
    }
    if (head.status === 408 && retry408) return { response: undefined, status: 408, keepAlive: false, complete: false }; // sent again
    const res = new StreamedResponse(head, new BodyReader(conn, framing, Infinity), target.href);
    progress.handed = true;
    // The deadline interrupts `use` wherever it waits (a read, or anything else).
    const ex = progress.ex;
    if (ex !== undefined) ex.using = yield* current();
    try {
      const made: unknown = use(res);
      if (made === null || typeof made !== "object" || typeof (made as Co<unknown>).next !== "function" || typeof (made as Co<unknown>).throw !== "function") {
        ignoreRejection(made);
        throw new TypeError(`requestStream(url, options, use): use returned ${describe(made)}, not a generator; write it as function* (res) {...}`);
      }
      const value = yield* made as Co<unknown>;
      return { response: value, status: head.status, keepAlive: keepAlive && res.bodyRead, complete: res.bodyRead };
    } finally {
      res.end();
      if (ex !== undefined) ex.using = undefined;
    }
  }
}
