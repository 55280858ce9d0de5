/**
 * The file driver: the `file.*` ops (open, write, read, close) on node:fs descriptors, one
 * instance per reactor. A file's writes go through its FileWriter: buffered up to a high-water
 * mark, a tick's writes handed to the OS as one `writev` on Bun's thread pool (files are written
 * in parallel, from the callers' buffers). Only reactor files call Bun or node:fs.
 */
import { close as fsClose, closeSync, openSync, read as fsRead } from "node:fs";
import { BunReactor, type IoDriver } from "./bun.ts";
import type { CompletionSink, Submission, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";
import { DEFAULT_FILE_HIGH_WATER_MARK, FileWriter } from "./file-writer.ts";

export { DEFAULT_FILE_HIGH_WATER_MARK };

/** Options for `open()`. */
export interface FileOpenOptions {
  /** Bytes a file may hold queued for the OS before `write()` waits for them (default 1 MiB). */
  highWaterMark?: number;
}

/** Per-file counters, read with `file.stats()`. */
export interface FileStats {
  /** `write()` calls made by tasks. */
  writeOps: number;
  /** Host writes made (a tick's writes to this file share one). */
  hostWrites: number;
  /** Bytes written. */
  bytesWritten: number;
  /** Bytes read. */
  bytesRead: number;
}

/** The driver's record of an open file. Opaque to users: `File` wraps it. */
export class FileHandle {
  /** The path, for errors and `ps()`. */
  readonly name: string;
  readonly mode: "r" | "w" | "a";
  fd = -1;
  pos = 0;
  /** Closed to tasks (close() called, or run() ended). The fd stays open until queued writes land. */
  closed = false;
  /** The write side (files opened "w" or "a"). */
  writer: FileWriter | undefined = undefined;
  /** Has writes queued this tick (it is in the driver's flush list). */
  touched = false;
  /** Reads in flight on the thread pool, and what waits for them to finish. */
  reads = 0;
  readsIdle: (() => void)[] = [];
  readonly counters = { writeOps: 0, bytesRead: 0 };
  constructor(name: string, mode: "r" | "w" | "a") {
    this.name = name;
    this.mode = mode;
  }

  /** Run `f` once no read or write of this file is queued or in flight. */
  whenIdle(f: () => void): void {
    const afterReads = (): void => (this.reads === 0 ? f() : void this.readsIdle.push(f));
    if (this.writer === undefined) afterReads();
    else this.writer.whenIdle(afterReads);
  }

  /** The counters users see. */
  stats(): FileStats {
    const w = this.writer;
    return { writeOps: this.counters.writeOps, hostWrites: w?.hostWrites ?? 0, bytesWritten: w?.bytesWritten ?? 0, bytesRead: this.counters.bytesRead };
  }
}

class FileDriver implements IoDriver {
  readonly #files = new Set<FileHandle>();
  /** Tickets waiting on an async host result; cancel removes them. */
  readonly #live = new Set<Ticket>();
  /** Files being closed: their descriptor closes once what is in flight has landed. */
  readonly #shutting = new Set<Promise<void>>();
  /** A write error no task was told of (its closer was cancelled, or nobody closed the file). */
  readonly #lost: NetError[] = [];
  #touched: FileHandle[] = [];

  submit(batch: readonly Submission[], sink: CompletionSink): void {
    for (const t of batch) {
      switch (t.op) {
        case "file.write": {
          const h = t.a as FileHandle;
          h.counters.writeOps++;
          if (h.closed) {
            sink.fail(t, new NetError(NetCode.Closed, t.op, h.name, t.taskName, "the file is closed"));
            break;
          }
          if (h.mode === "r") {
            sink.fail(t, new NetError("EBADF", t.op, h.name, t.taskName, "the file was opened for reading"));
            break;
          }
          h.writer!.write(t, typeof t.b === "string" ? Buffer.from(t.b) : (t.b as Uint8Array), sink);
          if (!h.touched) {
            h.touched = true;
            this.#touched.push(h);
          }
          break;
        }
        case "file.read":
          this.#read(t, sink);
          break;
        case "file.open":
          this.#open(t, sink);
          break;
        case "file.close":
          this.#close(t.a as FileHandle, t, sink);
          break;
        default:
          sink.fail(t, new TypeError(`file driver: unknown op "${t.op}" from task "${t.taskName}"`));
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

  cancel(t: Ticket): void {
    // A cancelled write's bytes are still written (in order); only its completion is dropped.
    this.#live.delete(t);
    const h = t.a as FileHandle;
    if (t.op === "file.write") h.writer?.cancel(t);
  }

  /**
   * End of run: files still open are released, and files whose close is still under way
   * (its task may have been cancelled meanwhile) are waited for. Rejects with a write error
   * that no task was told of, once every file is done.
   */
  close(): void | Promise<void> {
    for (const h of this.#files) this.#release(h);
    this.#files.clear();
    this.#live.clear();
    if (this.#shutting.size === 0) return this.#lost.length === 0 ? undefined : Promise.reject(this.#lostError());
    return Promise.all(this.#shutting).then(() => {
      if (this.#lost.length > 0) throw this.#lostError();
    });
  }

  #open(t: Ticket, sink: CompletionSink): void {
    const path = t.a as string;
    const [mode, opts, wrap] = t.b as ["r" | "w" | "a", FileOpenOptions | undefined, ((h: FileHandle) => unknown) | undefined];
    const h = new FileHandle(path, mode);
    try {
      h.fd = openSync(path, mode);
      if (mode !== "r") h.writer = new FileWriter(h.fd, path, opts?.highWaterMark ?? DEFAULT_FILE_HIGH_WATER_MARK);
    } catch (error) {
      return sink.fail(t, toNetError(error, t.op, path, t.taskName));
    }
    this.#files.add(h);
    sink.complete(t, wrap === undefined ? h : wrap(h));
  }

  #read(t: Ticket, sink: CompletionSink): void {
    const h = t.a as FileHandle;
    if (h.closed) return sink.fail(t, new NetError(NetCode.Closed, t.op, h.name, t.taskName, "the file is closed"));
    if (h.mode !== "r") return sink.fail(t, new NetError("EBADF", t.op, h.name, t.taskName, "the file was opened for writing"));
    const n = t.b as number;
    const buf = Buffer.allocUnsafe(n);
    const at = h.pos;
    h.pos += n; // reads issued in one tick take consecutive ranges
    this.#live.add(t);
    h.reads++;
    fsRead(h.fd, buf, 0, n, at, (error, got) => {
      if (--h.reads === 0) for (const f of h.readsIdle.splice(0)) f();
      if (!this.#live.delete(t)) return;
      if (error) return sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      h.counters.bytesRead += got;
      if (got < n) h.pos = Math.min(h.pos, at + got);
      sink.complete(t, got === 0 ? null : buf.subarray(0, got));
    });
  }

  /** One error for run(): the lost write error, or all of them when several files lost bytes. */
  #lostError(): Error {
    const lost = this.#lost;
    return lost.length === 1 ? lost[0]! : new AggregateError(lost, `${lost.length} files lost bytes that no task was told of: ${lost.map((e) => e.message).join("; ")}`);
  }

  #close(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    if (h.closed) return sink.complete(t, undefined);
    h.closed = true;
    this.#files.delete(h);
    if (h.writer !== undefined) {
      h.touched = false;
      h.writer.flush(sink); // this tick's writes go first
    }
    this.#live.add(t);
    this.#shut(h, (error) => {
      if (!this.#live.delete(t)) {
        // Its task was cancelled (or the run ended): the error goes to run() instead.
        if (error !== undefined) this.#lost.push(error);
      } else if (error !== undefined) sink.fail(t, new NetError(error.code, t.op, h.name, t.taskName, undefined, error));
      else sink.complete(t, undefined);
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
