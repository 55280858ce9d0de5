/**
 * The file driver: the `file.*` ops (open, write, read, close) on node:fs descriptors, one
 * instance per reactor. Writes to one file in a tick are coalesced into one host write, made on
 * Bun's I/O thread pool (files are written in parallel, and from the caller's buffer: no copy
 * into a sink). A file has one host write in flight at a time, so its bytes land in order.
 * Only reactor files call Bun or node:fs.
 */
import { close as fsClose, closeSync, openSync, read as fsRead, write as fsWrite, writeSync } from "node:fs";
import { BunReactor, type IoDriver } from "./bun.ts";
import type { CompletionSink, Submission, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";

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

/** A batch of writes to one file, handed to the host as one write. */
interface WriteBatch {
  chunks: Uint8Array[];
  tickets: Ticket[];
  lengths: number[];
  bytes: number;
}

/** The driver's record of an open file. Opaque to users: `File` wraps it. */
export class FileHandle {
  /** The path, for errors and `ps()`. */
  readonly name: string;
  readonly mode: "r" | "w" | "a";
  fd = -1;
  pos = 0;
  /** Closed to tasks (close() called, or run() ended). The fd may still be open for writes in flight. */
  closed = false;
  /** Writes queued this tick (or while a host write is in flight). */
  queue: WriteBatch = emptyBatch();
  /** The batch being written, its bytes, how far the host has taken them, and where to report. */
  flight: WriteBatch = emptyBatch();
  buf: Uint8Array | undefined = undefined;
  at = 0;
  sink: CompletionSink | undefined = undefined;
  /** The host write's callback (made on first use). */
  onWrite: ((error: NodeJS.ErrnoException | null, n: number) => void) | undefined = undefined;
  touched = false;
  /** A host write is in flight. */
  writing = false;
  /** Called once no write is queued or in flight (close waits for this). */
  idle: (() => void)[] = [];
  readonly counters: FileStats = { writeOps: 0, hostWrites: 0, bytesWritten: 0, bytesRead: 0 };
  constructor(name: string, mode: "r" | "w" | "a") {
    this.name = name;
    this.mode = mode;
  }
}

function emptyBatch(): WriteBatch {
  return { chunks: [], tickets: [], lengths: [], bytes: 0 };
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
          const q = h.queue;
          q.chunks.push(data);
          q.tickets.push(t);
          q.lengths.push(data.length);
          q.bytes += data.length;
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
        if (!h.writing) this.#writeQueued(h, sink);
      }
    }
  }

  cancel(t: Ticket): void {
    // A cancelled write's bytes are still written (in order); only its completion is dropped.
    this.#live.delete(t);
    const h = t.a as FileHandle;
    if (t.op === "file.write") {
      const i = h.queue.tickets.indexOf(t);
      if (i >= 0) h.queue.tickets[i] = CANCELLED;
    }
  }

  close(): void {
    for (const h of this.#files) this.#release(h);
    this.#files.clear();
    this.#live.clear();
  }

  #open(t: Ticket, sink: CompletionSink): void {
    const path = t.a as string;
    const [mode, wrap] = t.b as ["r" | "w" | "a", ((h: FileHandle) => unknown) | undefined];
    const h = new FileHandle(path, mode);
    try {
      h.fd = openSync(path, mode);
    } catch (error) {
      return sink.fail(t, toNetError(error, t.op, path, t.taskName));
    }
    this.#files.add(h);
    sink.complete(t, wrap === undefined ? h : wrap(h));
  }

  /**
   * Hand everything queued for `h` to the host as one write. Its tickets complete when the
   * host has taken every byte (a short write resends the rest); then the next batch goes.
   * The two batches of a file are swapped and reused, and its write callback is made once.
   */
  #writeQueued(h: FileHandle, sink: CompletionSink): void {
    const batch = h.queue;
    if (batch.chunks.length === 0) {
      for (const f of h.idle.splice(0)) f();
      return;
    }
    h.queue = h.flight;
    h.flight = batch;
    h.writing = true;
    h.sink = sink;
    h.buf = batch.chunks.length === 1 ? batch.chunks[0]! : Buffer.concat(batch.chunks, batch.bytes);
    h.at = 0;
    this.#hostWrite(h);
  }

  #hostWrite(h: FileHandle): void {
    h.counters.hostWrites++;
    const buf = h.buf!;
    fsWrite(h.fd, buf, h.at, buf.length - h.at, null, (h.onWrite ??= (error, n) => this.#written(h, error, n)));
  }

  #written(h: FileHandle, error: NodeJS.ErrnoException | null, n: number): void {
    if (error === null) {
      h.counters.bytesWritten += n;
      h.at += n;
      if (h.at < h.buf!.length) {
        if (n > 0) return this.#hostWrite(h);
        error = new NetError("EIO", "file.write", h.name, "", "the system wrote 0 bytes");
      }
    }
    const { tickets, lengths } = h.flight;
    const sink = h.sink!;
    for (let i = 0; i < tickets.length; i++) {
      const t = tickets[i]!;
      if (t === CANCELLED) continue;
      if (error === null) sink.complete(t, lengths[i]);
      else sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
    }
    const f = h.flight;
    f.chunks.length = 0;
    f.tickets.length = 0;
    f.lengths.length = 0;
    f.bytes = 0;
    h.buf = undefined;
    h.writing = false;
    this.#writeQueued(h, sink); // the next batch, or the idle callbacks
  }

  /** Run `f` once `h` has nothing queued or in flight. */
  #whenIdle(h: FileHandle, f: () => void): void {
    if (!h.writing && h.queue.chunks.length === 0) f();
    else h.idle.push(f);
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
    if (h.touched) {
      // This tick's writes go first.
      h.touched = false;
      if (!h.writing) this.#writeQueued(h, sink);
    }
    this.#live.add(t);
    this.#whenIdle(h, () =>
      fsClose(h.fd, (error) => {
        if (!this.#live.delete(t)) return;
        if (error) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
        else sink.complete(t, undefined);
      }),
    );
  }

  /**
   * End of run: bytes handed to the driver are still written, then the descriptor is closed.
   * With no host write in flight that happens here and now; otherwise once the writes in
   * flight are done (never before: the fd number could be reused under them).
   */
  #release(h: FileHandle): void {
    if (h.closed) return;
    h.closed = true;
    if (h.writing) {
      return this.#whenIdle(h, () => closeSync(h.fd));
    }
    const q = h.queue;
    try {
      for (const chunk of q.chunks) for (let at = 0; at < chunk.length; ) at += writeSync(h.fd, chunk, at);
    } finally {
      closeSync(h.fd);
    }
  }
}

/** Stands in for a write ticket whose task was cancelled. */
const CANCELLED: Ticket = { op: "file.write", a: undefined, b: undefined, taskName: "(cancelled)" };

/** The ops this driver handles. */
export const FILE_OPS = ["file.open", "file.write", "file.read", "file.close"] as const;

BunReactor.register(FILE_OPS, () => new FileDriver());
