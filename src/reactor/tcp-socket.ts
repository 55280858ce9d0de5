/**
 * TcpHandle: one Bun socket's state inside the TCP driver — the inbound buffer with its
 * high-water mark (pause/resume), the outbound queue that turns a tick's writes into one
 * `socket.write` (partial writes resent on drain), and the per-connection counters.
 * Calls Bun's socket methods; imports only types, the sink interface and net errors.
 */
import type { Socket } from "bun";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";
import { PendingWrites } from "./pending-writes.ts";

/** Per-connection counters, read with `conn.stats()`. */
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
}

/** The driver's per-socket record. Opaque to users: `Conn` wraps it. */
export class TcpHandle {
  /** Peer address, e.g. `127.0.0.1:5000` or a unix path: shows in `ps()` and errors. */
  readonly name: string;
  socket: Socket<TcpHandle> | undefined = undefined;
  readonly highWaterMark: number;
  /** The peer's address, read from the socket on first use (a getpeername each, so not eagerly). */
  #peer: { address: string; port: number } | undefined = undefined;
  // inbound
  #in: Uint8Array[] = [];
  #buffered = 0;
  readers: Ticket[] = [];
  paused = false;
  eof = false;
  // outbound
  #out: Uint8Array[] = [];
  /** Writes waiting for the kernel to take their last byte. */
  #writes = new PendingWrites();
  waitingDrain = false;
  endTicket: Ticket | undefined = undefined;
  ended = false;
  /** Closed here (close() or driver close): everything fails with ERR_SOCKET_CLOSED. */
  closed = false;
  /** The host socket is gone (peer closed, reset, or closed here). */
  gone = false;
  error: NetError | undefined = undefined;
  /** Set while in the driver's "flush after this batch" list. */
  touched = false;
  readonly counters: ConnStats = {
    hostWrites: 0, writeOps: 0, bytesWritten: 0, bytesRead: 0,
    partialWrites: 0, buffered: 0, maxBuffered: 0, pauses: 0,
  };

  constructor(name: string, highWaterMark: number) {
    this.name = name;
    this.highWaterMark = highWaterMark;
  }

  /** Something from the peer not read yet: bytes, the end of its stream, or an error. */
  get hasInput(): boolean {
    return this.#buffered > 0 || this.eof || this.error !== undefined;
  }

  /** A snapshot of this connection's counters. */
  stats(): ConnStats {
    return { ...this.counters, buffered: this.#buffered };
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
    if (bytes.length === 0) return;
    this.#in.unshift(bytes);
    this.#buffered += bytes.length;
  }

  // ─── Inbound ────────────────────────────────────────────────────────────────
  /** Bun delivered `data`: hand it to a waiting reader, or buffer it (pausing past the mark). */
  onData(data: Uint8Array, sink: CompletionSink): void {
    if (this.closed) return; // closed here: nobody will read it
    this.counters.bytesRead += data.length;
    const r = this.readers.shift();
    if (r !== undefined && this.#buffered === 0) {
      sink.complete(r, data);
      return;
    }
    if (r !== undefined) this.readers.unshift(r);
    this.#in.push(data);
    this.#buffered += data.length;
    if (this.#buffered > this.counters.maxBuffered) this.counters.maxBuffered = this.#buffered;
    if (this.#buffered >= this.highWaterMark && !this.paused && this.socket !== undefined) {
      this.paused = true;
      this.counters.pauses++;
      this.socket.pause();
    }
  }

  /** A task asks for the next chunk: buffered bytes now, null at end, an error, or wait. */
  read(t: Ticket, sink: CompletionSink): void {
    if (this.#buffered > 0) {
      sink.complete(t, this.#take());
      return;
    }
    if (this.closed) return sink.fail(t, this.#err(t, NetCode.Closed));
    if (this.error !== undefined) return sink.fail(t, this.#rethrow(t));
    if (this.eof) return sink.complete(t, null);
    this.readers.push(t);
  }

  #take(): Uint8Array {
    const chunks = this.#in;
    const out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#buffered);
    this.#in = [];
    this.#buffered = 0;
    if (this.paused && !this.gone) {
      this.paused = false;
      this.socket?.resume();
    }
    return out;
  }

  /** The peer sent FIN (or the socket closed cleanly): waiting readers get null. */
  onEnd(sink: CompletionSink): void {
    this.eof = true;
    for (const r of this.readers.splice(0)) sink.complete(r, null);
  }

  // ─── Outbound ───────────────────────────────────────────────────────────────
  /** Queue a write for this tick's flush. False if it failed at once. */
  queueWrite(t: Ticket, data: Uint8Array, sink: CompletionSink): boolean {
    this.counters.writeOps++;
    if (this.closed) return void sink.fail(t, this.#err(t, NetCode.Closed)), false;
    if (this.ended || this.endTicket !== undefined) return void sink.fail(t, this.#err(t, NetCode.WriteAfterEnd)), false;
    if (this.error !== undefined) return void sink.fail(t, this.#rethrow(t)), false;
    if (this.gone) return void sink.fail(t, this.#err(t, NetCode.PeerClosed)), false;
    if (data.length === 0) return void sink.complete(t, 0), false;
    this.#out.push(data);
    this.#writes.add(t, data.length);
    return true;
  }

  /** Queue a half-close: sent after every queued byte. */
  queueEnd(t: Ticket, sink: CompletionSink): void {
    if (this.closed) return sink.fail(t, this.#err(t, NetCode.Closed));
    if (this.ended || this.endTicket !== undefined || this.gone) return sink.complete(t, undefined);
    this.endTicket = t;
  }

  /** One `socket.write` for everything queued (unless waiting for drain), then complete what it took. */
  flush(sink: CompletionSink): void {
    const s = this.socket;
    if (s === undefined || this.waitingDrain || this.gone) return;
    const out = this.#out;
    if (out.length > 0) {
      const buf = out.length === 1 ? out[0]! : Buffer.concat(out, this.#writes.queued - this.#writes.accepted);
      const n = s.write(buf);
      this.counters.hostWrites++;
      if (n < 0) {
        this.#failWriters(sink, NetCode.PeerClosed);
        return;
      }
      this.counters.bytesWritten += n;
      if (n < buf.length) {
        this.#out = [buf.subarray(n)];
        this.waitingDrain = true;
        this.counters.partialWrites++;
      } else out.length = 0;
      this.#writes.took(n, sink);
    }
    if (this.#out.length === 0 && this.endTicket !== undefined) {
      const t = this.endTicket;
      this.endTicket = undefined;
      this.ended = true;
      s.shutdown();
      sink.complete(t, undefined);
    }
  }

  /** Bun's drain: the kernel has room again. */
  onDrain(sink: CompletionSink): void {
    this.waitingDrain = false;
    this.flush(sink);
  }

  #failWriters(sink: CompletionSink, code: string): void {
    this.#writes.failAll(sink, (t) => this.#failure(t, code));
    this.#out = [];
    const e = this.endTicket;
    if (e !== undefined) {
      this.endTicket = undefined;
      sink.fail(e, this.#failure(e, code));
    }
  }

  /** A waiting task was cancelled: forget its ticket (a cancelled write's bytes still go, in order). */
  cancel(t: Ticket): void {
    const i = this.readers.indexOf(t);
    if (i >= 0) this.readers.splice(i, 1);
    this.#writes.cancel(t);
    if (this.endTicket === t) this.endTicket = undefined;
  }

  // ─── Closing ────────────────────────────────────────────────────────────────
  /** The host socket closed (peer FIN after ours, reset, or error). */
  onClose(error: unknown, sink: CompletionSink): void {
    if (this.gone) return;
    this.gone = true;
    if (error !== undefined && error !== null && this.error === undefined && !this.closed) {
      this.error = toNetError(error, "tcp", this.name, "(socket)", "ECONNRESET");
    }
    if (this.error !== undefined) {
      for (const r of this.readers.splice(0)) sink.fail(r, this.#rethrow(r));
    } else this.onEnd(sink);
    this.#failWriters(sink, this.closed ? NetCode.Closed : NetCode.PeerClosed);
  }

  /** Close here: flush what the tick queued, fail the rest and every waiter, close the socket. */
  close(sink: CompletionSink | undefined, t: Ticket | undefined): void {
    if (this.closed) {
      // Closing twice (or from two tasks in one tick) is harmless: it completes at once.
      if (t !== undefined && sink !== undefined) sink.complete(t, undefined);
      return;
    }
    if (sink !== undefined) this.flush(sink);
    this.closed = true;
    if (sink !== undefined) {
      for (const r of this.readers.splice(0)) sink.fail(r, this.#err(r, NetCode.Closed));
      this.#failWriters(sink, NetCode.Closed);
    }
    this.#in = [];
    this.#buffered = 0;
    const s = this.socket;
    if (s !== undefined && !this.gone) {
      this.gone = true;
      if (this.paused) s.resume();
      s.end();
    }
    if (t !== undefined && sink !== undefined) sink.complete(t, undefined);
  }

  /** Abort: reset the connection (RST) without flushing. */
  terminate(sink?: CompletionSink): void {
    if (this.closed) return;
    this.closed = true;
    if (sink !== undefined) {
      for (const r of this.readers.splice(0)) sink.fail(r, this.#err(r, NetCode.Closed));
      this.#failWriters(sink, NetCode.Closed);
    }
    if (this.socket !== undefined && !this.gone) {
      this.gone = true;
      this.socket.terminate();
    }
  }

  #err(t: Ticket, code: string): NetError {
    return new NetError(code, t.op, this.name, t.taskName);
  }

  /** The stored socket error if there is one, else `code`; either way named for this ticket's own op and task. */
  #failure(t: Ticket, code: string): NetError {
    return this.error !== undefined ? this.#rethrow(t) : this.#err(t, code);
  }

  /** The stored socket error, re-made for this ticket's op and task. */
  #rethrow(t: Ticket): NetError {
    const e = this.error!;
    return new NetError(e.code, t.op, this.name, t.taskName, e.message, e);
  }
}
