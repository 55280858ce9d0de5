/**
 * `connect()` and `netStats()`: open a TCP (or unix, or TLS) connection from a coroutine,
 * and read the TCP driver's counters. Descriptors only; imports no Bun API.
 */
import { io } from "../syscalls.ts";
import { describe, type Syscall } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";
import type { TcpDriverStats } from "../reactor/tcp.ts";
import type { Conn } from "./conn.ts";
import type { ConnectOptions } from "./options.ts";
import { checkHwm, checkLinger, checkOptions, checkPort, wrapConn } from "./listener.ts";

const CONNECT_KEYS = Object.keys(
  { hostname: 1, port: 1, unix: 1, tls: 1, highWaterMark: 1, closeLingerMs: 1, connectLimit: 1, handshakeTimeout: 1 } satisfies Record<keyof ConnectOptions, 1>,
);

/**
 * Connect to `{ hostname, port }` or `{ unix: path }` (optionally `tls`). Throws `NetError`
 * with `code: "ECONNREFUSED"` when nothing listens there. At most `connectLimit` (default
 * 256) connects to one destination are in flight at once; the rest wait their turn, so
 * thousands of simultaneous connects never overflow the peer's listen backlog.
 *
 * @example
 * ```ts
 * import { run, connect } from "corun";
 * await run(function* () {
 *   const c = yield* connect({ hostname: "127.0.0.1", port: 8080 });
 *   yield* c.write("GET / HTTP/1.0\r\n\r\n");
 *   console.log(new TextDecoder().decode(yield* c.readAll()));
 *   yield* c.close();
 * });
 * ```
 */
export function connect(options: ConnectOptions): Syscall<Conn> {
  checkOptions(options, "connect");
  checkKeys(options, CONNECT_KEYS, "connect(options)");
  if (options.unix === undefined) checkPort(options.port, "connect", false);
  checkHwm(options.highWaterMark, "connect");
  checkLinger(options.closeLingerMs, "connect");
  const tls: unknown = options.tls;
  // A boolean, or an object of TLS options; null was taken as no TLS, unlike listen(), which refuses it.
  if (tls !== undefined && typeof tls !== "boolean" && (tls === null || typeof tls !== "object" || Array.isArray(tls))) {
    throw new TypeError(`connect(options): tls must be true, false or an object of TLS options such as { serverName, ca }, got ${describe(tls)}`);
  }
  const hs = options.handshakeTimeout;
  if (hs !== undefined && (typeof hs !== "number" || !(hs >= 1) || hs > 2 ** 31 - 1)) {
    throw new RangeError(`connect(options): handshakeTimeout must be a number of ms from 1 to 2^31-1, got ${describe(hs)}`);
  }
  if (hs !== undefined && !tls) throw new TypeError(`connect(options): handshakeTimeout (${hs} ms) applies only to a TLS connect; add tls or drop it`);
  const limit = options.connectLimit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError(`connect(options): connectLimit must be an integer >= 1, got ${describe(limit)}`);
  }
  return io("tcp.connect", { ...options }, wrapConn);
}

/**
 * The TCP driver's counters for this `run()`: host writes vs write ops (coalescing), bytes,
 * partial writes, read pauses, connects started / queued / most in flight, connections
 * and listeners open, bytes buffered.
 *
 * @example
 * ```ts
 * import { run, netStats } from "corun";
 * await run(function* () {
 *   const s = yield* netStats();
 *   console.log(s.hostWrites, s.writeOps, s.connectsQueued);
 * });
 * ```
 */
export function netStats(): Syscall<TcpDriverStats> {
  return io("tcp.stats");
}
