/**
 * Conn: a TCP (or unix, or TLS) connection seen from a coroutine. Its methods return
 * descriptors for the TCP driver (`yield* conn.read()`), plus protocol helpers.
 * Imports no Bun API: the driver's handle is opaque here.
 */
import { io } from "../syscalls.ts";
import { describe, RELEASE_OPS, type Syscall } from "../syscall.ts";
import type { Co } from "../types.ts";
import type { ConnStats, TcpHandle } from "../reactor/tcp-socket.ts";
import { forEachChunk, readAll, readExactly, readLine, readUntil } from "./read-helpers.ts";
import { ioSubmits } from "../tick-count.ts";

// Closing is cleanup: a cancel pending at its yield waits for the next one (RELEASE_OPS).
RELEASE_OPS.add("tcp.close").add("tcp.abort");

/** Buffered takes (see `Conn.takeBuffered`) before the read helpers yield a `read()` to let other tasks run. */
const TAKES_BEFORE_READ = 256;

/**
 * A connection. Get one from `connect()` or `listener.accept()`.
 *
 * Reads return the bytes that have arrived (any size), `null` at the end of the stream.
 * Writes return once every byte was accepted by the kernel; everything written to one
 * connection in a tick (in a round of it: see the README's "How it works") goes out in one host write.
 *
 * @example
 * ```ts
 * import { run, listen, connect, spawn } from "corun";
 * await run(function* () {
 *   const server = yield* listen({ hostname: "127.0.0.1", port: 0 });
 *   yield* spawn(function* () {
 *     const c = yield* server.accept();
 *     for (;;) { const b = yield* c.read(); if (!b) break; yield* c.write(b); }
 *     yield* c.close();
 *   });
 *   const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
 *   yield* c.write("ping\n");
 *   console.log(yield* c.readLine()); // ping
 *   yield* c.close();
 * });
 * ```
 */
export class Conn {
  readonly #h: TcpHandle;

  /** @internal made by the driver through `connect()` / `accept()`. */
  #readOp: Syscall<Uint8Array | null> | undefined = undefined;
  /** Buffered takes by the read helpers since their last `read()` (see `takeBuffered`). */
  #taken = 0;
  constructor(handle: TcpHandle) {
    this.#h = handle;
  }

  /** The peer as `host:port` (or the unix path connected to; an accepted unix connection, whose peer has no address, is `peer of <path>`); used in errors and `ps()`. */
  get name(): string {
    return this.#h.name;
  }
  /**
   * The peer's IP address. Read from the socket on first use and kept; "" if the connection
   * was torn down before anyone asked (as Node's `socket.remoteAddress` is then undefined).
   */
  get remoteAddress(): string {
    return this.#h.remoteAddress;
  }
  /** The peer's port (0 for unix sockets). */
  get remotePort(): number {
    return this.#h.remotePort;
  }
  /**
   * True once `close()` was called or the connection was torn down (a reset, a failed write,
   * the end of the run). The peer's end of stream alone (`read()` returning null) does not
   * close it: this side may still write (a half-close).
   */
  get closed(): boolean {
    return this.#h.closed || this.#h.gone;
  }

  /**
   * True if the peer has sent something no read has taken yet: bytes (including any put back
   * with `unread`), the end of its stream, or an error. A pooled connection with input pending
   * while it should be idle is not fit for reuse (the HTTP client closes it instead).
   *
   * @example
   * ```ts
   * if (!conn.closed && !conn.hasInput) idle.push(conn); // safe to reuse for the next request
   * ```
   */
  get hasInput(): boolean {
    return this.#h.hasInput;
  }

  /**
   * The next bytes from the peer, or `null` at the end of the stream. Throws `NetError`
   * (`ECONNRESET`...) if the connection broke, `ERR_SOCKET_CLOSED` after `close()`.
   *
   * @example
   * ```ts
   * for (;;) { const chunk = yield* conn.read(); if (chunk === null) break; }
   * ```
   */
  read(): Syscall<Uint8Array | null> {
    this.#h.queuedAt = ioSubmits.count; // ahead of any buffered take until it reaches the driver
    // Descriptors are immutable: one read descriptor per connection serves every read.
    return (this.#readOp ??= io("tcp.read", this.#h));
  }

  /**
   * Send bytes (a string is sent as UTF-8). Returns the byte count once the kernel took all
   * of it. Throws `ERR_WRITE_AFTER_END` after `end()`, `ERR_SOCKET_CLOSED` after `close()`,
   * `EPIPE`/`ECONNRESET` if the peer went away. A write cut short by a cancel or a timeout
   * still sends its remaining bytes, in order, from a copy (the buffer is the caller's again).
   *
   * @example
   * ```ts
   * yield* conn.write("hello\n");
   * yield* conn.write(new Uint8Array([1, 2, 3]));
   * ```
   */
  write(data: Uint8Array | string): Syscall<number> {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`conn.write(data): expected a Uint8Array or a string, got ${describe(data)}`);
    }
    return io("tcp.write", this.#h, data);
  }

  /**
   * Half-close: send FIN after every byte written so far. The connection can still read.
   * Returns once the FIN has gone (a second `end()` meanwhile waits for the same FIN).
   *
   * @example
   * ```ts
   * yield* conn.write("request");
   * yield* conn.end();
   * const reply = yield* conn.readAll();
   * ```
   */
  end(): Syscall<void> {
    return io("tcp.end", this.#h);
  }

  /**
   * Close the connection: every byte written before it is delivered, then FIN. Bytes still
   * waiting for room go out as the peer reads (their writes complete then); if the peer has not
   * taken them within `closeLingerMs` (default 30 s, counted from this call) the connection is
   * reset and those writes fail with `ETIMEDOUT`. The socket then stays open, dropping what the
   * peer still sends, until the peer's FIN, for at most 2 s (or `closeLingerMs` if shorter; not
   * past the run's end), counted in `(yield* netStats()).connections` meanwhile: closing it with the
   * peer's bytes unread would make the OS reset it and lose ours in flight. Returns at once.
   * Waiting reads of other tasks fail with `ERR_SOCKET_CLOSED`. Closing twice is harmless.
   *
   * @example
   * ```ts
   * try { yield* conn.write("bye"); } finally { yield* conn.close(); }
   * ```
   */
  close(): Syscall<void> {
    this.#h.queuedAt = ioSubmits.count;
    return io("tcp.close", this.#h);
  }

  /**
   * Abort: reset the connection (RST) at once, dropping unsent bytes and the bytes that came
   * and were not read (a later read fails with `ERR_SOCKET_CLOSED`). Also resets a connection
   * closed here that is still sending its last bytes or waiting for the peer's FIN. The peer's
   * reads and writes fail with `ECONNRESET`. Use `close()` for an orderly close.
   *
   * @example
   * ```ts
   * yield* conn.abort();
   * ```
   */
  abort(): Syscall<void> {
    this.#h.queuedAt = ioSubmits.count;
    return io("tcp.abort", this.#h);
  }

  /**
   * Exactly `n` bytes; throws `NetError` `ERR_UNEXPECTED_EOF` if the stream ends first.
   *
   * @example
   * ```ts
   * const header = yield* conn.readExactly(4);
   * const body = yield* conn.readExactly(new DataView(header.buffer, header.byteOffset).getUint32(0));
   * ```
   */
  readExactly(n: number): Co<Uint8Array> {
    return readExactly(this, n);
  }

  /**
   * The bytes up to `delimiter` (consumed, not returned); at the end of the stream what is
   * left, or null. Throws `ERR_TOO_LONG` after `maxBytes` (default 1 MiB) without a delimiter.
   *
   * @example
   * ```ts
   * const head = yield* conn.readUntil("\r\n\r\n");
   * ```
   */
  readUntil(delimiter: string | Uint8Array, maxBytes?: number): Co<Uint8Array | null> {
    return readUntil(this, delimiter, maxBytes);
  }

  /**
   * One line of UTF-8 text without its `\n` / `\r\n`; null at the end of the stream. Throws
   * `ERR_TOO_LONG` when the line's text passes `maxBytes` (default 1 MiB; its `\r\n` does not
   * count), leaving the bytes for the next read.
   *
   * @example
   * ```ts
   * for (let line; (line = yield* conn.readLine()) !== null; ) console.log(line);
   * ```
   */
  readLine(maxBytes?: number): Co<string | null> {
    return readLine(this, maxBytes);
  }

  /**
   * Everything until the peer ends the stream (throws `ERR_TOO_LONG` past `maxBytes`, default 64 MiB).
   *
   * @example
   * ```ts
   * yield* conn.end();
   * const body = yield* conn.readAll();
   * ```
   */
  readAll(maxBytes?: number): Co<Uint8Array> {
    return readAll(this, maxBytes);
  }

  /**
   * Visit each chunk until the end of the stream; `fn` may be a generator function (its
   * yields run in this task) and stops the loop by returning `false`.
   *
   * @example
   * ```ts
   * yield* conn.forEach(function* (chunk) { yield* conn.write(chunk); }); // echo
   * ```
   */
  forEach(fn: (chunk: Uint8Array) => Co<unknown> | unknown): Co<void> {
    return forEachChunk(this, fn);
  }

  /**
   * @internal For the read helpers (read-helpers.ts): the bytes buffered now, without a
   * syscall, so a parser of pipelined replies takes those already here in the same step (it
   * paid a scheduler round per call). Undefined, so the helper yields a `read()`, when:
   * - the task is of another run (`run`, its kernel): that read is refused with EBADF;
   * - a read, close or abort yielded on this connection has not reached the driver yet (in
   *   this tick): it comes first, as it would have had the helper yielded a read;
   * - every TAKES_BEFORE_READ takes, so a task parsing a flooded buffer lets the others run.
   */
  takeBuffered(run: object): Uint8Array | undefined {
    const h = this.#h;
    const b = this.#taken < TAKES_BEFORE_READ && h.run === run && h.queuedAt !== ioSubmits.count ? h.inbound.takeNow() : undefined;
    this.#taken = b === undefined ? 0 : this.#taken + 1;
    return b;
  }

  /**
   * Push bytes back so the next `read()` returns them first (for parsers that read too far).
   *
   * @example
   * ```ts
   * const b = yield* conn.read();
   * if (b) conn.unread(b.subarray(10));
   * ```
   */
  unread(bytes: Uint8Array): void {
    // Checked here: a string put back would break the read that takes it, and every op of its batch.
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`conn.unread(bytes) on ${this.#h.name}: expected a Uint8Array, got ${describe(bytes)}`);
    this.#h.unread(bytes);
  }

  /**
   * This connection's counters: host writes, write ops, bytes each way, partial writes,
   * bytes buffered now and at most, read pauses, and bytes written but not yet taken by the
   * kernel (`unsent`: a peer that does not read shows there).
   *
   * @example
   * ```ts
   * const { hostWrites, writeOps } = conn.stats(); // hostWrites <= writeOps: writes coalesce
   * ```
   */
  stats(): ConnStats {
    return this.#h.stats();
  }

  /** @internal bytes received so far (`stats().bytesRead` without making the stats). */
  get received(): number {
    return this.#h.counters.bytesRead;
  }

  /** `Conn 127.0.0.1:5000` */
  toString(): string {
    return `Conn ${this.#h.name}`;
  }
}
