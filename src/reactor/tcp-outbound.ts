/**
 * Outbound: one connection's sending side inside the TCP driver — a tick's writes queued and
 * sent as one `socket.write` (what the kernel did not take is resent on drain), each write
 * completed once its last byte is taken, and half-closes (FIN after every queued byte).
 */
import type { CompletionSink, Ticket } from "./reactor.ts";
import { NetCode, type NetError } from "../net/errors.ts";
import { PendingWrites } from "./pending-writes.ts";
import type { ConnStats } from "./tcp-stats.ts";

/** What the sending side needs from its connection. */
export interface OutboundHost {
  readonly socket: { write(data: Uint8Array): number; shutdown(): void } | undefined;
  readonly closed: boolean;
  readonly gone: boolean;
  readonly error: NetError | undefined;
  readonly counters: ConnStats;
  /** An error with `code` for `t`'s op and task. */
  err(t: Ticket, code: string): NetError;
  /** The stored socket error, made for `t`'s op and task. */
  rethrow(t: Ticket): NetError;
}

/**
 * The sending side of one connection.
 *
 * @example
 * ```ts
 * const outbound = new Outbound(handle);
 * outbound.queueWrite(ticket, bytes, sink); // sent at the tick's flush
 * outbound.flush(sink);                      // one socket.write; completes the writes it took
 * ```
 */
export class Outbound {
  readonly #h: OutboundHost;
  #out: Uint8Array[] = [];
  /** Writes waiting for the kernel to take their last byte. */
  #writes = new PendingWrites();
  waitingDrain = false;
  /** end() calls waiting for their FIN to go (after every queued byte); usually one. */
  #ends: Ticket[] | undefined = undefined;
  /** Our FIN has gone. */
  ended = false;

  constructor(host: OutboundHost) {
    this.#h = host;
  }

  /** Bun's drain: the kernel has room again (the next flush writes). */
  drained(): void {
    this.waitingDrain = false;
  }

  /** True while bytes wait to be sent (for room in the kernel, or for the tick's flush). */
  get unsent(): boolean {
    return this.#out.length > 0;
  }

  /** Bytes written by tasks and not yet taken by the kernel. */
  get unsentBytes(): number {
    return this.#writes.queued - this.#writes.accepted;
  }

  /** Queue a write for this tick's flush. False if it failed (or completed) at once. */
  queueWrite(t: Ticket, data: Uint8Array, sink: CompletionSink): boolean {
    const h = this.#h;
    if (h.closed) return void sink.fail(t, h.err(t, NetCode.Closed)), false;
    if (this.ended || this.#ends !== undefined) return void sink.fail(t, h.err(t, NetCode.WriteAfterEnd)), false;
    if (h.error !== undefined) return void sink.fail(t, h.rethrow(t)), false;
    if (h.gone) return void sink.fail(t, h.err(t, NetCode.PeerClosed)), false;
    h.counters.writeOps++; // a write taken (a refused one is not counted: a closed connection's counters are already in netStats())
    if (data.length === 0) return void sink.complete(t, 0), false;
    this.#out.push(data);
    this.#writes.add(t, data.length);
    return true;
  }

  /** Queue a half-close: sent after every queued byte. A second end() waits for the same FIN. */
  queueEnd(t: Ticket, sink: CompletionSink): void {
    const h = this.#h;
    if (h.closed) return sink.fail(t, h.err(t, NetCode.Closed));
    if (this.ended) return sink.complete(t, undefined);
    // Gone: after a reset no FIN can go, so end() reports the reset; after a clean close there is nothing left to end.
    if (h.gone) return h.error !== undefined ? sink.fail(t, h.rethrow(t)) : sink.complete(t, undefined);
    (this.#ends ??= []).push(t);
  }

  /** The waiting end() calls, taken: the FIN went (or never will). */
  takeEnds(): Ticket[] {
    const ends = this.#ends ?? [];
    this.#ends = undefined;
    return ends;
  }

  /** Send FIN now (after what the kernel holds), once. */
  shutdown(): void {
    if (this.ended) return;
    this.ended = true;
    this.#h.socket?.shutdown();
  }

  /**
   * One `socket.write` for everything queued (unless waiting for drain), then complete what it
   * took; FIN for waiting end() calls once all is out. False if the socket refused the write
   * (the writes failed).
   */
  flush(sink: CompletionSink): boolean {
    const h = this.#h;
    const s = h.socket;
    if (s === undefined || this.waitingDrain || h.gone) return true;
    const out = this.#out;
    if (out.length > 0) {
      const buf = out.length === 1 ? out[0]! : Buffer.concat(out, this.#writes.queued - this.#writes.accepted);
      const n = s.write(buf);
      h.counters.hostWrites++;
      if (n < 0) {
        this.failAll(sink, NetCode.PeerClosed);
        return false;
      }
      h.counters.bytesWritten += n;
      if (n < buf.length) {
        this.#out = [buf.subarray(n)];
        this.waitingDrain = true;
        h.counters.partialWrites++;
      } else out.length = 0;
      this.#writes.took(n, sink);
    }
    if (this.#out.length === 0 && this.#ends !== undefined) {
      this.shutdown();
      for (const t of this.takeEnds()) sink.complete(t, undefined);
    }
    return true;
  }

  /** Fail every waiting write and end() (`code` unless the socket has an error of its own); drop what was unsent. */
  failAll(sink: CompletionSink, code: string): void {
    const h = this.#h;
    const failure = (t: Ticket): NetError => (h.error !== undefined ? h.rethrow(t) : h.err(t, code));
    this.#writes.failAll(sink, failure);
    this.#out = [];
    for (const e of this.takeEnds()) sink.fail(e, failure(e));
  }

  /** Drop what was unsent (a reset). */
  drop(): void {
    this.#out = [];
  }

  /**
   * A waiting task was cancelled: forget its ticket. A write's bytes still go, in order, but
   * from a copy: the caller may reuse its buffer once the write returned. An end's ticket
   * stays, so its FIN goes (its completion is a stale one the kernel drops).
   */
  cancel(t: Ticket): void {
    if (this.#writes.cancel(t)) this.#out = this.#out.map((b) => new Uint8Array(b));
  }
}
