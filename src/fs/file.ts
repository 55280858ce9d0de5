/**
 * File and `open()`: read and write files from coroutines through the file driver, whose
 * batching turns a tick's writes to one file into one host write. Descriptors only;
 * imports no Bun API (the driver module is loaded for its registration).
 */
import { io } from "../syscalls.ts";
import { describe, RELEASE_OPS, type Syscall } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";
import type { Co } from "../types.ts";
import type { FileHandle, FileOpenOptions, FileStats } from "../reactor/file-handle.ts";
import { MAX_READ_BYTES } from "../reactor/file.ts";
import { NetError } from "../net/errors.ts";

// Closing is cleanup: a cancel pending at its yield waits for the next one (RELEASE_OPS).
RELEASE_OPS.add("file.close");

const wrapFile = (h: unknown): File => new File(h as FileHandle);

/**
 * An open file. Get one from `open(path, mode)`.
 *
 * @example
 * ```ts
 * import { run, open } from "corun";
 * await run(function* () {
 *   const f = yield* open("/tmp/corun-example.txt", "w");
 *   yield* f.write("hello\n");
 *   yield* f.close();
 * });
 * ```
 */
export class File {
  readonly #h: FileHandle;

  /** Not for users: made by the driver through `open()`. */
  constructor(handle: FileHandle) {
    this.#h = handle;
  }

  /** The path it was opened with. */
  get path(): string {
    return this.#h.name;
  }
  /** True once `close()` was made (or its `run()` ended): later reads and writes fail with `ERR_SOCKET_CLOSED`. */
  get closed(): boolean {
    return this.#h.closed;
  }
  /** `"r"`, `"w"` or `"a"`, as opened. */
  get mode(): "r" | "w" | "a" {
    return this.#h.mode;
  }

  /**
   * Append bytes (a string as UTF-8) at the end of what was written so far. Returns the byte
   * count at once while the file holds at most `highWaterMark` bytes not yet taken by the OS
   * (default 1 MiB); past that, once this write's own bytes are taken. Don't change a buffer
   * after writing it: it is written from where it is. A failed host write is reported by the
   * next `write` or by `close`.
   *
   * @example
   * ```ts
   * yield* f.write(new Uint8Array(32 * 1024));
   * ```
   */
  write(data: Uint8Array | string): Syscall<number> {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`file.write(data): expected a Uint8Array or a string, got ${describe(data)}`);
    }
    return io("file.write", this.#h, data);
  }

  /**
   * The next bytes (at most `maxBytes`, default 64 KiB), or `null` at the end of the file.
   * (A `Buffer`, as from `readAll`: typed as the `Uint8Array` it is.)
   *
   * @example
   * ```ts
   * for (;;) { const b = yield* f.read(); if (b === null) break; }
   * ```
   */
  read(maxBytes = 64 * 1024): Syscall<Uint8Array | null> {
    if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_READ_BYTES) {
      throw new RangeError(`file.read(maxBytes): expected an integer from 1 to ${MAX_READ_BYTES}, got ${describe(maxBytes)}`);
    }
    return io("file.read", this.#h, maxBytes);
  }

  /**
   * Everything from the current position to the end (a `Buffer`, empty at the end).
   *
   * @example
   * ```ts
   * const text = new TextDecoder().decode(yield* f.readAll());
   * ```
   */
  *readAll(): Co<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    const mark = this.#h.served;
    for (;;) {
      let b: Uint8Array | null;
      try {
        b = yield* this.read(1 << 20);
      } catch (error) {
        // Cut short by a cancel or a timeout: what was read goes back, for the next read.
        if (n > 0 && !(error instanceof NetError)) this.#h.giveBack(joined(parts, n), mark, parts.length);
        throw error;
      }
      if (b === null) break;
      parts.push(b);
      n += b.length;
    }
    return joined(parts, n);
  }

  /**
   * Close, after every write already made has reached the operating system; throws if one of
   * them failed and no `write` has reported it yet. Files still open when `run()` ends are
   * closed then, after their queued writes.
   *
   * @example
   * ```ts
   * try { yield* f.write("data"); } finally { yield* f.close(); }
   * ```
   */
  close(): Syscall<void> {
    return io("file.close", this.#h);
  }

  /**
   * Counters: write ops vs host writes (`writeOps / hostWrites` is the coalescing factor), bytes.
   *
   * @example
   * ```ts
   * const { writeOps, hostWrites } = f.stats();
   * ```
   */
  stats(): FileStats {
    return this.#h.stats();
  }

  /** `File /tmp/x.txt (w)` */
  toString(): string {
    return `File ${this.#h.name} (${this.#h.mode})`;
  }
}

const OPEN_KEYS = Object.keys({ highWaterMark: 1 } satisfies Record<keyof FileOpenOptions, 1>);

/**
 * Open a file: `"w"` creates or truncates it, `"a"` appends, `"r"` reads. Throws `NetError`
 * with the system code (`ENOENT`, `EACCES`...) if it cannot be opened.
 *
 * @example
 * ```ts
 * import { run, open } from "corun";
 * await run(function* () {
 *   const log = yield* open("/tmp/corun-log.txt", "a");
 *   yield* log.write(`started ${Date.now()}\n`);
 *   yield* log.close();
 * });
 * ```
 */
export function open(path: string, mode: "r" | "w" | "a" = "r", options?: FileOpenOptions): Syscall<File> {
  if (typeof path !== "string" || path === "") throw new TypeError(`open(path): expected a non-empty path, got ${describe(path)}`);
  if (path.includes("\0")) throw new TypeError(`open(path): a path cannot hold a NUL byte, got ${JSON.stringify(path)}`);
  if (mode !== "r" && mode !== "w" && mode !== "a") throw new TypeError(`open(path, mode): mode must be "r", "w" or "a", got ${describe(mode)}`);
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`open(path, mode, options): options must be an object such as { highWaterMark }, got ${describe(options)}`);
  }
  if (options !== undefined) checkKeys(options, OPEN_KEYS, "open(path, mode, options)");
  const hwm = options?.highWaterMark;
  if (hwm !== undefined && !(typeof hwm === "number" && hwm >= 0 && Number.isFinite(hwm))) {
    throw new RangeError(`open(path, mode, options): highWaterMark must be a finite number >= 0, got ${describe(hwm)}`);
  }
  return io("file.open", path, [mode, options, wrapFile]);
}

export type { FileStats, FileOpenOptions };

/** `parts` (a file's reads, Buffers) as one Buffer: a file read gives a Buffer, whatever the number of parts. */
function joined(parts: Uint8Array[], n: number): Buffer {
  const p = parts[0];
  if (parts.length === 1 && p !== undefined) return Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.length);
  return Buffer.concat(parts, n);
}
