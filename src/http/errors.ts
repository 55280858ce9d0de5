/**
 * HttpError: what went wrong in an HTTP exchange (a malformed message, a size cap, a
 * timeout), with a code, the status a server answers with, and the task and URL involved.
 * Imports nothing; the parser, client and server make these.
 */

/**
 * The codes an `HttpError` carries, with the status a server replies with for each.
 *
 * @example
 * ```typescript
 * if (e instanceof HttpError && e.code === HttpCode.Timeout) retryLater();
 * ```
 */
export const HttpCode = {
  /** The request line is not `METHOD target HTTP/1.x`. */
  BadRequestLine: "BAD_REQUEST_LINE",
  /** The status line is not `HTTP/1.x NNN reason`. */
  BadStatusLine: "BAD_STATUS_LINE",
  /** A header line is malformed (no colon, bad name, control characters, folding). */
  BadHeader: "BAD_HEADER",
  /** `Content-Length` is not a number, or two of them disagree, or it comes with `Transfer-Encoding`. */
  BadContentLength: "BAD_CONTENT_LENGTH",
  /** A chunk of a chunked body is malformed. */
  BadChunk: "BAD_CHUNK",
  /** A `Transfer-Encoding` with a coding besides `chunked` (`gzip, chunked`), which corun does not decode: a 501. */
  UnsupportedEncoding: "UNSUPPORTED_TRANSFER_ENCODING",
  /** A request's `Transfer-Encoding` does not end in `chunked`: its body's length cannot be known. */
  BadTransferEncoding: "BAD_TRANSFER_ENCODING",
  /** A method this server does not implement: `CONNECT` (it makes no tunnels). A 501. */
  UnsupportedMethod: "UNSUPPORTED_METHOD",
  /** An HTTP version other than 1.x (a later 1.x is taken as 1.1). */
  UnsupportedVersion: "UNSUPPORTED_VERSION",
  /** The head (start line and headers) is larger than allowed. */
  HeadersTooLarge: "HEADERS_TOO_LARGE",
  /** The start line alone (for a request: its target) is larger than the head may be. */
  StartLineTooLong: "START_LINE_TOO_LONG",
  /** The body is larger than allowed. */
  BodyTooLarge: "BODY_TOO_LARGE",
  /** A request body is not what the handler asked for: `req.json()` of a body that is no JSON (a 400). */
  BadBody: "BAD_BODY",
  /** The connection ended in the middle of the head. */
  IncompleteHead: "INCOMPLETE_HEAD",
  /** The connection ended in the middle of the body. */
  IncompleteBody: "INCOMPLETE_BODY",
  /** The peer closed the connection without sending a response. */
  NoResponse: "NO_RESPONSE",
  /** The exchange took longer than its timeout. */
  Timeout: "TIMEOUT",
  /** A bad argument: URL, method, header name or value. */
  BadArgument: "BAD_ARGUMENT",
  /** The client was closed (`HttpClient.close()`): it sends no more requests. */
  ClientClosed: "CLIENT_CLOSED",
} as const;

/** One of the values of `HttpCode`. */
export type HttpCode = (typeof HttpCode)[keyof typeof HttpCode];

const STATUS: Record<string, number> = {
  HEADERS_TOO_LARGE: 431,
  START_LINE_TOO_LONG: 414,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_TRANSFER_ENCODING: 501,
  UNSUPPORTED_METHOD: 501,
  UNSUPPORTED_VERSION: 505,
  TIMEOUT: 408,
};

/**
 * An HTTP exchange failed. `code` says what was wrong (`HttpCode`), `status` is the status
 * a server answers with (400, 413, 431...), `url` and `taskName` say where and who.
 *
 * @example
 * ```ts
 * import { run, request, HttpError } from "corun";
 * await run(function* () {
 *   try {
 *     yield* request("ftp://127.0.0.1/");
 *   } catch (e) {
 *     if (e instanceof HttpError) console.log(e.code); // BAD_ARGUMENT
 *   }
 * });
 * ```
 */
export class HttpError extends Error {
  override name = "HttpError";
  /** What was wrong; one of `HttpCode`. */
  readonly code: HttpCode;
  /** The status a server replies with for this error (400 unless the code says otherwise). */
  readonly status: number;
  /** The URL (client side) or peer address (server side); empty if unknown. */
  readonly url: string;
  /** The task that made the call; empty if unknown. */
  readonly taskName: string;
  constructor(code: HttpCode, detail: string, url = "", taskName = "", cause?: unknown) {
    const where = url ? ` ${url}` : "";
    const who = taskName ? ` in task "${taskName}"` : "";
    super(`HTTP${where}${who}: ${code} (${detail})`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.status = STATUS[code] ?? 400;
    this.url = url;
    this.taskName = taskName;
    this.detail = detail;
  }
  /** The explanation without the location. */
  readonly detail: string;

  /** The same error, located: used when a parser error reaches the client or server. */
  at(url: string, taskName: string): HttpError {
    if (this.url && this.taskName) return this;
    return new HttpError(this.code, this.detail, url, taskName, this);
  }
}

/** Errors that are a server request's own failure (its body too large, too slow...): see `requestFailure`. */
const requestFailures = new WeakSet<object>();

/**
 * @internal Record `error` as a server request's own failure, thrown by its `read()` or
 * `body()`. The server answers it by identity (413, 408...), so it must reach the handler as
 * it is: a client request whose body function forwarded that body (a proxy) passes it
 * through, not re-made with the client's URL (a 500 that blamed the upstream).
 */
export function requestFailure(error: unknown): { error: unknown } {
  if (typeof error === "object" && error !== null) requestFailures.add(error);
  return { error };
}

/** @internal Is `error` a server request's own failure (see `requestFailure`)? */
export function isRequestFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && requestFailures.has(error);
}
