/**
 * FileReads: the file driver's reads on Bun's thread pool. A regular file's reads take the
 * next ranges from its position (a read cancelled in flight gives its range back); a pipe,
 * FIFO or terminal is read from where it is, one read at a time, and bytes a cancelled read
 * took wait for the next. Only reactor files call node:fs.
 */
import { read as fsRead } from "node:fs";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";
import type { FileHandle } from "./file-handle.ts";

/**
 * The reads of one driver. `live` is the driver's set of tickets still wanted (a cancel
 * removes one); a result for a ticket no longer in it is dropped, or kept for the next read.
 *
 * @example
 * ```ts
 * const reads = new FileReads(live);
 * reads.read(handle, ticket, sink); // completes the ticket with bytes, or null at the end
 * ```
 */
export class FileReads {
  readonly #live: Set<Ticket>;
  /** The range each read of a regular file in flight took (for a cancel to give it back). */
  readonly #ranges = new Map<Ticket, { at: number; n: number; givenBack: boolean }>();

  constructor(live: Set<Ticket>) {
    this.#live = live;
  }

  /** A task asks for up to `t.b` bytes of `h`. */
  read(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    if (h.closed) return sink.fail(t, closedError(h, t));
    if (h.mode !== "r") return sink.fail(t, new NetError("EBADF", t.op, h.name, t.taskName, "the file was opened for writing"));
    if (!h.positional && h.reads > 0) {
      // A pipe's reads go one at a time: two on the thread pool at once could swap their bytes.
      this.#live.add(t);
      h.readQueue.push(t);
      return;
    }
    this.#serve(h, t, sink);
  }

  /** A read's task was cancelled: a regular file's range goes back if no read followed it. */
  cancel(t: Ticket): void {
    const h = t.a as FileHandle;
    // A pipe's read still queued behind the one in flight leaves the queue now (it would keep
    // its task until that read returns, which on a silent pipe may be never).
    const q = h.readQueue.indexOf(t);
    if (q >= 0) h.readQueue.splice(q, 1);
    const r = this.#ranges.get(t);
    if (r !== undefined && h.pos === r.at + r.n) {
      h.pos = r.at;
      r.givenBack = true;
    }
  }

  /**
   * `h` was closed: reads waiting behind a pipe's read fail now, and so does the read in
   * flight (it may wait for a writer forever). True if one is still on the thread pool.
   */
  closed(h: FileHandle, sink: CompletionSink): boolean {
    if (h.positional) return false;
    this.#next(h, sink);
    const r = h.reading;
    if (r !== undefined && this.#live.delete(r)) sink.fail(r, closedError(h, r));
    return h.reads > 0;
  }

  /** End of run: nothing is wanted any more. */
  clear(): void {
    this.#ranges.clear();
  }

  /** Bytes a cancelled pipe read took go first; otherwise one read on the thread pool. */
  #serve(h: FileHandle, t: Ticket, sink: CompletionSink): boolean {
    const kept = h.kept;
    if (kept === undefined) {
      this.#start(h, t, sink);
      return false;
    }
    const n = t.b as number;
    h.kept = kept.length > n ? kept.subarray(n) : undefined;
    this.#live.delete(t);
    h.counters.bytesRead += Math.min(n, kept.length);
    sink.complete(t, kept.length > n ? kept.subarray(0, n) : kept);
    return true;
  }

  #start(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    const n = t.b as number;
    const buf = Buffer.allocUnsafe(n);
    const range = { at: h.pos, n, givenBack: false };
    if (h.positional) {
      h.pos += n;
      this.#ranges.set(t, range);
    } else h.reading = t;
    this.#live.add(t);
    h.reads++;
    fsRead(h.fd, buf, 0, n, h.positional ? range.at : null, (error, got) => {
      this.#ranges.delete(t);
      const live = this.#live.delete(t);
      if (h.positional && !range.givenBack) {
        if (h.pos === range.at + n) h.pos = range.at + (live && !error ? got : 0);
        else if (!error && got < n) h.pos = Math.min(h.pos, range.at + got); // the end of the file is here
      }
      if (!h.positional) {
        h.reading = undefined;
        if (!live && !error && got > 0 && !h.closed) {
          // The next read gets them, after any bytes given back before them (see FileHandle.giveBack).
          const mine = tight(buf, got);
          h.kept = h.kept === undefined ? mine : Buffer.concat([h.kept, mine]);
        }
      }
      if (live) {
        if (error) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
        else {
          h.counters.bytesRead += got;
          sink.complete(t, got === 0 ? null : tight(buf, got));
        }
      }
      if (!h.positional) this.#next(h, sink);
      h.readDone();
    });
  }

  /** Start the next waiting read of a pipe (skipping cancelled ones); fail them all once it is closed. */
  #next(h: FileHandle, sink: CompletionSink): void {
    for (let t = h.readQueue.shift(); t !== undefined; t = h.readQueue.shift()) {
      if (!this.#live.has(t)) continue; // cancelled while it waited
      if (h.closed) {
        this.#live.delete(t);
        sink.fail(t, closedError(h, t));
        continue;
      }
      try {
        if (!this.#serve(h, t, sink)) return; // on the thread pool: the rest wait for it
      } catch (error) {
        this.#live.delete(t);
        sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      }
    }
  }
}

function closedError(h: FileHandle, t: Ticket): NetError {
  return new NetError(NetCode.Closed, t.op, h.name, t.taskName, "the file is closed");
}

/**
 * The first `got` bytes of a read's buffer: a view when they fill most of it, else a copy of
 * their own, so that a short read (a small file's `read()`, or `readAll()`'s 1 MiB chunk) does
 * not keep the whole buffer alive for as long as its result is kept.
 */
function tight(buf: Buffer, got: number): Buffer {
  if (got * 2 >= buf.length) return buf.subarray(0, got);
  const out = Buffer.allocUnsafeSlow(got);
  buf.copy(out, 0, 0, got);
  return out;
}
