/**
 * How the client sends a request: a small one in one write before the response is read; a
 * large one by a task of its own while the response is read (RFC 9112 §9.5), so a server that
 * answers early (a 413, a 401) and stops reading gets its answer to the caller instead of a
 * stalled upload. Imports no Bun API.
 */
import { cancel, spawn } from "../syscalls.ts";
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { StreamOut } from "./stream-body.ts";
import { abortConn } from "./close.ts";
import type { StreamedRequest } from "./target.ts";

/** A request larger than this is sent while the response is already read. */
export const WATCH_BYTES = 64 * 1024;

/**
 * Write `payload` to `conn` and run `read` (the response): after the write for a small
 * payload, alongside it for a large one. `sentAll` says whether the whole request went out
 * (if not, the connection cannot serve another request, and the rest must not be sent).
 *
 * @example
 * ```ts
 * const { sentAll, ...res } = yield* sendWhileReading(conn, payload, () => readResponse(conn));
 * ```
 */
export function* sendWhileReading<R extends object>(conn: Conn, payload: string | Uint8Array, read: () => Co<R>): Co<R & { sentAll: boolean }> {
  if (payload.length <= WATCH_BYTES) {
    yield* conn.write(payload);
    return { ...(yield* read()), sentAll: true };
  }
  let sent = false;
  const res = yield* whileSending(function* sendRequest() {
    try {
      yield* conn.write(payload);
      sent = true;
    } catch {
      // A reset or close under the write: the read (or the exchange's end) reports what happened.
    }
  }, read);
  return { ...res, sentAll: sent };
}

/**
 * Send a request whose body a function writes (`req.body`, with its head) by a task of its
 * own while the response is read, as a large request is. If the function fails, the
 * connection is reset and the request fails with its error; if the server answers before the
 * body is all sent, the rest is not written.
 *
 * @example
 * ```ts
 * const res = yield* streamWhileReading(conn, { head, body }, () => readResponse(conn));
 * ```
 */
export function* streamWhileReading<R extends object>(conn: Conn, req: StreamedRequest, read: () => Co<R>): Co<R & { sentAll: boolean }> {
  let sent = false;
  let failure = undefined as { error: unknown } | undefined;
  const out = new StreamOut(req.head, {
    *send(p) {
      yield* conn.write(p);
    },
    bodyRead: () => true,
    onHead: () => {},
    closing: () => false,
  });
  const res = yield* whileSending(
    function* sendRequestBody() {
      try {
        yield* out.run(req.body);
        sent = true;
      } catch (error) {
        // The connection's own failure (the server closed or reset it): the read reports it.
        if (error === out.failure) return;
        failure = { error };
        yield* abortConn(conn); // the read fails at once; the request fails with this error
      }
    },
    function* () {
      let r: R;
      try {
        r = yield* read();
      } catch (error) {
        throw failure === undefined ? error : failure.error;
      }
      // The function failed while the response was read whole (a server that answered at
      // once): the request still fails with its error.
      if (failure !== undefined) throw failure.error;
      return r;
    },
  );
  return { ...res, sentAll: sent };
}

/**
 * Run `send` in a task of its own while `read` runs here; once `read` has ended, however, a
 * writer still sending is cancelled (the rest of the request is not sent).
 */
function* whileSending<R>(send: () => Co<void>, read: () => Co<R>): Co<R> {
  const writer = yield* spawn(send);
  try {
    return yield* read();
  } finally {
    if (!writer.ended) {
      try {
        yield* cancel(writer);
      } catch (error) {
        // Something pending for this task was raised at that yield (it is raised once): cancel again.
        if (!writer.ended) yield* cancel(writer);
        throw error;
      }
    }
  }
}
