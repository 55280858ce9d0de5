/**
 * The file driver: the `file.*` ops (open, write, read, close, stats) on node:fs descriptors
 * and Bun file sinks, one instance per reactor. Writes to one file in a tick are coalesced
 * into one sink write; the sink is flushed at a high-water mark and on close.
 * Only reactor files call Bun or node:fs.
 */
import { closeSync, openSync, read as fsRead } from "node:fs";
import type { FileSink } from "bun";
import { BunReactor, type IoDriver } from "./bun.ts";
import type { CompletionSink, Submission, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";

/** Bytes written to a file's sink between flushes (default 1 MiB). */
export const DEFAULT_FILE_HIGH_WATER_MARK = 1 << 20;

/** Per-file counters, read with `file.stats()`. */
export interface FileStats {
  /** `write()` calls made by tasks. */
  writeOps: number;
  /** `sink.write` calls made (a tick's writes to this file share one). */
  sinkWrites: number;
  /** Sink flushes (at the high-water mark, and on close). */
  flushes: number;
  /** Bytes written. */
  bytesWritten: number;
  /** Bytes read. */
  bytesRead: number;
}

/** Options for `open()`, passed through to the driver. */
export interface FileOpenOptions {
  /** Flush the sink after this many bytes (default 1 MiB). */
  highWaterMark?: number;
}

/** The driver's record of an open file. Opaque to users: `File` wraps it. */
export class FileHandle {
  /** The path, for errors and `ps()`. */
  readonly name: string;
  readonly mode: "r" | "w" | "a";
  fd = -1;
  sink: FileSink | undefined = undefined;
  hwm = DEFAULT_FILE_HIGH_WATER_MARK;
  pos = 0;
  closed = false;
  sinceFlush = 0;
  /** Writes queued this tick. */
  chunks: Uint8Array[] = [];
  tickets: Ticket[] = [];
  lengths: number[] = [];
  queued = 0;
  touched = false;
  /** A flush in progress: later completions wait for it. */
  flushing: Promise<unknown> | undefined = undefined;
  readonly counters: FileStats = { writeOps: 0, sinkWrites: 0, flushes: 0, bytesWritten: 0, bytesRead: 0 };
  constructor(name: string, mode: "r" | "w" | "a") {
    this.name = name;
    this.mode = mode;
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
          const data = typeof t.b === "string" ? Buffer.from(t.b) : (t.b as Uint8Array);
          h.chunks.push(data);
          h.tickets.push(t);
          h.lengths.push(data.length);
          h.queued += data.length;
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
      for (const h of touched) this.#flushQueued(h, sink);
    }
  }

  cancel(t: Ticket): void {
    // A cancelled write's bytes are still written (in order); only its completion is dropped.
    this.#live.delete(t);
    const h = t.a as FileHandle;
    if (t.op === "file.write") {
      const i = h.tickets.indexOf(t);
      if (i >= 0) h.tickets[i] = CANCELLED;
    }
  }

  close(): void {
    for (const h of this.#files) this.#release(h);
    this.#files.clear();
    this.#live.clear();
  }

  #open(t: Ticket, sink: CompletionSink): void {
    const path = t.a as string;
    const [mode, opts, wrap] = t.b as ["r" | "w" | "a", FileOpenOptions | undefined, ((h: FileHandle) => unknown) | undefined];
    const h = new FileHandle(path, mode);
    try {
      h.fd = openSync(path, mode);
      if (mode !== "r") {
        h.hwm = opts?.highWaterMark ?? DEFAULT_FILE_HIGH_WATER_MARK;
        h.sink = Bun.file(h.fd).writer({ highWaterMark: h.hwm });
      }
    } catch (error) {
      if (h.fd >= 0) closeSync(h.fd);
      return sink.fail(t, toNetError(error, t.op, path, t.taskName));
    }
    this.#files.add(h);
    sink.complete(t, wrap === undefined ? h : wrap(h));
  }

  /** One sink write for the tick's writes to `h`; a flush past the mark; then the completions. */
  #flushQueued(h: FileHandle, sink: CompletionSink): void {
    h.touched = false;
    if (h.chunks.length === 0) return;
    const buf = h.chunks.length === 1 ? h.chunks[0]! : Buffer.concat(h.chunks, h.queued);
    const tickets = h.tickets;
    const lengths = h.lengths;
    h.chunks = [];
    h.tickets = [];
    h.lengths = [];
    h.queued = 0;
    try {
      h.sink!.write(buf);
      h.counters.sinkWrites++;
      h.counters.bytesWritten += buf.length;
      h.sinceFlush += buf.length;
      if (h.sinceFlush >= h.hwm) this.#flush(h);
    } catch (error) {
      for (const t of tickets) if (t !== CANCELLED) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      return;
    }
    const done = (): void => {
      for (let i = 0; i < tickets.length; i++) if (tickets[i] !== CANCELLED) sink.complete(tickets[i]!, lengths[i]);
    };
    const pending = h.flushing;
    if (pending === undefined) done();
    else {
      for (const t of tickets) this.#live.add(t);
      pending.then(
        () => {
          for (let i = 0; i < tickets.length; i++) if (this.#live.delete(tickets[i]!)) sink.complete(tickets[i]!, lengths[i]);
        },
        (error: unknown) => {
          for (const t of tickets) if (this.#live.delete(t)) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
        },
      );
    }
  }

  #flush(h: FileHandle): void {
    h.sinceFlush = 0;
    h.counters.flushes++;
    const r = h.sink!.flush();
    if (typeof r === "object" && r !== null && typeof (r as Promise<number>).then === "function") {
      const p = (r as Promise<number>).finally(() => {
        if (h.flushing === p) h.flushing = undefined;
      });
      h.flushing = p;
    }
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
    this.#flushQueued(h, sink); // this tick's writes go first
    h.closed = true;
    this.#files.delete(h);
    const s = h.sink;
    if (s === undefined) {
      closeSync(h.fd);
      return sink.complete(t, undefined);
    }
    h.counters.flushes++;
    this.#live.add(t);
    Promise.resolve(h.flushing)
      .then(() => s.end())
      .then(
        () => {
          closeSync(h.fd);
          if (this.#live.delete(t)) sink.complete(t, undefined);
        },
        (error: unknown) => {
          try { closeSync(h.fd); } catch { /* already gone */ }
          if (this.#live.delete(t)) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
        },
      );
  }

  /** End of run: flush what the sink holds and release the descriptor. */
  #release(h: FileHandle): void {
    if (h.closed) return;
    h.closed = true;
    const fd = h.fd;
    const s = h.sink;
    if (s === undefined) return closeSync(fd);
    Promise.resolve(s.end()).then(
      () => closeSync(fd),
      () => closeSync(fd),
    );
  }
}

/** Stands in for a write ticket whose task was cancelled. */
const CANCELLED: Ticket = { op: "file.write", a: undefined, b: undefined, taskName: "(cancelled)" };

/** The ops this driver handles. */
export const FILE_OPS = ["file.open", "file.write", "file.read", "file.close"] as const;

BunReactor.register(FILE_OPS, () => new FileDriver());
