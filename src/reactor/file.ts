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
  readonly counters = { writeOps: 0, bytesRead: 0 };
  constructor(name: string, mode: "r" | "w" | "a") {
    this.name = name;
    this.mode = mode;
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

  close(): void | Promise<void> {
    const later: Promise<void>[] = [];
    for (const h of this.#files) {
      const p = this.#release(h);
      if (p !== undefined) later.push(p);
    }
    this.#files.clear();
    this.#live.clear();
    if (later.length > 0) return Promise.all(later).then(() => undefined);
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
    fsRead(h.fd, buf, 0, n, at, (error, got) => {
      if (!this.#live.delete(t)) return;
      if (error) return sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      h.counters.bytesRead += got;
      if (got < n) h.pos = Math.min(h.pos, at + got);
      sink.complete(t, got === 0 ? null : buf.subarray(0, got));
    });
  }

  #close(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    if (h.closed) return sink.complete(t, undefined);
    h.closed = true;
    this.#files.delete(h);
    const w = h.writer;
    if (w === undefined) {
      closeSync(h.fd);
      return sink.complete(t, undefined);
    }
    h.touched = false;
    w.flush(sink); // this tick's writes go first
    this.#live.add(t);
    w.whenIdle(() =>
      fsClose(h.fd, (error) => {
        if (!this.#live.delete(t)) return;
        if (w.error !== undefined && !w.errorSeen) {
          // Bytes of writes that had already returned were lost: close is the last place to say so.
          w.errorSeen = true;
          sink.fail(t, w.errorFor(t));
        } else if (error) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
        else sink.complete(t, undefined);
      }),
    );
  }

  /**
   * End of run: queued bytes are still written, then the descriptor is closed. With no host
   * write in flight that happens here and now; otherwise once the writes in flight are done
   * (never before: the fd number could be reused under them), and `run()` waits for it. A
   * failed write that no task was told of rejects, so `run()` reports it.
   */
  #release(h: FileHandle): void | Promise<void> {
    if (h.closed) return;
    h.closed = true;
    const w = h.writer;
    if (w === undefined) return closeSync(h.fd);
    const unseen = (): NetError | undefined => (w.error !== undefined && !w.errorSeen ? w.errorFor(RELEASE) : undefined);
    if (!w.writing) {
      try {
        w.flushSync();
      } finally {
        closeSync(h.fd);
      }
      const e = unseen();
      return e === undefined ? undefined : Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) =>
      w.whenIdle(() => {
        closeSync(h.fd);
        const e = unseen();
        if (e === undefined) resolve();
        else reject(e);
      }),
    );
  }
}

/** Names the end of run in errors reported then (no task is waiting on the file). */
const RELEASE: Ticket = { op: "file.write", a: undefined, b: undefined, taskName: "(end of run)" };

/** The ops this driver handles. */
export const FILE_OPS = ["file.open", "file.write", "file.read", "file.close"] as const;

BunReactor.register(FILE_OPS, () => new FileDriver());
