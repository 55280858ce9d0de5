/**
 * Protocol helpers over any chunk source with `read()` and `unread()`: read exactly n bytes,
 * read up to a delimiter or a line, read everything, visit every chunk. Coroutines built
 * only on the source's descriptors; imports no Bun API and no reactor.
 */
import { Syscall, describe, isAsyncFunction } from "../syscall.ts";
import { Task } from "../task.ts";
import type { Co, Yieldable } from "../types.ts";
import { NetCode, NetError } from "./errors.ts";
import { current } from "../syscalls.ts";
import { ByteGather, concatBytes } from "../bytes.ts";

/** What the helpers need: a `read()` descriptor (null at end) and a way to push bytes back. */
export interface ChunkSource {
  read(): Syscall<Uint8Array | null>;
  unread(bytes: Uint8Array): void;
  /**
   * Bytes already here, taken without a syscall, or undefined: then the helper yields `read()`.
   * `run` is the calling task's owner (its kernel). A source returns undefined whenever a
   * `read()` would not simply return those bytes (see `Conn.takeBuffered`), and now and then
   * anyway, so a task parsing a flooded buffer still yields to the others.
   */
  takeBuffered?(run: object): Uint8Array | undefined;
  /** For error messages. */
  readonly name: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();


/** Read exactly `n` bytes; throws `NetError` with code `ERR_UNEXPECTED_EOF` if the stream ends first. */
export function* readExactly(src: ChunkSource, n: number): Co<Uint8Array> {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`readExactly(n): n must be an integer >= 0, got ${describe(n)}`);
  const run = (yield* current()).owner; // whose buffered bytes it may take (see ChunkSource)
  const chunks: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    let b: Uint8Array | null;
    try {
      b = src.takeBuffered?.(run) ?? (yield* src.read());
    } catch (error) {
      // Cancelled or interrupted (a timeout around it): what was read goes back for the next
      // read. (A broken connection has no next read.)
      if (have > 0 && !(error instanceof NetError)) src.unread(concatBytes(chunks, have));
      throw error;
    }
    if (b === null) {
      if (have > 0) src.unread(concatBytes(chunks, have));
      throw new NetError(NetCode.UnexpectedEof, "readExactly", src.name, (yield* current()).name, `the stream ended after ${have} of ${n} bytes`);
    }
    const need = n - have;
    if (b.length > need) {
      chunks.push(b.subarray(0, need));
      src.unread(b.subarray(need));
      have = n;
    } else {
      chunks.push(b);
      have += b.length;
    }
  }
  return n === 0 ? new Uint8Array(0) : concatBytes(chunks, n);
}

/** A byte limit must be a number >= 0 (Infinity for none): NaN would silently lift it. */
function checkMax(maxBytes: unknown, op: string): void {
  if (typeof maxBytes !== "number" || !(maxBytes >= 0)) throw new RangeError(`${op}(maxBytes): maxBytes must be a number >= 0 (Infinity for no limit), got ${describe(maxBytes)}`);
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = hay.length - needle.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Read up to `delimiter`, which is consumed and not returned. At the end of the stream the
 * bytes left (without a delimiter) are returned, or null if there are none. Throws
 * `ERR_TOO_LONG` if `maxBytes` pass without a delimiter.
 */
export function* readUntil(src: ChunkSource, delimiter: string | Uint8Array, maxBytes = 1 << 20): Co<Uint8Array | null> {
  const delim = typeof delimiter === "string" ? encoder.encode(delimiter) : delimiter;
  if (!(delim instanceof Uint8Array)) throw new TypeError(`readUntil(delimiter): the delimiter must be a string or a Uint8Array, got ${describe(delimiter)}`);
  if (delim.length === 0) throw new RangeError("readUntil(delimiter): the delimiter is empty");
  checkMax(maxBytes, "readUntil");
  return yield* until(src, delim, maxBytes, false, "readUntil");
}

/**
 * readUntil's work. `cr`: a `\r` just before the delimiter (or last, while it may still come)
 * does not count against `maxBytes` (readLine's `\r\n`).
 */
function* until(src: ChunkSource, delim: Uint8Array, maxBytes: number, cr: boolean, op: string): Co<Uint8Array | null> {
  const run = (yield* current()).owner; // whose buffered bytes it may take (see ChunkSource)
  const got = new ByteGather(); // the bytes so far (a peer sending a byte at a time costs O(n) copying)
  // The limit for `n` bytes whose last is `last`: one more if that byte is a \r readLine drops.
  const over = (n: number, last: number | undefined): boolean => n > maxBytes + (cr && last === 13 ? 1 : 0);
  for (;;) {
    let b: Uint8Array | null;
    try {
      b = src.takeBuffered?.(run) ?? (yield* src.read());
    } catch (error) {
      // Cancelled or interrupted part way: nothing is lost. (A broken connection has no next read.)
      if (got.bytes.length > 0 && !(error instanceof NetError)) src.unread(got.bytes);
      throw error;
    }
    // At the end of the stream, what is left counts against the limit too.
    const have = got.bytes;
    if (b === null && !over(have.length, have[have.length - 1])) return have.length > 0 ? have : null;
    const from = Math.max(0, have.length - delim.length + 1);
    if (b !== null) got.push(b);
    const buf = got.bytes;
    const at = b === null ? -1 : indexOf(buf, delim, from);
    // Over the limit: the delimiter came after more than `maxBytes`, or cannot come within
    // them (bytes that could still start one do not count), however the bytes were split.
    const n = at >= 0 ? at : buf.length - (delim.length - 1);
    if (b === null || over(n, buf[n - 1])) {
      src.unread(buf);
      throw new NetError(NetCode.TooLong, op, src.name, (yield* current()).name, `no delimiter within ${maxBytes} bytes`);
    }
    if (at >= 0) {
      src.unread(buf.subarray(at + delim.length));
      return buf.subarray(0, at);
    }
  }
}

/**
 * Read one line as text (UTF-8), without its `\n` or `\r\n`; null at the end of the stream.
 * `maxBytes` bounds the line's text: a `\r\n` ending counts no more than a `\n` one.
 */
export function* readLine(src: ChunkSource, maxBytes = 1 << 20): Co<string | null> {
  checkMax(maxBytes, "readLine");
  const b = yield* until(src, NEWLINE, maxBytes, true, "readLine");
  if (b === null) return null;
  const end = b.length > 0 && b[b.length - 1] === 13 ? b.length - 1 : b.length;
  return decoder.decode(b.subarray(0, end));
}
const NEWLINE = encoder.encode("\n");

/** Read until the end of the stream and return everything (throws `ERR_TOO_LONG` past `maxBytes`). */
export function* readAll(src: ChunkSource, maxBytes = 64 << 20): Co<Uint8Array> {
  checkMax(maxBytes, "readAll");
  const run = (yield* current()).owner; // whose buffered bytes it may take (see ChunkSource)
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let b: Uint8Array | null;
    try {
      b = src.takeBuffered?.(run) ?? (yield* src.read());
    } catch (error) {
      if (total > 0 && !(error instanceof NetError)) src.unread(concatBytes(chunks, total)); // cancelled part way: nothing is lost
      throw error;
    }
    if (b === null) return concatBytes(chunks.length ? chunks : [new Uint8Array(0)], total);
    chunks.push(b);
    total += b.length;
    if (total > maxBytes) {
      src.unread(concatBytes(chunks, total)); // left as it was, as readUntil leaves it
      throw new NetError(NetCode.TooLong, "readAll", src.name, (yield* current()).name, `more than ${maxBytes} bytes`);
    }
  }
}

/** Call `fn` with every chunk until the end of the stream (or until `fn` returns `false`). */
export function* forEachChunk(src: ChunkSource, fn: (chunk: Uint8Array) => Co<unknown> | unknown): Co<void> {
  // An async function is refused before anything is read: it would run, unawaited, out of step
  // with the chunks, and `false` would not stop it.
  if (typeof fn !== "function") throw new TypeError(`forEach(fn) in ${yield* current()}: fn must be a function, got ${describe(fn)}`);
  if (isAsyncFunction(fn)) throw new TypeError(`forEach(fn) in ${yield* current()}: fn is an async function; write it as function* (chunk) {...} (wait for a promise with yield* wait(p))`);
  const run = (yield* current()).owner;
  for (;;) {
    const b = src.takeBuffered?.(run) ?? (yield* src.read());
    if (b === null) return;
    let r = fn(b);
    if (r !== null && (typeof r === "object" || typeof r === "function") && (Symbol.asyncIterator in r || typeof (r as PromiseLike<unknown>).then === "function")) {
      // A plain function that returned one: its chunk goes back for the next read, and a failure of that promise is not left unhandled.
      src.unread(b);
      if (typeof (r as PromiseLike<unknown>).then === "function") (r as PromiseLike<unknown>).then(undefined, () => undefined);
      const what = Symbol.asyncIterator in r ? "an async generator" : "a promise";
      throw new TypeError(`forEach(fn) in ${yield* current()}: fn returned ${what}; write it as function* (chunk) {...} (wait for a promise with yield* wait(p))`);
    }
    // A generator runs; so does one syscall or task (`(chunk) => conn.write(chunk)`), as anywhere a body is taken.
    if (isGenerator(r) || r instanceof Syscall || r instanceof Task) r = yield* (r as Iterable<Yieldable, unknown, unknown>);
    if (r === false) return;
  }
}

function isGenerator(x: unknown): x is Co<unknown> {
  return x !== null && typeof x === "object" && typeof (x as Co<unknown>).next === "function" && typeof (x as Co<unknown>).throw === "function";
}
