/**
 * The TCP driver's counters: per connection (`conn.stats()`) and for the whole driver
 * (`netStats()`), and how a closed connection's counters join the driver's totals.
 * Types and one helper only.
 */

/**
 * Per-connection counters, read with `conn.stats()`.
 *
 * @example
 * ```ts
 * import type { Conn, ConnStats } from "corun";
 * function writesPerHostWrite(conn: Conn): number {
 *   const s: ConnStats = conn.stats();
 *   return s.writeOps / Math.max(1, s.hostWrites); // > 1: writes of one tick were coalesced
 * }
 * ```
 */
export interface ConnStats {
  /** `socket.write` calls made (a tick's writes to this socket share one). */
  hostWrites: number;
  /** `write()` syscalls made by tasks. */
  writeOps: number;
  /** Bytes accepted by the kernel. */
  bytesWritten: number;
  /** Bytes received from the peer. */
  bytesRead: number;
  /** Host writes that took only part of the data (the rest went on `drain`). */
  partialWrites: number;
  /** Bytes received and not yet read by a task. */
  buffered: number;
  /** The most bytes ever buffered at once. */
  maxBuffered: number;
  /** Times reading was paused because `buffered` reached the high-water mark. */
  pauses: number;
  /**
   * Bytes tasks have written that the kernel has not taken yet (waiting for room in a slow
   * peer's window, or for this tick's flush). A write cut short by a cancel or a time limit
   * after it was handed over still counts until its bytes go: watch this to find a client
   * that does not read.
   */
  unsent: number;
}

/**
 * Totals for the whole driver (one per `run()`), read with `yield* netStats()`.
 *
 * @example
 * ```ts
 * import { run, netStats, type TcpDriverStats } from "corun";
 * await run(function* () {
 *   const s: TcpDriverStats = yield* netStats();
 *   console.log(s.connections, s.listeners); // 0 0
 * });
 * ```
 */
export interface TcpDriverStats extends Omit<ConnStats, "buffered" | "maxBuffered" | "unsent"> {
  /** Bytes tasks wrote that the kernel has not taken yet, over all connections open now. */
  unsent: number;
  /** Listeners open now. */
  listeners: number;
  /** Connections open now (accepted or connected, not yet closed, or closed and still sending their last bytes or waiting for the peer's FIN). */
  connections: number;
  /** Bun.connect calls made. */
  connectsStarted: number;
  /** Connects that had to wait for a slot (the destination had `connectLimit` in flight). */
  connectsQueued: number;
  /** The most connects in flight at once to one destination. */
  maxConnectsInFlight: number;
  /** Connections accepted by listeners. */
  accepted: number;
  /** Bytes buffered, unread, over all connections now. */
  buffered: number;
}

/** All counters at zero. */
export const ZERO: ConnStats = { hostWrites: 0, writeOps: 0, bytesWritten: 0, bytesRead: 0, partialWrites: 0, buffered: 0, maxBuffered: 0, pauses: 0, unsent: 0 };

/**
 * Add one connection's driver-wide counters into a running total.
 *
 * @example
 * ```ts
 * const total = { ...ZERO };
 * addCounters(total, conn.stats());
 * ```
 */
export function addCounters(into: ConnStats, c: ConnStats): void {
  into.hostWrites += c.hostWrites;
  into.writeOps += c.writeOps;
  into.bytesWritten += c.bytesWritten;
  into.bytesRead += c.bytesRead;
  into.partialWrites += c.partialWrites;
  into.pauses += c.pauses;
}

