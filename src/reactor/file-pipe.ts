/**
 * How the file driver reads a descriptor that has no position: a FIFO, pipe or terminal
 * through Bun's stream on it (epoll, on the event loop), another character device non-blocking
 * on this thread, tried again on a timer while it has nothing. Never on the thread pool, where
 * a read waiting for a silent writer would hold one of its few threads (and every file's I/O
 * in the process queues behind them). Only reactor files call node:fs and Bun.file.
 */
import { readSync } from "node:fs";

/**
 * A source of a descriptor's bytes. `read(n)` resolves with the next bytes (at most `n` for a
 * polled device; a stream gives what the pipe holds, the caller keeping what is over), or null
 * at the end; `cancel()` makes a read under way resolve with null and ends the source.
 */
export interface PipeSource {
  read(n: number): Promise<Uint8Array | null>;
  cancel(): void;
}

/**
 * A FIFO, pipe or terminal, read through Bun's stream on `fd` (which stays ours to close). A
 * stream that has ended answers every read with null: the caller makes a new one for the next
 * read (a FIFO's next writer, a terminal's input after ^D).
 *
 * @example
 * ```ts
 * const src = streamSource(fd);
 * const bytes = await src.read(64 * 1024); // null at the end
 * ```
 */
export function streamSource(fd: number): PipeSource {
  const reader = Bun.file(fd).stream().getReader();
  return {
    async read(): Promise<Uint8Array | null> {
      for (;;) {
        const r = await reader.read();
        if (r.done) return null;
        if (r.value.length > 0) return r.value; // (an empty chunk is no end)
      }
    },
    cancel: () => void reader.cancel().catch(() => {}),
  };
}

/** node:fs `readSync`'s shape, as a polled source calls it (a test may pass its own). */
export type ReadSyncFn = (fd: number, buf: Buffer, offset: number, length: number, position: null) => number;

/** The first wait after a read found nothing, and the longest (ms). */
const FIRST_WAIT_MS = 1;
const LONGEST_WAIT_MS = 20;

/**
 * Another character device (`/dev/zero`, `/dev/kmsg`...), opened non-blocking: read at once on
 * this thread, and while it has nothing (EAGAIN) tried again after a wait that doubles from
 * 1 to 20 ms. Epoll refuses most such devices, and they seldom wait at all.
 *
 * @example
 * ```ts
 * const src = polledSource(fd);
 * const bytes = await src.read(16); // 16 bytes of /dev/urandom
 * ```
 */
export function polledSource(fd: number, read: ReadSyncFn = readSync): PipeSource {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let end: (() => void) | undefined;
  return {
    read(n: number): Promise<Uint8Array | null> {
      const buf = Buffer.allocUnsafe(n);
      let wait = 0;
      return new Promise((resolve, reject) => {
        end = () => resolve(null);
        const attempt = (): void => {
          timer = undefined;
          let got: number;
          try {
            got = read(fd, buf, 0, n, null);
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code !== "EAGAIN" && code !== "EWOULDBLOCK") return reject(error);
            wait = Math.min(LONGEST_WAIT_MS, wait === 0 ? FIRST_WAIT_MS : wait * 2);
            timer = setTimeout(attempt, wait);
            return;
          }
          end = undefined;
          resolve(got === 0 ? null : tight(buf, got));
        };
        attempt();
      });
    },
    cancel(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      end?.();
      end = undefined;
    },
  };
}

/**
 * The first `got` bytes of a read's buffer: a view when they fill most of it, else a copy of
 * their own, so that a short read (a small file's `read()`, or `readAll()`'s 1 MiB chunk) does
 * not keep the whole buffer alive for as long as its result is kept.
 *
 * @example
 * ```ts
 * tight(Buffer.alloc(1 << 20), 10).buffer.byteLength; // 10, not 1 MiB
 * ```
 */
export function tight(buf: Buffer, got: number): Buffer {
  if (got * 2 >= buf.length) return buf.subarray(0, got);
  const out = Buffer.allocUnsafeSlow(got);
  buf.copy(out, 0, 0, got);
  return out;
}
