/**
 * FileReads: the file driver's reads. A regular file's reads run on Bun's thread pool, take
 * the next ranges from its position and complete in the order they were made (a read
 * cancelled in flight gives its range back); a FIFO, pipe, terminal or other character device
 * is read off the pool (file-pipe.ts) from where it is, one read at a time, and bytes a
 * cancelled read took (or a stream gave past what was asked) wait for the next read.
 * Only reactor files call node:fs.
 */
import { read as fsRead } from "node:fs";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";
import type { FileHandle, PositionalRead } from "./file-handle.ts";
import { polledSource, streamSource, tight, type PipeSource } from "./file-pipe.ts";

/** node:fs `read`'s shape, as the driver calls it (a test may pass its own). */
export type ReadFn = (
  fd: number,
  buf: Buffer,
  offset: number,
  length: number,
  position: number | null,
  done: (error: NodeJS.ErrnoException | null, got: number) => void,
) => void;

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
  readonly #readFn: ReadFn;
  readonly #sourceFn: (h: FileHandle) => PipeSource;
  /** The driver's sink (one per run), for reads served when bytes are given back or a read is cancelled. */
  #sink: CompletionSink | undefined = undefined;

  constructor(live: Set<Ticket>, readFn: ReadFn = fsRead, sourceFn: (h: FileHandle) => PipeSource = (h) => (h.streamed ? streamSource(h.fd) : polledSource(h.fd))) {
    this.#live = live;
    this.#readFn = readFn;
    this.#sourceFn = sourceFn;
  }

  /** A task asks for up to `t.b` bytes of `h`. */
  read(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    this.#sink = sink;
    h.onKept ??= () => this.#keptChanged(h);
    if (h.closed) return sink.fail(t, closedError(h, t));
    if (h.mode !== "r") return sink.fail(t, new NetError("EBADF", t.op, h.name, t.taskName, "the file was opened for writing"));
    if (!h.positional && (h.readQueue.length > 0 || mustWait(h))) {
      // A pipe's reads go one at a time, in order: two under way at once could swap their bytes.
      this.#live.add(t);
      h.readQueue.push(t);
      return;
    }
    this.#serve(h, t, sink);
  }

  /** A read's task was cancelled: a regular file's read gives its range back (now if no read followed it, else once it is back). */
  cancel(t: Ticket): void {
    const h = t.a as FileHandle;
    // A pipe's read still queued behind the one in flight leaves the queue now (it would keep
    // its task until that read returns, which on a silent pipe may be never).
    const q = h.readQueue.indexOf(t);
    if (q >= 0) h.readQueue.splice(q, 1);
    if (h.reading === t) {
      h.reading = undefined; // still in flight: its bytes will be kept for the next read
      if (h.kept !== undefined) this.#keptChanged(h); // the reads waiting take what is kept now
    }
    const flying = h.inflight;
    const i = flying.findIndex((r) => r.t === t);
    if (i < 0) return;
    const r = flying[i]!;
    if (r.waiting) flying.splice(i, 1); // it had taken no range yet
    else if (i === flying.length - 1 && h.pos === r.at + r.n) {
      h.pos = r.at;
      r.dead = true;
      flying.pop();
    }
    // Else its result is dropped when it comes back, and its bytes go to the reads after it (see #settle).
  }

  /**
   * `h` was closed (or its run ended): reads waiting behind a pipe's read fail now, and so does
   * the read under way (it may wait for a writer forever), whose source is cancelled. True if
   * that read has not come back yet (it will, at once: the descriptor closes then).
   */
  closed(h: FileHandle, sink: CompletionSink): boolean {
    if (h.positional) return false;
    this.#next(h, sink);
    const r = h.reading;
    if (r !== undefined && this.#live.delete(r)) sink.fail(r, closedError(h, r));
    h.pipe?.cancel();
    return h.reads > 0;
  }

  /** Bytes kept (given back, or taken by a cancelled task's read) go first; otherwise one read. */
  #serve(h: FileHandle, t: Ticket, sink: CompletionSink): boolean {
    if (h.kept !== undefined) this.#take(h, t, sink);
    else if (h.endPending) {
      // The end a cancelled task's read met is this read's.
      h.endPending = false;
      this.#live.delete(t);
      this.#deliverBytes(h, t, null, sink);
    } else {
      this.#start(h, t, sink);
      return false;
    }
    return true;
  }

  /** `t` gets up to what it asked for of the kept bytes. */
  #take(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    const kept = h.kept!;
    const n = t.b as number;
    h.kept = kept.length > n ? kept.subarray(n) : undefined;
    this.#live.delete(t);
    this.#deliverBytes(h, t, kept.length > n ? kept.subarray(0, n) : kept, sink);
  }

  #start(h: FileHandle, t: Ticket, sink: CompletionSink): void {
    this.#live.add(t);
    if (h.positional) {
      const q = h.inflight;
      // Behind a read being made again, a new one waits its turn for a range (see #settle).
      if (q.length > 0 && q[q.length - 1]!.waiting) q.push(waiting(t));
      else q.push(this.#begin(h, t, sink));
      return;
    }
    h.reads++;
    h.reading = t;
    const pipe = (h.pipe ??= this.#sourceFn(h));
    pipe.read(t.b as number).then(
      (bytes) => this.#piped(h, t, bytes, null, sink),
      (error: unknown) => this.#piped(h, t, null, error, sink),
    );
  }

  /**
   * A pipe's read came back with `bytes` (null at the end) or `error`: its task gets at most
   * what it asked for; the rest (a stream gives what the pipe holds), or all of it if the task
   * was cancelled, waits for the next read. After an end, the next read makes a new source.
   */
  #piped(h: FileHandle, t: Ticket, bytes: Uint8Array | null, error: unknown, sink: CompletionSink): void {
    const live = this.#live.delete(t);
    if (h.reading === t) h.reading = undefined;
    if (bytes === null && error === null) {
      // An end: the next read makes a new source (a terminal after ^D waits for more; a FIFO
      // with no writer ends again at once, as a read of it would). One a cancelled task's read
      // met is kept for the next read (a terminal's ^D would be lost).
      h.pipe?.cancel();
      h.pipe = undefined;
      if (!live && !h.closed) h.endPending = true;
    }
    let mine = bytes;
    if (bytes !== null && !h.closed) {
      const n = live ? (t.b as number) : 0;
      if (bytes.length > n) {
        // After any bytes given back before them (see FileHandle.giveBack).
        const rest = bytes.subarray(n);
        h.kept = h.kept === undefined ? rest : Buffer.concat([h.kept, rest]);
        mine = bytes.subarray(0, n);
      }
    }
    if (live) {
      if (error !== null) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      else if (h.closed) sink.fail(t, closedError(h, t));
      else this.#deliverBytes(h, t, mine, sink);
    }
    h.readDone();
    this.#next(h, sink);
  }

  /** `t` gets `bytes` (null at the end), counted: an end too, for a give-back must not bring bytes back across one another task saw. */
  #deliverBytes(h: FileHandle, t: Ticket, bytes: Uint8Array | null, sink: CompletionSink): void {
    if (bytes !== null) h.counters.bytesRead += bytes.length;
    if ((bytes !== null && bytes.length > 0) || !h.positional) h.served++;
    sink.complete(t, bytes);
  }

  /**
   * Bytes were given back (a cut-short readAll) or a read's task was cancelled: a live read
   * under way is served from the kept bytes now, which come earlier in the stream than what it
   * will bring (kept after them, its task no longer waiting for it); then the reads waiting.
   */
  #keptChanged(h: FileHandle): void {
    const sink = this.#sink;
    if (sink === undefined || h.closed || h.positional) return;
    const r = h.reading;
    if (r !== undefined && h.kept !== undefined && this.#live.delete(r)) {
      h.reading = undefined;
      this.#take(h, r, sink);
    }
    this.#next(h, sink);
  }

  /** A regular file's read on the thread pool: it takes the next range from the position. */
  #begin(h: FileHandle, t: Ticket, sink: CompletionSink): PositionalRead {
    const n = t.b as number;
    const r: PositionalRead = { t, at: h.pos, n, buf: Buffer.allocUnsafe(n), done: false, error: null, got: 0, dead: false, waiting: false };
    h.pos += n;
    h.reads++;
    this.#readFn(h.fd, r.buf, 0, n, r.at, (error, got) => {
      if (!r.dead) {
        r.done = true;
        r.error = error;
        r.got = got;
        this.#settle(h, sink);
      }
      h.readDone();
    });
    return r;
  }

  /**
   * Complete a regular file's reads in the order they were made, each once those before it
   * are back. A read that came back short found the end of the file there (or failed, or was
   * cancelled: it read nothing for anyone), so the reads made after it, which asked past
   * that point, may have read bytes appended since and skipped those between: the position
   * goes back there and they are made again, in order. The first is made at once and the
   * rest wait for it to come back whole, so reads piled up at the end of a file cost one
   * host read each, not one per read before them. Without this, two reads racing a writer
   * delivered some bytes twice and out of order.
   */
  #settle(h: FileHandle, sink: CompletionSink): void {
    const q = h.inflight;
    while (q.length > 0 && q[0]!.done) {
      const r = q.shift()!;
      const live = this.#live.delete(r.t);
      if (live) this.#deliver(h, r.t, r.buf, r.error, r.got, sink);
      const read = live && r.error === null ? r.got : 0;
      if (read > 0) h.delivered = r.at + read;
      if (read === r.n) {
        this.#resume(h, Infinity, sink);
        continue;
      }
      if (q.length === 0) {
        if (h.pos === r.at + r.n) h.pos = r.at + read;
        continue;
      }
      h.pos = r.at + read;
      for (let i = 0; i < q.length; i++) {
        const l = q[i]!;
        if (!l.waiting) {
          l.dead = true; // its result, if it comes, is dropped
          q[i] = waiting(l.t);
        }
      }
      this.#resume(h, 1, sink);
    }
  }

  /** Make up to `count` of the reads waiting at the end of the queue (dropping cancelled ones). */
  #resume(h: FileHandle, count: number, sink: CompletionSink): void {
    const q = h.inflight;
    if (q.length === 0 || !q[q.length - 1]!.waiting) return;
    let i = q.findIndex((r) => r.waiting);
    while (i < q.length && count > 0) {
      const t = q[i]!.t;
      if (!this.#live.has(t)) {
        q.splice(i, 1);
        continue;
      }
      q[i++] = this.#begin(h, t, sink);
      count--;
    }
  }

  #deliver(h: FileHandle, t: Ticket, buf: Buffer, error: NodeJS.ErrnoException | null, got: number, sink: CompletionSink): void {
    if (error) return sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
    this.#deliverBytes(h, t, got === 0 ? null : tight(buf, got), sink);
  }

  /** Start the next waiting read of a pipe (skipping cancelled ones); fail them all once it is closed. */
  #next(h: FileHandle, sink: CompletionSink): void {
    for (let t = h.readQueue[0]; t !== undefined; t = h.readQueue[0]) {
      if (!this.#live.has(t)) {
        h.readQueue.shift(); // cancelled while it waited
        continue;
      }
      if (h.closed) {
        h.readQueue.shift();
        this.#live.delete(t);
        sink.fail(t, closedError(h, t));
        continue;
      }
      if (mustWait(h)) return;
      h.readQueue.shift();
      try {
        if (!this.#serve(h, t, sink)) return; // on the thread pool: the rest wait for it
      } catch (error) {
        this.#live.delete(t);
        sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      }
    }
  }
}

/** A read waiting behind one being made again: it takes its range when that one is back whole. */
function waiting(t: Ticket): PositionalRead {
  return { t, at: 0, n: t.b as number, buf: EMPTY, done: false, error: null, got: 0, dead: false, waiting: true };
}

const EMPTY = Buffer.alloc(0);

/**
 * A pipe's next read must wait: a read is under way (a task's, or a cancelled task's still in
 * flight), and nothing kept (bytes given back or left over, or an end) can serve it now. (Kept
 * bytes never wait beside a task's read under way: #keptChanged hands them to it at once.)
 */
function mustWait(h: FileHandle): boolean {
  return h.kept === undefined && !h.endPending && (h.reads > 0 || h.reading !== undefined);
}

function closedError(h: FileHandle, t: Ticket): NetError {
  return new NetError(NetCode.Closed, t.op, h.name, t.taskName, "the file is closed");
}
