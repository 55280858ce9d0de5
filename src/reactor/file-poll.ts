/**
 * PolledRead: how the file driver reads a FIFO, socket or terminal. Its descriptor is opened
 * non-blocking and read on the event loop thread (a read that finds nothing returns EAGAIN at
 * once), tried again after a short wait that doubles while nothing comes: no thread of the
 * pool waits on a silent writer, and a read takes exactly the bytes it asks for. A named
 * FIFO no writer has opened yet reads as empty, not ended: its reads wait for the first.
 * Only reactor files call node:fs.
 */
import { readSync } from "node:fs";

/** node:fs `readSync`'s shape, as the driver calls it (a test may pass its own). */
export type ReadSyncFn = (fd: number, buf: Buffer, offset: number, length: number, position: null) => number;

/** The first wait after a read found nothing, and the longest (ms): an idle reader costs at most a cheap syscall per this. */
const FIRST_WAIT_MS = 1;
const LONGEST_WAIT_MS = 20;

/** What a read knows of its file across reads: true while a named FIFO has had no writer (its end is no end yet). */
export interface WriterWatch {
  awaitingWriter: boolean;
}

/**
 * One read of up to `n` bytes of `fd`, tried until bytes (or the end, or an error) come:
 * `done` gets the bytes (null at the end) or the error, once. `stop()` ends the trying.
 *
 * @example
 * ```ts
 * const r = new PolledRead(fd, 64 * 1024, (error, bytes) => console.log(error ?? bytes));
 * r.start(); // ... r.stop() if the read is no longer wanted
 * ```
 */
export class PolledRead {
  readonly #fd: number;
  readonly #buf: Buffer;
  readonly #done: (error: NodeJS.ErrnoException | null, bytes: Buffer | null) => void;
  readonly #readSync: ReadSyncFn;
  readonly #watch: WriterWatch;
  #wait = 0;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #stopped = false;

  constructor(fd: number, n: number, watch: WriterWatch, done: (error: NodeJS.ErrnoException | null, bytes: Buffer | null) => void, read: ReadSyncFn = readSync) {
    this.#fd = fd;
    this.#buf = Buffer.allocUnsafe(n);
    this.#watch = watch;
    this.#done = done;
    this.#readSync = read;
  }

  /** Try now; if nothing is there, again later. */
  start(): void {
    if (this.#stopped) return;
    this.#timer = undefined;
    let got: number;
    try {
      got = this.#readSync(this.#fd, this.#buf, 0, this.#buf.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK") {
        this.#watch.awaitingWriter = false; // a writer is there: it has not written yet
        return this.#later();
      }
      this.#stopped = true;
      return this.#done(error as NodeJS.ErrnoException, null);
    }
    if (got === 0 && this.#watch.awaitingWriter) return this.#later(); // no writer yet: not the end
    this.#watch.awaitingWriter = false;
    this.#stopped = true;
    this.#done(null, got === 0 ? null : tight(this.#buf, got));
  }

  /** Nothing yet: try again after a wait that doubles while nothing comes. */
  #later(): void {
    this.#wait = Math.min(LONGEST_WAIT_MS, this.#wait === 0 ? FIRST_WAIT_MS : this.#wait * 2);
    this.#timer = setTimeout(() => this.start(), this.#wait);
  }

  /** No longer wanted: no more tries, and `done` is not called. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The first `got` bytes of a read's buffer: a view when they fill most of it, else a copy of
 * their own, so that a short read (a small file's `read()`, or `readAll()`'s 1 MiB chunk) does
 * not keep the whole buffer alive for as long as its result is kept.
 *
 * @example
 * ```ts
 * tight(Buffer.alloc(1 << 20), 10).buffer.byteLength; // 10, not 1 MiB
 * ```
 */
export function tight(buf: Buffer, got: number): Buffer {
  if (got * 2 >= buf.length) return buf.subarray(0, got);
  const out = Buffer.allocUnsafeSlow(got);
  buf.copy(out, 0, 0, got);
  return out;
}
