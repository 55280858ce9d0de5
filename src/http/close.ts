/**
 * `closeConn` / `abortConn`: close (or reset) a connection once, however many tasks try (a
 * connection's task and a timeout may both close it in one tick): later calls skip the
 * syscall. A close that a cancel or interrupt stopped at its yield is sent again. Imports no Bun API.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";

const closing = new WeakSet<Conn>();

/** Close `conn` unless it is closed or being closed already. */
export function* closeConn(conn: Conn): Co<void> {
  yield* once(conn, false);
}

/** Reset `conn` (its pending reads and writes fail at once) unless it is closed or being closed. */
export function* abortConn(conn: Conn): Co<void> {
  yield* once(conn, true);
}

function* once(conn: Conn, reset: boolean): Co<void> {
  if (conn.closed || closing.has(conn)) return;
  closing.add(conn);
  try {
    yield* reset ? conn.abort() : conn.close();
  } catch (error) {
    if (!conn.closed) {
      // Raised at the yield (a cancel, an interrupt), the syscall never went out: send it now.
      // A cancel is raised once, so this one is submitted; the first error is the one to report.
      try {
        yield* reset ? conn.abort() : conn.close();
      } catch {
        // reported below
      }
      if (!conn.closed) closing.delete(conn); // still open: a later close must not skip it
    }
    throw error;
  }
}
