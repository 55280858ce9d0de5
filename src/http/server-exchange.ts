/**
 * One request → response on a server connection (server.ts runs the connection's life around
 * it): parse the head, apply the limits, run the handler, send its response whole or streamed,
 * or answer an error status. Built on corun syscalls; no Bun API.
 */
import { abortConn } from "./close.ts";
import { current } from "../syscalls.ts";
import { Cancelled } from "../errors.ts";
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { NetError } from "../net/errors.ts";
import { describe, ignoreRejection } from "../syscall.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { isHeadRequest, parseRequestHead } from "./head.ts";
import { connectionHas } from "./fields.ts";
import { requestFraming } from "./body.ts";
import { HttpRequest, type HttpHandler } from "./request.ts";
import { encodeResponse, errorResponse, type Encoded } from "./response.ts";
import { StreamOut } from "./stream-body.ts";
import type { Watchdog } from "./watchdog.ts";
import { guardFor, sendWithin } from "./server-io.ts";
import type { HttpServerOptions } from "./options.ts";
import { applyLimitsFor, type ServerLimits } from "./server-limits.ts";
import { Thrown } from "../outcome.ts";

/** What an exchange needs of its server (kept off the public `HttpServer`). */
export interface ExchangeHost {
  readonly watchdog: Watchdog;
  readonly limits: ServerLimits;
  readonly limitsFor: HttpServerOptions["limitsFor"];
  readonly handler: HttpHandler;
  /** True once `close()` has begun: a response then says `Connection: close`. */
  readonly closing: boolean;
  /** True once `abort()` has begun: nothing more is answered, the connection is reset instead. */
  readonly aborting: boolean;
  /** Connections whose client may still be sending when they close (see `lingerClose`). */
  readonly linger: WeakSet<Conn>;
  /** A request was answered (error responses included). */
  answered(): void;
  /** The handler or `limitsFor` threw `error`: count it and tell `onError`. */
  failed(error: unknown, req: HttpRequest): void;
}

/**
 * Serve the request whose head is `raw` on `conn`. True to keep the connection for another request.
 *
 * @example
 * ```ts
 * const head = yield* readHead(conn, limits.maxHeaderBytes, () => false);
 * if (head !== null && !(yield* exchange(host, conn, head))) yield* closeConn(conn);
 * ```
 */
export function* exchange(host: ExchangeHost, conn: Conn, raw: Uint8Array): Co<boolean> {
  const watchdog = host.watchdog;
  let req: HttpRequest;
  let limits = host.limits;
  const limitsFor = host.limitsFor;
  try {
    const head = parseRequestHead(raw);
    const framing = requestFraming(head.fields.known);
    const hasBody = framing.kind !== "none";
    req = new HttpRequest(head, conn, framing, limits.maxBodyBytes, hasBody ? guardFor(watchdog, limits.bodyTimeout, conn) : undefined);
    if (limitsFor !== undefined) {
      const own = applyLimitsFor(limitsFor, req, limits, hasBody ? (ms) => guardFor(watchdog, ms, conn) : undefined);
      if (own instanceof Thrown) {
        host.failed(own.error, req); // user code: a 500
        return yield* reject(host, conn, 500, "the server's limitsFor failed", head.method === "HEAD");
      }
      limits = own;
    }
    if (framing.kind === "length" && framing.length > limits.maxBodyBytes) {
      return yield* reject(host, conn, new HttpError("BODY_TOO_LARGE", `Content-Length ${framing.length} is over the limit of ${limits.maxBodyBytes} bytes`), "", head.method === "HEAD", limits.bodyTimeout);
    }
  } catch (error) {
    if (error instanceof HttpError) return yield* reject(host, conn, error, "", isHeadRequest(raw));
    throw error;
  }
  const known = req.fields.known;
  // HTTP/1.0 has no chunked coding: such a request is read as chunked, but not trusted for another.
  // A `close` in the list wins over a `keep-alive` beside it (RFC 9112 §9.3).
  const keep = !connectionHas(known, "close") && (req.version === "1.1" || (connectionHas(known, "keep-alive") && known["transfer-encoding"] === undefined));
  let payload: string | Uint8Array;
  let keepAlive: boolean;
  let out: StreamOut | undefined = undefined;
  try {
    const made: unknown = host.handler(req);
    if (made === null || typeof made !== "object" || typeof (made as Co<unknown>).next !== "function" || Symbol.asyncIterator in made) {
      ignoreRejection(made);
      throw new TypeError(`the handler returned ${describe(made)}, not a generator: write it as function* (req) {...}`);
    }
    const res = yield* made as ReturnType<HttpHandler>;
    // A handler that caught abort()'s cancel and answered anyway (a fallback, a 502): not sent.
    if (host.aborting) {
      yield* abortConn(conn);
      return false;
    }
    const ctx = { method: req.method, minor: req.version === "1.1" ? 1 : 0, keepAlive: keep && !host.closing, bodyRead: req.bodyRead };
    let stream: Encoded["stream"];
    ({ payload, keepAlive, stream } = encodeResponse(res, ctx));
    if (stream !== undefined) {
      out = new StreamOut(stream.head, {
        send: (p) => sendWithin(watchdog, conn, p, limits.bodyTimeout),
        bodyRead: () => req.bodyRead,
        onHead: () => {
          host.answered();
          req.answered(); // no 100 Continue after this
        },
        closing: () => host.closing,
      });
      yield* out.run(stream.body);
      keepAlive = out.keepAlive; // as its head said (a request body unread by then closes it)
    }
    if (!req.bodyRead) host.linger.add(conn); // the client may still be sending it
  } catch (error) {
    out?.close();
    // This connection's own task was cancelled (the server or the run is closing).
    if (error instanceof Cancelled && error.task === (yield* current())) throw error;
    // Classified by where it came from, not by its class: the request's own failure (its
    // body over the limit, too slow, malformed, or the client gone) gets its status; any other
    // error the handler let out, even a NetError or HttpError of its own calls, is a 500.
    const fromRequest = req.failure !== undefined && req.failure.error === error;
    // The client went away (a streamed body that caught the write's error and failed otherwise too).
    if ((fromRequest && error instanceof NetError) || out?.failure !== undefined) throw out?.failure ?? error;
    const own = fromRequest && error instanceof HttpError && error.code !== HttpCode.BadArgument;
    if (!own) host.failed(error, req);
    if (out?.headSent) {
      // Part of the response is out: no status can follow. Reset, so the client sees it cut off.
      yield* abortConn(conn);
      return false;
    }
    return yield* reject(host, conn, own ? error.status : 500, own ? error.detail : "the handler failed", req.method === "HEAD", limits.bodyTimeout);
  }
  if (out === undefined) {
    host.answered();
    yield* sendWithin(watchdog, conn, payload, limits.bodyTimeout);
  }
  return keepAlive;
}

/**
 * Answer an error status (from `error`, or the number with `detail`) and mark the connection
 * to linger on close: it was refused mid-request, so the client may still be sending.
 * `head`: the request was a HEAD (no body). `ms`: how long the client has to take the answer.
 *
 * @example
 * ```ts
 * return yield* reject(host, conn, new HttpError("BAD_REQUEST", "no Host header"));
 * ```
 */
export function* reject(host: ExchangeHost, conn: Conn, error: HttpError | number, detail = "", head = false, ms = host.limits.bodyTimeout): Co<false> {
  if (host.aborting) {
    yield* abortConn(conn); // abort(): nothing more is answered
    return false;
  }
  host.answered();
  host.linger.add(conn);
  const status = typeof error === "number" ? error : error.status;
  yield* sendWithin(host.watchdog, conn, errorResponse(status, typeof error === "number" ? detail : error.detail, head), ms);
  return false;
}
