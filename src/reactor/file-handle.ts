/**
 * FileHandle: the file driver's record of one open file (descriptor, position, writer, reads
 * in flight, who waits for its close), with the options and counters users see. Opaque to
 * users: `File` wraps it. Imports no Bun API.
 */
import type { Ticket } from "./reactor.ts";
import type { FileWriter } from "./file-writer.ts";
import type { PipeSource } from "./file-pipe.ts";

/**
 * Options for `open()`.
 *
 * @example
 * ```ts
 * import { run, open, type FileOpenOptions } from "corun";
 * const options: FileOpenOptions = { highWaterMark: 64 * 1024 }; // write() waits past 64 KiB queued
 * await run(function* () {
 *   const f = yield* open("/tmp/corun-out.bin", "w", options);
 *   yield* f.close();
 * });
 * ```
 */
export interface FileOpenOptions {
  /** Bytes a file may hold queued for the OS before `write()` waits for them (default 1 MiB). */
  highWaterMark?: number | undefined;
}

/**
 * Per-file counters, read with `file.stats()`.
 *
 * @example
 * ```ts
 * import { run, open, type FileStats } from "corun";
 * await run(function* () {
 *   const f = yield* open("/tmp/corun-log.txt", "w");
 *   yield* f.write("a");
 *   yield* f.write("b");
 *   const s: FileStats = f.stats();
 *   console.log(s.writeOps); // 2
 *   yield* f.close();
 * });
 * ```
 */
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

/** A regular file's read on the thread pool: the range it took, and its result once back. */
export interface PositionalRead {
  readonly t: Ticket;
  readonly at: number;
  readonly n: number;
  readonly buf: Buffer;
  /** Back from the thread pool (its result waits for the reads made before it). */
  done: boolean;
  error: NodeJS.ErrnoException | null;
  got: number;
  /** Given back by a cancel, or made again: its result is dropped. */
  dead: boolean;
  /** Not started: it waits behind a read being made again (it has no range yet). */
  waiting: boolean;
}

/**
 * One open file of one driver.
 *
 * @example
 * ```ts
 * const h = new FileHandle("/tmp/a.txt", "r", driver);
 * h.whenIdle(() => console.log("nothing in flight"));
 * ```
 */
export class FileHandle {
  /** The path, for errors and `ps()`. */
  readonly name: string;
  readonly mode: "r" | "w" | "a";
  /** The driver (of one `run()`) that opened it: only it may use it. */
  readonly owner: object;
  fd = -1;
  pos = 0;
  /** Reads at a position (a regular file or block device); pipes, FIFOs and terminals are read in turn from where they are. */
  positional = true;
  /** Closed to tasks (close() called, or run() ended). The fd stays open until queued writes land. */
  closed = false;
  /** While the descriptor is being closed: the close tickets waiting for it (the first and any repeats). */
  closers: Ticket[] | undefined = undefined;
  /** The write side (files opened "w" or "a"). */
  writer: FileWriter | undefined = undefined;
  /** Has writes queued this tick (it is in the driver's flush list). */
  touched = false;
  /** Reads in flight on the thread pool, and what waits for them to finish. */
  reads = 0;
  readsIdle: (() => void)[] = [];
  /** A regular file: the offset just past the last byte a read delivered (what `giveBack` returns ends there). */
  delivered = 0;
  /** A regular file's reads in flight or waiting to complete, in the order they were made. */
  inflight: PositionalRead[] = [];
  /** Reads of a non-positional file waiting for the one in flight (they go one at a time, in order). */
  readQueue: Ticket[] = [];
  /** A non-positional file's read in flight, while its task still wants it (a cancel clears it; the read stays in flight). */
  reading: Ticket | undefined = undefined;
  /** A FIFO, pipe or terminal: read through Bun's stream on it; another non-positional file is polled (see file-pipe.ts). */
  streamed = false;
  /** A non-positional file's source of bytes, made by its first read (and again after an end: see file-pipe.ts). */
  pipe: PipeSource | undefined = undefined;
  /** An end a cancelled task's read met (a terminal's ^D, a pipe's last writer gone): the next read gets it, after any kept bytes. */
  endPending = false;
  /** Bytes of a non-positional file that a cancelled read took: the next read gets them. */
  kept: Uint8Array | undefined = undefined;
  readonly counters = { writeOps: 0, bytesRead: 0 };
  /** Reads that delivered bytes (a pipe's: or its end), ever (never lowered, unlike bytesRead): a cut-short readAll gives back only if none but its own came since it began. */
  served = 0;
  /** Set by the reads: called when bytes are given back (a pipe's waiting or under-way read may take them now). */
  onKept: (() => void) | undefined = undefined;

  constructor(name: string, mode: "r" | "w" | "a", owner: object) {
    this.name = name;
    this.mode = mode;
    this.owner = owner;
  }

  /**
   * Give back `bytes` a reader took in its `own` reads since `served` was `mark` (a `readAll`
   * cut short): only if no other read was served since (else the stream's order would break), a
   * regular file's position goes back to where they begin (the last delivered read's end,
   * less their length: reads made again may have moved that point back since the reader
   * began), and a pipe's next read gets them first.
   */
  giveBack(bytes: Uint8Array, mark: number, own: number): void {
    if (this.served !== mark + own) return; // another reader took bytes meanwhile
    if (this.positional) {
      // They end where the last delivered read did; nothing was taken past them since.
      if (this.pos !== this.delivered || this.inflight.length !== 0) return;
      this.pos = this.delivered -= bytes.length;
    } else {
      // (A read waiting or under way gets them at once, ahead of what the pipe brings: see FileReads #keptChanged.)
      if (this.closed) return;
      const kept = this.kept;
      if (kept === undefined) this.kept = bytes;
      else this.kept = Buffer.concat([bytes, kept]);
    }
    this.counters.bytesRead -= bytes.length; // read again by whoever gets them: counted then
    if (!this.positional) this.onKept?.();
  }

  /** Run `f` once no read or write of this file is queued or in flight. */
  whenIdle(f: () => void): void {
    const afterReads = (): void => (this.reads === 0 ? f() : void this.readsIdle.push(f));
    if (this.writer === undefined) afterReads();
    else this.writer.whenIdle(afterReads);
  }

  /** A read finished: wake what waits for none to be in flight. */
  readDone(): void {
    if (--this.reads === 0) for (const f of this.readsIdle.splice(0)) f();
  }

  /** The counters users see. */
  stats(): FileStats {
    const w = this.writer;
    return { writeOps: this.counters.writeOps, hostWrites: w?.hostWrites ?? 0, bytesWritten: w?.bytesWritten ?? 0, bytesRead: this.counters.bytesRead };
  }
}
