/**
 * How the HTTP server writes and closes under deadlines: a response the client does not take
 * in time aborts the connection (a client that stops reading cannot hold a task, or
 * `server.close()`, forever), and a connection whose client may still be sending is closed
 * gracefully (a FIN, then its input drained for a while), because closing with unread bytes
 * makes the kernel reset the connection, which can destroy the response before it is read.
 * Also the deadline for reading a request body.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { NetError } from "../net/errors.ts";
import { abortConn, closeConn } from "./close.ts";
import type { Watchdog } from "./watchdog.ts";
import type { BodyGuard } from "./request.ts";

/** How long a client has to take a last error response (408) before the connection is aborted. */
export const LAST_REPLY_MS = 1000;

/** How long a graceful close drains what the client still sends before resetting the connection. */
export const LINGER_MS = 2000;

/**
 * Write `payload` to `conn`; if the client has not taken it all within `ms`, the connection is
 * aborted and the write throws `NetError`.
 *
 * @example
 * ```ts
 * yield* sendWithin(watchdog, conn, errorResponse(413, "too large"), 30_000);
 * ```
 */
export function* sendWithin(watchdog: Watchdog, conn: Conn, payload: string | Uint8Array, ms: number): Co<void> {
  const d = watchdog.arm(ms, () => abortConn(conn));
  try {
    if (!watchdog.running) yield* watchdog.start(); // in the try: an error raised here disarms d
    yield* conn.write(payload);
  } finally {
    watchdog.disarm(d);
  }
}

/**
 * Close `conn` gracefully: end our side (the client sees the whole response, then a FIN), drop
 * whatever it still sends until it closes, then close; or reset it once `LINGER_MS` pass.
 *
 * @example
 * ```ts
 * yield* lingerClose(watchdog, conn); // after a 413 sent while the client was still uploading
 * ```
 */
export function* lingerClose(watchdog: Watchdog, conn: Conn): Co<void> {
  if (conn.closed) return;
  const d = watchdog.arm(LINGER_MS, () => abortConn(conn)); // given up on: a close would wait for its FIN again
  try {
    if (!watchdog.running) yield* watchdog.start();
    yield* conn.end();
    while ((yield* conn.read()) !== null) {
      // dropped: the request it belongs to was answered already
    }
  } catch (error) {
    if (!(error instanceof NetError)) throw error; // reset by the client, or closed by the deadline
  } finally {
    watchdog.disarm(d);
    yield* closeConn(conn); // also when cancelled (server.abort(), the end of run())
  }
}

/**
 * Send a last response and close, as its own task's work (a watchdog's reaper must not wait
 * on a client): a client that does not take it within `ms` is aborted; network errors end it quietly.
 *
 * @example
 * ```ts
 * yield* spawn(() => replyAndClose(watchdog, conn, errorResponse(408, "too slow"), 1000));
 * ```
 */
export function* replyAndClose(watchdog: Watchdog, conn: Conn, payload: string | Uint8Array, ms: number): Co<void> {
  try {
    yield* sendWithin(watchdog, conn, payload, ms);
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
  }
  yield* closeConn(conn);
}

/**
 * The deadline for reading one request body: `ms` of waiting for the client in all, each read
 * armed with what is left; past it, the waiting read is cut off by resetting the connection (the
 * handler's `req.body()` or `req.read()` then throws).
 *
 * @example
 * ```ts
 * new HttpRequest(head, conn, framing, maxBody, guardFor(watchdog, 30_000, conn));
 * ```
 */
export function guardFor(watchdog: Watchdog, ms: number, conn: Conn): BodyGuard {
  return {
    ms,
    *arm(left) {
      const d = watchdog.arm(left, () => abortConn(conn)); // given up on: reset, its descriptor freed now
      try {
        if (!watchdog.running) yield* watchdog.start();
      } catch (error) {
        watchdog.disarm(d);
        throw error;
      }
      return d;
    },
    disarm: (d) => watchdog.disarm(d),
    send: (payload) => sendWithin(watchdog, conn, payload, ms),
  };
}
