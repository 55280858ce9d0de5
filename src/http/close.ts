/**
 * `closeConn` / `abortConn`: close (or reset) a connection once, however many tasks try (a
 * connection's task and a timeout may both close it in one tick): later calls skip the
 * syscall. Imports no Bun API.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";

const closing = new WeakSet<Conn>();

/** Close `conn` unless it is closed or being closed already. */
export function* closeConn(conn: Conn): Co<void> {
  if (conn.closed || closing.has(conn)) return;
  closing.add(conn);
  yield* conn.close();
}

/** Reset `conn` (its pending reads and writes fail at once) unless it is closed or being closed. */
export function* abortConn(conn: Conn): Co<void> {
  if (conn.closed || closing.has(conn)) return;
  closing.add(conn);
  yield* conn.abort();
}
