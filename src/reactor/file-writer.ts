/**
 * FileWriter: one open file's outbound bytes. Writes are buffered up to a high-water mark and
 * handed to the OS by `writev` on Bun's thread pool, one host write in flight at a time, so
 * bytes land in order; a write past the mark waits until its own bytes have landed.
 * A failed host write is sticky: later writes and `close` report it. Reactor-only.
 */
import { writev as fsWritev, writeSync } from "node:fs";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { NetError, toNetError } from "../net/errors.ts";
import { PendingWrites } from "./pending-writes.ts";

/** Bytes a file may hold queued for the OS before `write()` waits (default 1 MiB). */
export const DEFAULT_FILE_HIGH_WATER_MARK = 1 << 20;

/**
 * The write side of an open file (the file driver makes one per file opened for writing).
 *
 * @example
 * ```ts
 * const w = new FileWriter(fd, "/tmp/out.bin", 1 << 20);
 * w.write(ticket, bytes, sink); // completes at once while under the mark
 * w.flush(sink);                // end of tick: one writev for everything queued
 * w.whenIdle(() => closeSync(fd));
 * ```
 */
export class FileWriter {
  readonly #fd: number;
  readonly #name: string;
  readonly #hwm: number;
  /** Queued, not yet handed to the OS. */
  #queue: Uint8Array[] = [];
  /** Being written: what is left of the batch in flight. */
  #flight: Uint8Array[] = [];
  /** Every write in order; the ones past the mark wait there (the others with no ticket). */
  #pending = new PendingWrites();
  #bytesWritten = 0;
  #writing = false;
  #sink: CompletionSink | undefined = undefined;
  #idle: (() => void)[] = [];
  #onWritten = (error: NodeJS.ErrnoException | null, n: number): void => this.#written(error, n);
  /** A host write failed: every later write, and close, fail with this. */
  error: NetError | undefined = undefined;
  /** True once `error` was thrown to some task. */
  errorSeen = false;
  hostWrites = 0;
  /** The task whose write came first in the queue, and in the host write in flight: a failure names it. */
  #queuedBy = "";
  #flightBy = "";

  constructor(fd: number, name: string, highWaterMark: number) {
    this.#fd = fd;
    this.#name = name;
    this.#hwm = highWaterMark;
  }

  /** Bytes handed to the OS so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Queue `data`; complete `t` now if the file holds at most the mark, else once its bytes land. */
  write(t: Ticket, data: Uint8Array, sink: CompletionSink): void {
    if (this.error !== undefined) {
      this.errorSeen = true;
      return sink.fail(t, this.errorFor(t));
    }
    if (data.length === 0) return sink.complete(t, 0);
    if (this.#queue.length === 0) this.#queuedBy = t.taskName;
    this.#queue.push(data);
    const p = this.#pending;
    const held = p.queued + data.length - p.accepted > this.#hwm;
    p.add(held ? t : undefined, data.length);
    if (!held) sink.complete(t, data.length);
  }

  /** A waiting write's task was cancelled: its bytes are still written; only its completion is dropped. */
  cancel(t: Ticket): void {
    this.#pending.cancel(t);
  }

  /** End of tick: hand everything queued to the OS, unless a host write is in flight already. */
  flush(sink: CompletionSink): void {
    this.#sink = sink;
    if (!this.#writing && this.#queue.length > 0) this.#start();
  }

  /** Run `f` once nothing is queued or in flight. */
  whenIdle(f: () => void): void {
    if (!this.#writing && this.#queue.length === 0) f();
    else this.#idle.push(f);
  }

  /** End of run with no host write in flight: write what is queued, here and now (a failure sets `error`). */
  flushSync(): void {
    if (this.#writing || this.error !== undefined) return;
    try {
      for (const chunk of this.#queue.splice(0)) {
        for (let at = 0; at < chunk.length; ) {
          const n = writeSync(this.#fd, chunk, at);
          this.#bytesWritten += n;
          at += n;
        }
      }
    } catch (error) {
      this.error = toNetError(error, "file.write", this.#name, this.#queuedBy);
    }
  }

  /** The sticky error, as thrown to the task behind `t` (named in the message). */
  errorFor(t: Ticket): NetError {
    const e = this.error!;
    return new NetError(e.code, t.op, this.#name, t.taskName, e.detail, e);
  }

  /** The sticky error if no task has been told of it yet (it is marked told). */
  unseenError(): NetError | undefined {
    if (this.error === undefined || this.errorSeen) return undefined;
    this.errorSeen = true;
    return this.error;
  }

  /** True while a host write is in flight. */
  get writing(): boolean {
    return this.#writing;
  }

  #start(): void {
    this.#flight = this.#queue;
    this.#flightBy = this.#queuedBy;
    this.#queue = [];
    this.#writing = true;
    this.#hostWrite();
  }

  #hostWrite(): void {
    this.hostWrites++;
    fsWritev(this.#fd, this.#flight, null as unknown as number, this.#onWritten);
  }

  #written(error: NodeJS.ErrnoException | null, n: number): void {
    const sink = this.#sink!;
    if (error !== null) return this.#fail(toNetError(error, "file.write", this.#name, this.#flightBy), sink);
    if (n === 0) return this.#fail(new NetError("EIO", "file.write", this.#name, this.#flightBy, "the system wrote 0 bytes"), sink);
    this.#bytesWritten += n;
    let rest = n;
    const flight = this.#flight;
    while (rest > 0 && flight.length > 0) {
      const c = flight[0]!;
      if (c.length <= rest) {
        rest -= c.length;
        flight.shift();
      } else {
        flight[0] = c.subarray(rest); // a short write: the rest goes again
        rest = 0;
      }
    }
    this.#pending.took(n, sink);
    if (flight.length > 0) return this.#hostWrite();
    this.#writing = false;
    if (this.#queue.length > 0) return this.#start();
    for (const f of this.#idle.splice(0)) f();
  }

  /** A host write failed: the writes waiting get the error; queued bytes are dropped; it sticks. */
  #fail(error: NetError, sink: CompletionSink): void {
    this.error = error;
    this.#pending.failAll(sink, (t) => {
      this.errorSeen = true;
      return this.errorFor(t);
    });
    this.#queue = [];
    this.#flight = [];
    this.#writing = false;
    for (const f of this.#idle.splice(0)) f();
  }
}
