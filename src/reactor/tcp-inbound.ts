/**
 * Inbound: one connection's receiving side inside the TCP driver — bytes the peer sent that
 * no task has read yet, the tasks waiting to read, the end of the peer's stream, and the
 * high-water mark past which the socket stops reading (and resumes once a task takes them).
 */
import type { CompletionSink, Ticket } from "./reactor.ts";
import type { NetError } from "../net/errors.ts";
import type { ConnStats } from "./tcp-stats.ts";

/** What the receiving side needs from its connection. */
export interface InboundHost {
  readonly socket: { pause(): void; resume(): void } | undefined;
  readonly gone: boolean;
  readonly closed: boolean;
  readonly error: NetError | undefined;
  readonly highWaterMark: number;
  readonly counters: ConnStats;
  /** The error for `t` when the connection was closed here. */
  closedError(t: Ticket): NetError;
  /** The stored socket error, made for `t`'s op and task. */
  rethrow(t: Ticket): NetError;
}

/**
 * The receiving side of one connection.
 *
 * @example
 * ```ts
 * const inbound = new Inbound(handle);
 * inbound.onData(bytes, sink); // a waiting reader gets them, else they are buffered
 * inbound.read(ticket, sink);  // buffered bytes now, null at the end, or wait
 * ```
 */
export class Inbound {
  readonly #h: InboundHost;
  #in: Uint8Array[] = [];
  #buffered = 0;
  readers: Ticket[] = [];
  /** Where to complete a waiting reader from outside the driver's callbacks (`unread`). */
  #sink: CompletionSink | undefined = undefined;
  paused = false;
  eof = false;

  constructor(host: InboundHost) {
    this.#h = host;
  }

  /** Bytes received and not read yet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Bun delivered `data`: hand it to a waiting reader, or buffer it (pausing past the mark). */
  onData(data: Uint8Array, sink: CompletionSink): void {
    const h = this.#h;
    if (h.closed) return; // closed here: nobody will read it
    h.counters.bytesRead += data.length;
    const r = this.readers.shift();
    if (r !== undefined) {
      if (this.#buffered === 0) return sink.complete(r, data);
      this.#in.push(data); // behind bytes put back with unread while it waited
      this.#buffered += data.length;
      return sink.complete(r, this.#take());
    }
    this.#in.push(data);
    this.#buffered += data.length;
    if (this.#buffered > h.counters.maxBuffered) h.counters.maxBuffered = this.#buffered;
    this.#pauseIfFull();
  }

  /** At the high-water mark: stop reading until a read takes the bytes (`#take` resumes). */
  #pauseIfFull(): void {
    const h = this.#h;
    if (this.#buffered >= h.highWaterMark && !this.paused && !h.gone && h.socket !== undefined) {
      this.paused = true;
      h.counters.pauses++;
      h.socket.pause();
    }
  }

  /** A task asks for the next chunk: buffered bytes now, null at end, an error, or wait. */
  read(t: Ticket, sink: CompletionSink): void {
    const h = this.#h;
    if (this.#buffered > 0) return sink.complete(t, this.#take());
    if (h.closed) return sink.fail(t, h.closedError(t));
    // The peer's FIN came first: its stream ended cleanly, whatever our writes met afterwards
    // (a reset for writing after its close is the write side's error, not the read side's).
    if (this.eof) return sink.complete(t, null);
    if (h.error !== undefined) return sink.fail(t, h.rethrow(t));
    this.#sink = sink;
    this.readers.push(t);
    this.#resume(); // left paused by a buffered take (takeNow) that emptied the buffer
  }

  /**
   * The bytes buffered now, taken at once (as a read would take them), or undefined if there
   * are none: for the read helpers, whose next bytes are often already here (pipelined replies).
   */
  takeNow(): Uint8Array | undefined {
    // A paused socket stays paused: the helper puts back what it did not use (unread resumes it
    // if that is below the mark), or its next read resumes it. Resuming here, then pausing again
    // at the unread, cost two host calls per line of a flooded buffer.
    return this.#buffered > 0 && !this.#h.closed ? this.#take(false) : undefined;
  }

  /** Put bytes back at the front (for parsers that read too far); a task waiting to read gets them. */
  unread(bytes: Uint8Array): void {
    // Closed here: nobody reads any more (a read fails), so nothing is kept, nor the socket paused.
    if (bytes.length === 0 || this.#h.closed) return;
    this.#in.unshift(bytes);
    this.#buffered += bytes.length;
    const r = this.readers.shift();
    if (r !== undefined) return this.#sink!.complete(r, this.#take());
    // The read that took them resumed the socket: over the mark again, pause it again, or a
    // parser that takes a little and puts the rest back (a chunked body) lets it grow without bound.
    // A buffered take left it paused: below the mark now, resume it.
    if (this.#buffered < this.#h.highWaterMark) this.#resume();
    else this.#pauseIfFull();
  }

  /** The peer sent FIN (or the socket closed cleanly): waiting readers get what is left, then null. */
  onEnd(sink: CompletionSink): void {
    this.eof = true;
    for (const r of this.readers.splice(0)) sink.complete(r, this.#buffered > 0 ? this.#take() : null);
  }

  /** Fail every waiting reader with `error(ticket)`. */
  failReaders(sink: CompletionSink, error: (t: Ticket) => NetError): void {
    for (const r of this.readers.splice(0)) sink.fail(r, error(r));
  }

  /** A waiting reader's task was cancelled. */
  cancel(t: Ticket): void {
    const i = this.readers.indexOf(t);
    if (i >= 0) this.readers.splice(i, 1);
  }

  /** Closed here: drop what nobody will read, and read again if paused (what comes is dropped). */
  discard(): void {
    this.#in = [];
    this.#buffered = 0;
    this.#resume();
  }

  #take(resume = true): Uint8Array {
    const chunks = this.#in;
    const out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#buffered);
    this.#in = [];
    this.#buffered = 0;
    if (resume) this.#resume();
    return out;
  }

  /** Read from the socket again if it was paused. */
  #resume(): void {
    if (this.paused && !this.#h.gone) {
      this.paused = false;
      this.#h.socket?.resume();
    }
  }
}
