/**
 * `closeConn`: close a connection unless it is already closed. A second `conn.close()` on
 * a handle the TCP driver has already closed never completes (reported as a TCP-layer bug;
 * see test/http/tcp-bugs.test.ts), so HTTP code never closes twice. Imports no Bun API.
 */
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";

/** Close `conn` if it is still open (closing a closed connection would wait forever). */
export function* closeConn(conn: Conn): Co<void> {
  if (!conn.closed) yield* conn.close();
}
