/**
 * TcpHandle: one Bun socket's state inside the TCP driver — its receiving side (tcp-inbound.ts)
 * and sending side (tcp-outbound.ts), its name, closing (the last bytes sent before FIN within
 * a linger limit, then the peer's FIN awaited) and the counters. Calls Bun's socket methods.
 */
import type { Socket } from "bun";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { NetCode, NetError, hostPort, toNetError } from "../net/errors.ts";
import type { ConnStats } from "./tcp-stats.ts";
import { Inbound } from "./tcp-inbound.ts";
import { Outbound } from "./tcp-outbound.ts";

export type { ConnStats };

/** How long a connection closed with bytes still unsent may take to send them before it is reset (default of `closeLingerMs`). */
export const CLOSE_LINGER_MS = 30_000;
/** How long a connection closed here waits for the peer's FIN (dropping what it sends) before its socket is closed anyway (at most `closeLingerMs`). */
export const FIN_WAIT_MS = 2_000;

/** The driver's per-socket record. Opaque to users: `Conn` wraps it. */
export class TcpHandle {
  /** The destination given to connect, or (accepted) undefined until the peer's address is read. */
  #name: string | undefined;
  /** An accepted connection's listener, named until the peer's address can be read. */
  readonly #via: string;
  socket: Socket<TcpHandle> | undefined = undefined;
  readonly highWaterMark: number;
  /** The peer's address, read from the socket on first use (a getpeername each, so not eagerly). */
  #peer: { address: string; port: number } | undefined = undefined;
  /** The receiving side: bytes not read yet, waiting readers, the peer's FIN, pause/resume. */
  readonly inbound = new Inbound(this);
  /** The sending side: this tick's writes, bytes waiting for room, end() calls waiting for their FIN. */
  readonly outbound = new Outbound(this);
  /** Closed here with bytes still waiting for room: FIN goes once they are out. */
  #finAfterDrain = false;
  /** Closed here, FIN sent: the socket stays open, dropping what comes, until the peer's FIN. */
  #awaitingFin = false;
  /** Ends the drain (a reset, past `closeLingerMs`) or the wait for the peer's FIN (a close, past FIN_WAIT_MS). */
  #closingTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #lingerMs: number;
  /** Closed here (close() or driver close): everything fails with ERR_SOCKET_CLOSED. */
  closed = false;
  /** The host socket is gone (peer closed, reset, or closed here). */
  gone = false;
  error: NetError | undefined = undefined;
  /** Set while in the driver's "flush after this batch" list. */
  touched = false;
  /** The driver (so the run()) it belongs to: another run's ops on it are refused. */
  owner: object | undefined = undefined;
  /** The kernel of that run (its completion sink): the read helpers take buffered bytes only for its tasks. */
  run: object | undefined = undefined;
  /** `ioSubmits.count` when a task last yielded a read, close or abort on it (see `Conn.takeBuffered`). */
  queuedAt = -1;
  readonly counters: ConnStats = {
    hostWrites: 0, writeOps: 0, bytesWritten: 0, bytesRead: 0,
    partialWrites: 0, buffered: 0, maxBuffered: 0, pauses: 0, unsent: 0,
  };

  /**
   * `name` is the destination of a connect; an accepted connection passes `accepted` and its
   * listener's name, and is named after its peer on first use (reading the peer costs syscalls).
   * `lingerMs` bounds how long a close may take to send what is still unsent (and the wait for the peer's FIN, if shorter than FIN_WAIT_MS).
   */
  constructor(name: string, highWaterMark: number, lingerMs = CLOSE_LINGER_MS, accepted = false) {
    this.#name = accepted ? undefined : name;
    this.#via = name;
    this.highWaterMark = highWaterMark;
    this.#lingerMs = lingerMs;
  }

  /** The peer, e.g. `127.0.0.1:5000`, or a unix path: shows in `ps()` and errors. */
  get name(): string {
    if (this.#name !== undefined) return this.#name;
    const { address, port } = this.#peerOf();
    if (address === "") return `peer of ${this.#via}`; // closed before anyone asked
    return (this.#name = port === 0 ? address : hostPort(address, port));
  }

  /** Something from the peer not read yet: bytes, the end of its stream, or an error. */
  get hasInput(): boolean {
    return this.inbound.buffered > 0 || this.inbound.eof || this.error !== undefined;
  }

  /** A snapshot of this connection's counters. */
  stats(): ConnStats {
    return { ...this.counters, buffered: this.inbound.buffered, unsent: this.outbound.unsentBytes };
  }

  /** The peer's IP address ("" if the socket closed before anyone asked). */
  get remoteAddress(): string {
    return this.#peerOf().address;
  }

  /** The peer's port (0 for unix sockets, or if the socket closed before anyone asked). */
  get remotePort(): number {
    return this.#peerOf().port;
  }

  #peerOf(): { address: string; port: number } {
    if (this.#peer !== undefined) return this.#peer;
    const s = this.socket;
    if (s === undefined || this.gone) return { address: "", port: 0 };
    return (this.#peer = { address: s.remoteAddress ?? "", port: (s as { remotePort?: number }).remotePort ?? 0 });
  }

  /** Put bytes back at the front of the inbound buffer (used by `readUntil` for leftovers). */
  unread(bytes: Uint8Array): void {
    this.inbound.unread(bytes);
  }

  // ─── Outbound ───────────────────────────────────────────────────────────────
  /** Send what this tick queued; once a socket closed here has sent its last byte, FIN (and wait for the peer's). */
  flush(sink: CompletionSink): void {
    if (!this.outbound.flush(sink)) return;
    const s = this.socket;
    if (this.#finAfterDrain && !this.outbound.unsent && s !== undefined && !this.gone) {
      // Closed while bytes waited for room: they are out now, so the FIN follows them.
      this.#stopClosingTimer();
      this.#finThenAwaitFin(s);
    }
  }

  /** Bun's drain: the kernel has room again. */
  onDrain(sink: CompletionSink): void {
    this.outbound.drained();
    this.flush(sink);
  }

  /** A waiting task was cancelled: forget its ticket (a cancelled write's bytes still go). */
  cancel(t: Ticket): void {
    this.inbound.cancel(t);
    this.outbound.cancel(t);
  }

  // ─── Closing ────────────────────────────────────────────────────────────────
  /** The peer's FIN: readers get the rest, then null; a socket closed here and awaiting it closes now. */
  onEnd(sink: CompletionSink): void {
    this.inbound.onEnd(sink);
    if (this.#awaitingFin) this.#endAwaitingFin();
  }

  /** The host socket closed (peer FIN after ours, reset, or error). */
  onClose(error: unknown, sink: CompletionSink): void {
    if (this.gone) return;
    this.gone = true;
    // A socket closed here but still sending its last bytes lost them to the peer: its waiting
    // writes hear what happened (a reset), not that it was closed.
    const sending = this.#finAfterDrain;
    this.#stopClosingTimer();
    if (error !== undefined && error !== null && this.error === undefined && (!this.closed || sending)) {
      this.error = toNetError(error, "tcp", this.name, "", "ECONNRESET");
    }
    if (this.error !== undefined) {
      this.inbound.failReaders(sink, (r) => this.rethrow(r));
    } else this.inbound.onEnd(sink);
    this.outbound.failAll(sink, this.closed && !sending ? NetCode.Closed : NetCode.PeerClosed);
  }

  /**
   * Close here: every byte written so far goes out, then FIN; waiting readers fail. Bytes the
   * kernel has no room for yet are sent as it drains (their writes complete as it takes them),
   * then FIN: the peer never sees a clean end after a cut stream. `sink` undefined is the end
   * of the run: nothing waits any more, so a socket that still holds unsent bytes is reset.
   */
  close(sink: CompletionSink | undefined, t: Ticket | undefined): void {
    if (this.closed) {
      if (sink === undefined && this.#finAfterDrain) this.#reset(); // the run ends while it sends its last bytes
      if (sink === undefined && this.#awaitingFin) this.#endAwaitingFin(); // ...or while it waits for the peer's FIN
      // Closing twice (or from two tasks in one tick) is harmless: it completes at once.
      if (t !== undefined && sink !== undefined) sink.complete(t, undefined);
      return;
    }
    if (sink !== undefined) this.flush(sink);
    this.closed = true;
    if (sink !== undefined) this.inbound.failReaders(sink, (r) => this.closedError(r));
    // Nobody reads any more: what came is dropped, and a paused socket reads (and drops) again,
    // or a peer that writes before it reads would wait on us while we drain to it.
    this.inbound.discard();
    const s = this.socket;
    if (this.outbound.unsent && s !== undefined && !this.gone) {
      if (sink === undefined) this.#reset();
      else {
        this.#finAfterDrain = true; // flush() sends FIN once the rest is out (a waiting end() returns then)
        // ...unless the peer takes too long: then it is reset, and the writes (and end()s) still waiting fail.
        this.#closingTimer = setTimeout(() => {
          this.outbound.failAll(sink, NetCode.TimedOut);
          this.#reset();
        }, this.#lingerMs);
      }
    } else {
      if (sink !== undefined) this.outbound.failAll(sink, NetCode.Closed);
      if (s !== undefined && !this.gone) {
        if (sink === undefined) this.#endSocket(); // the run ends: nothing may wait for the peer
        else this.#finThenAwaitFin(s);
      }
    }
    if (t !== undefined && sink !== undefined) sink.complete(t, undefined);
  }

  /** Closed here, its socket not gone yet: still sending its last bytes, or awaiting the peer's FIN. */
  get closing(): boolean {
    return (this.#finAfterDrain || this.#awaitingFin) && !this.gone;
  }

  #stopClosingTimer(): void {
    this.#finAfterDrain = false;
    this.#awaitingFin = false;
    if (this.#closingTimer !== undefined) clearTimeout(this.#closingTimer);
    this.#closingTimer = undefined;
  }

  /**
   * Closed here, every byte handed to the kernel: FIN, and keep the socket open, dropping what
   * the peer still sends, until its own FIN (at most FIN_WAIT_MS, or `closeLingerMs` if shorter). Closing it at once, with the
   * peer's bytes unread in the kernel (or arriving after), would reset the connection and throw
   * away ours still in flight.
   */
  #finThenAwaitFin(s: Socket<TcpHandle>): void {
    if (this.inbound.eof || this.error !== undefined) return this.#endSocket(); // the peer is done sending (or the socket broke): nothing can reset it now
    this.outbound.shutdown();
    this.inbound.discard(); // reading again if it was paused
    this.#awaitingFin = true;
    this.#closingTimer = setTimeout(() => this.#endAwaitingFin(), Math.min(FIN_WAIT_MS, this.#lingerMs));
  }

  /** The peer's FIN came (or FIN_WAIT_MS ran out, or the run ends): close the socket. */
  #endAwaitingFin(): void {
    this.#stopClosingTimer();
    this.#endSocket();
  }

  /** Close the host socket (what the kernel holds still goes, then FIN if not sent yet). */
  #endSocket(): void {
    const s = this.socket;
    if (s === undefined || this.gone) return;
    this.gone = true;
    s.end();
  }

  #reset(): void {
    this.#stopClosingTimer();
    this.outbound.drop();
    if (this.socket !== undefined && !this.gone) {
      this.gone = true;
      this.socket.terminate();
    }
  }

  /** Abort: reset the connection (RST) without flushing. */
  terminate(sink?: CompletionSink): void {
    // Closed already, and done: nothing to stop. Still sending its last bytes or awaiting the peer's FIN: abort stops that too.
    if (this.closed && !this.#finAfterDrain && !this.#awaitingFin) return;
    if (!this.closed) {
      this.closed = true;
      if (sink !== undefined) this.inbound.failReaders(sink, (r) => this.closedError(r));
    }
    if (sink !== undefined) this.outbound.failAll(sink, NetCode.Closed);
    this.#reset();
    this.inbound.discard(); // as close() does: what came and was not read is dropped
  }

  /** An error with `code`, named for this ticket's own op and task. */
  err(t: Ticket, code: string): NetError {
    return new NetError(code, t.op, this.name, t.taskName);
  }

  /** The error for `t` once the connection was closed here. */
  closedError(t: Ticket): NetError {
    return this.err(t, NetCode.Closed);
  }

  /** The stored socket error, re-made for this ticket's op and task. */
  rethrow(t: Ticket): NetError {
    const e = this.error!;
    return new NetError(e.code, t.op, this.name, t.taskName, e.detail, e);
  }
}
