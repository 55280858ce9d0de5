/**
 * The file driver: the `file.*` ops (open, write, read, close) on node:fs descriptors, one
 * instance per reactor. A file's writes go through its FileWriter: buffered up to a high-water
 * mark, a tick's writes handed to the OS as one `writev` on Bun's thread pool (files are written
 * in parallel, from the callers' buffers). Only reactor files call Bun or node:fs.
 */
import { close as fsClose, closeSync, constants, fstat, open as fsOpen } from "node:fs";
import { isatty } from "node:tty";
import { BunReactor, type IoDriver } from "./bun.ts";
import type { CompletionSink, Submission, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";
import { DEFAULT_FILE_HIGH_WATER_MARK, FileWriter } from "./file-writer.ts";
import { FileHandle, type FileOpenOptions } from "./file-handle.ts";
import { FileReads } from "./file-reads.ts";

export { DEFAULT_FILE_HIGH_WATER_MARK };
export type { FileOpenOptions, FileStats } from "./file-handle.ts";
export { FileHandle };

/** Most bytes one read may ask for (node:fs's own limit). */
export const MAX_READ_BYTES = 2 ** 31 - 1;

const ignore = (): void => undefined;

class FileDriver implements IoDriver {
  readonly #files = new Set<FileHandle>();
  /** Tickets waiting on an async host result; cancel removes them. */
  readonly #live = new Set<Ticket>();
  /** Files being closed: their descriptor closes once what is in flight has landed. */
  readonly #shutting = new Set<Promise<void>>();
  /** A write error no task was told of (its closer was cancelled, or nobody closed the file). */
  readonly #lost: NetError[] = [];
  #touched: FileHandle[] = [];
  readonly #reads = new FileReads(this.#live);
  /** The run ended: an open that finishes now closes its descriptor at once. */
  #ended = false;

  submit(batch: readonly Submission[], sink: CompletionSink): void {
    for (const t of batch) {
      try {
        this.#one(t, sink);
      } catch (error) {
        // A host call that threw at once (out of memory, say): this op fails, the rest go on.
        this.#live.delete(t);
        sink.fail(t, toNetError(error, t.op, t.op === "file.open" ? String(t.a) : nameOf(t.a), t.taskName));
      }
    }
    const touched = this.#touched;
    if (touched.length > 0) {
      this.#touched = [];
      for (const h of touched) {
        h.touched = false;
        h.writer!.flush(sink);
      }
    }
  }

  #one(t: Ticket, sink: CompletionSink): void {
    if (t.op === "file.open") return this.#open(t, sink);
    if (t.op !== "file.write" && t.op !== "file.read" && t.op !== "file.close") {
      return sink.fail(t, new TypeError(`file driver: unknown op "${t.op}" from task "${t.taskName}"`));
    }
    const h = t.a;
    if (!(h instanceof FileHandle)) {
      return sink.fail(t, new TypeError(`file driver: task "${t.taskName}" yielded ${t.op} on ${nameOf(h)}, which is not a File's handle (a descriptor made by hand?)`));
    }
    if (h.owner !== this) {
      return sink.fail(t, new NetError("EBADF", t.op, h.name, t.taskName, "the file was opened by another run(): a File belongs to the run() that opened it"));
    }
    if (t.op === "file.read") return this.#reads.read(h, t, sink);
    if (t.op === "file.close") return this.#close(h, t, sink);
    if (h.closed) return sink.fail(t, new NetError(NetCode.Closed, t.op, h.name, t.taskName, "the file is closed"));
    if (h.mode === "r") return sink.fail(t, new NetError("EBADF", t.op, h.name, t.taskName, "the file was opened for reading"));
    const data = t.b;
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      // Only a descriptor made by hand gets here (File.write checks): queued, it would stall the file's writer for good.
      return sink.fail(t, new TypeError(`file driver: task "${t.taskName}" yielded file.write of ${nameOf(data)} to ${h.name}: the data must be a string or a Uint8Array (a descriptor made by hand?)`));
    }
    h.counters.writeOps++; // a write taken (a refused one is not counted)
    h.writer!.write(t, typeof data === "string" ? Buffer.from(data) : data, sink);
    if (!h.touched) {
      h.touched = true;
      this.#touched.push(h);
    }
  }

  cancel(t: Ticket): void {
    // A cancelled write's bytes are still written (in order); only its completion is dropped.
    this.#live.delete(t);
    const h = t.a as FileHandle;
    if (t.op === "file.write") h.writer?.cancel(t);
    if (t.op === "file.read") this.#reads.cancel(t);
  }

  /**
   * End of run: files still open are released, and files whose close is still under way
   * (its task may have been cancelled meanwhile) are waited for. Rejects with a write error
   * that no task was told of, once every file is done.
   */
  close(): void | Promise<void> {
    this.#ended = true;
    for (const h of this.#files) this.#release(h);
    this.#files.clear();
    this.#live.clear();
    if (this.#shutting.size === 0) return this.#lost.length === 0 ? undefined : Promise.reject(this.#lostError());
    return Promise.all(this.#shutting).then(() => {
      if (this.#lost.length > 0) throw this.#lostError();
    });
  }

  /**
   * Open on the thread pool (a FIFO's open waits for its other end: never on this thread),
   * then fstat to learn whether reads take a position. A descriptor that arrives after its
   * task was cancelled, or after the run ended, is closed at once.
   */
  #open(t: Ticket, sink: CompletionSink): void {
    const path = t.a as string;
    const [mode, opts, wrap] = t.b as ["r" | "w" | "a", FileOpenOptions | undefined, ((h: FileHandle) => unknown) | undefined];
    const hwm = opts?.highWaterMark ?? DEFAULT_FILE_HIGH_WATER_MARK;
    this.#live.add(t);
    // Read-only with O_NONBLOCK: a FIFO's open returns at once instead of holding a thread of
    // the pool until a writer comes (its reads wait on the event loop: file-pipe.ts); a regular
    // file or block device ignores it.
    fsOpen(path, mode === "r" ? constants.O_RDONLY | constants.O_NONBLOCK : mode, (openError, fd) => {
      if (openError) {
        if (this.#live.delete(t)) sink.fail(t, toNetError(openError, t.op, path, t.taskName));
        return;
      }
      fstat(fd, (statError, st) => {
        if (!this.#live.delete(t) || this.#ended) return fsClose(fd, ignore);
        if (statError) {
          fsClose(fd, ignore);
          return sink.fail(t, toNetError(statError, t.op, path, t.taskName));
        }
        const h = new FileHandle(path, mode, this);
        h.fd = fd;
        h.positional = st.isFile() || st.isBlockDevice();
        // A FIFO, pipe or terminal is read through its stream; another character device is polled (see file-pipe.ts).
        h.streamed = !h.positional && (st.isFIFO() || isatty(fd));
        if (mode !== "r") h.writer = new FileWriter(fd, path, hwm);
        this.#files.add(h);
        sink.complete(t, wrap === undefined ? h : wrap(h));
      });
    });
  }

  /** One error for run(): the lost write error, or all of them when several files lost bytes. */
  #lostError(): Error {
    const lost = this.#lost;
    return lost.length === 1 ? lost[0]! : new AggregateError(lost, `${lost.length} files lost bytes that no task was told of: ${lost.map((e) => e.message).join("; ")}`);
  }

  /**
   * Close: this tick's writes go first, then the descriptor closes once nothing is in flight.
   * A close that comes while one is under way finishes with it. The write error no task has
   * seen goes to the closers still waiting, else to run().
   */
  #close(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    if (h.closed) {
      if (h.closers === undefined) return sink.complete(t, undefined);
      this.#live.add(t);
      h.closers.push(t);
      return;
    }
    h.closed = true;
    this.#files.delete(h);
    if (h.writer !== undefined) {
      h.touched = false;
      h.writer.flush(sink); // this tick's writes go first
    }
    if (this.#reads.closed(h, sink) && h.writer === undefined) {
      // A pipe's read under way: it failed now and its source was cancelled, the close
      // completes now, and the descriptor closes as the read comes back (at once).
      h.whenIdle(() => fsClose(h.fd, ignore));
      return sink.complete(t, undefined);
    }
    this.#live.add(t);
    h.closers = [t];
    this.#shut(h, (error) => {
      const closers = h.closers ?? [];
      h.closers = undefined;
      let told = false;
      for (const c of closers) {
        if (!this.#live.delete(c)) continue; // its task was cancelled, or the run ended
        told = true;
        if (error !== undefined) sink.fail(c, new NetError(error.code, c.op, h.name, c.taskName, error.detail, error));
        else sink.complete(c, undefined);
      }
      if (!told && error !== undefined) this.#lost.push(error);
    });
  }

  /**
   * End of run for a file still open: queued bytes are still written, then the descriptor is
   * closed. With nothing in flight that happens here and now; otherwise once the reads and
   * writes in flight are done (never before: the fd number could be reused under them), and
   * `run()` waits for it. A failed write that no task was told of goes to `run()`.
   */
  #release(h: FileHandle): void {
    if (h.closed) return;
    h.closed = true;
    // A pipe's source is cancelled: a read under way comes back at once, and a stream (which
    // reads a copy of the descriptor) no longer holds the pipe open or the process alive.
    h.pipe?.cancel();
    const w = h.writer;
    if (h.reads === 0 && w?.writing !== true) {
      w?.flushSync();
      try {
        closeSync(h.fd);
      } catch {
        // already gone: nothing more to release
      }
      const e = w?.unseenError();
      if (e !== undefined) this.#lost.push(e);
      return;
    }
    if (!h.positional && h.reads > 0 && w === undefined) {
      // The descriptor closes as that read comes back; the run does not wait for it.
      h.readQueue.length = 0;
      return h.whenIdle(() => fsClose(h.fd, ignore));
    }
    this.#shut(h, (error) => {
      if (error !== undefined) this.#lost.push(error);
    });
  }

  /**
   * Close `h`'s descriptor once nothing of it is in flight; then `done` gets the write error no
   * task has seen yet (marked seen), a close error, or undefined. Tracked until then, so the end
   * of the run waits for it.
   */
  #shut(h: FileHandle, done: (error: NetError | undefined) => void): void {
    let finished!: () => void;
    const p = new Promise<void>((resolve) => (finished = resolve));
    this.#shutting.add(p);
    h.whenIdle(() =>
      fsClose(h.fd, (closeError) => {
        this.#shutting.delete(p);
        const lost = h.writer?.unseenError();
        done(lost ?? (closeError ? toNetError(closeError, "file.close", h.name, "") : undefined));
        finished();
      }),
    );
  }
}

/** The ops this driver handles. */
export const FILE_OPS = ["file.open", "file.write", "file.read", "file.close"] as const;

BunReactor.register(FILE_OPS, () => new FileDriver());

/** A file op's handle, named for an error message (never throws: the handle may be anything a hand-made descriptor carried). */
function nameOf(h: unknown): string {
  if (h instanceof FileHandle) return h.name;
  return h === null || h === undefined ? String(h) : typeof h === "object" || typeof h === "function" ? `a ${typeof h}` : `${typeof h} ${String(h)}`;
}
