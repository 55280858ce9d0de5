/**
 * The Promise side of a channel: `recvAsync` / `sendAsync` and `iterate(ch)` (an async
 * iterable for `for await`), usable from plain async code while coroutines use the same
 * channel. Waiters from both worlds share one FIFO. Imports channel code and types only.
 */
import { Channel, type RecvResult } from "../sync/channel.ts";
import { Waiter } from "../sync/wait-list.ts";
import type { Waker } from "../types.ts";
import { describe } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";

class PromiseWaker<T> implements Waker<T> {
  #done = false;
  readonly #resolve: (v: T) => void;
  readonly #reject: (e: unknown) => void;
  constructor(resolve: (v: T) => void, reject: (e: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }
  resume(value: T): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#resolve(value);
    return true;
  }
  throw(error: unknown): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#reject(error);
    return true;
  }
  get pending(): boolean {
    return !this.#done;
  }
}

/**
 * Options for the Promise-side operations.
 *
 * @example
 * ```ts
 * import { channel, recvAsync, type AsyncOptions } from "corun";
 * const ch = channel<string>(1);
 * const options: AsyncOptions = { signal: AbortSignal.timeout(100) };
 * const got = await recvAsync(ch, options).catch((e: Error) => e.name);
 * console.log(got); // TimeoutError: nothing came within 100 ms
 * ```
 */
export interface AsyncOptions {
  /** Give up waiting when this aborts (the promise rejects with its reason; nothing is taken). */
  signal?: AbortSignal | undefined;
}

const ASYNC_KEYS = Object.keys({ signal: 1 } satisfies Record<keyof AsyncOptions, 1>);

/** The options' signal, checked: a TypeError names what is wrong with it. */
function signalOf(options: AsyncOptions | undefined, fn: string): AbortSignal | undefined {
  // A signal given bare (recvAsync(ch, signal)) would be read for a .signal it has not: ignored.
  const bare = options !== null && typeof (options as { addEventListener?: unknown } | undefined)?.addEventListener === "function";
  if (options !== undefined && (bare || options === null || typeof options !== "object")) {
    throw new TypeError(`${fn}(..., options): options must be an object such as { signal }, got ${bare ? "an AbortSignal: pass { signal }" : describe(options)}`);
  }
  if (options !== undefined) checkKeys(options, ASYNC_KEYS, `${fn}(..., options)`);
  const signal = options?.signal;
  if (signal === undefined) return undefined;
  if (signal === null || typeof signal !== "object" || typeof signal.addEventListener !== "function" || typeof signal.removeEventListener !== "function") {
    throw new TypeError(`${fn}(..., { signal }): signal must be an AbortSignal, got ${describe(signal)}`);
  }
  return signal;
}

/**
 * Run `fn`'s synchronous attempt, then wait with `join` if it had nothing: as a promise that
 * rejects (never throws) on a bad signal, and takes nothing once the signal has aborted.
 */
function attempt<T>(fn: string, options: AsyncOptions | undefined, now: () => T | undefined, join: (w: Waker<unknown>) => Waiter<unknown>): Promise<T> {
  let signal: AbortSignal | undefined;
  try {
    signal = signalOf(options, fn);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const got = now();
    if (got !== undefined) return Promise.resolve(got);
  } catch (error) {
    return Promise.reject(error);
  }
  return park<T>(join, signal);
}

function park<T>(join: (w: Waker<unknown>) => Waiter<unknown>, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const settle = () => {
      if (onAbort) signal!.removeEventListener("abort", onAbort);
    };
    const waker = new PromiseWaker<unknown>(
      (v) => (settle(), resolve(v as T)),
      (e) => (settle(), reject(e)),
    );
    const w = join(waker);
    if (signal) {
      // Abort before any wake-up: leave the queue, nothing was taken.
      onAbort = () => {
        if (waker.throw(signal.reason)) w.leave();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}

/**
 * Receive from `ch` in Promise code: resolves with `{ value, done }` like `recv()`.
 *
 * @example
 * ```ts
 * import { run, spawn, channel, recvAsync } from "corun";
 * const ch = channel<number>(1);
 * const p = recvAsync(ch);
 * await run(function* () { yield* ch.send(7); });
 * console.log((await p).value); // 7
 * ```
 */
export function recvAsync<T>(ch: Channel<T>, options?: AsyncOptions): Promise<RecvResult<T>> {
  const bad = notChannel(ch, "recvAsync");
  if (bad !== undefined) return Promise.reject(bad);
  return attempt<RecvResult<T>>("recvAsync", options, () => ch.tryRecv(), (waker) => {
    const w = new Waiter<undefined>(undefined);
    ch.enqueueRecv(w, waker);
    return w as Waiter<unknown>;
  });
}

/**
 * Send to `ch` from Promise code: resolves once the value is buffered or taken; rejects with
 * `ChannelClosed` if the channel is (or becomes) closed first.
 *
 * @example
 * ```ts
 * import { run, channel, sendAsync } from "corun";
 * const ch = channel<string>(0);
 * const sent = sendAsync(ch, "hello");
 * const got = await run(function* () { return (yield* ch.recv()).value; });
 * await sent;
 * console.log(got); // hello
 * ```
 */
export function sendAsync<T>(ch: Channel<T>, value: T, options?: AsyncOptions): Promise<void> {
  const bad = notChannel(ch, "sendAsync");
  if (bad !== undefined) return Promise.reject(bad);
  return attempt<true>("sendAsync", options, () => (ch.trySend(value) ? true : undefined), (waker) => {
    const w = new Waiter<T>(value);
    ch.enqueueSend(w, waker);
    return w as Waiter<unknown>;
  }).then(() => undefined);
}

/**
 * An async iterable over `ch`, for `for await` in Promise code: yields each value until the
 * channel is closed and drained.
 *
 * @example
 * ```ts
 * import { run, spawn, channel, iterate } from "corun";
 * const ch = channel<number>(4);
 * await run(function* () { for (const n of [1, 2, 3]) yield* ch.send(n); ch.close(); });
 * for await (const n of iterate(ch)) console.log(n); // 1 2 3
 * ```
 */
export function iterate<T>(ch: Channel<T>, options?: AsyncOptions): AsyncIterable<T> {
  const bad = notChannel(ch, "iterate");
  if (bad !== undefined) throw bad;
  const outer = signalOf(options, "iterate");
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      // return() (a `break` out of `for await`) withdraws a receive still waiting, so the next
      // value goes to someone else, and that receive ends as done.
      const stop = new AbortController();
      const onAbort = () => stop.abort(outer!.reason);
      if (outer?.aborted) stop.abort(outer.reason);
      else outer?.addEventListener("abort", onAbort, { once: true });
      let returned = false;
      // Once done (the channel drained, an error, or return()), it lets go of the outer
      // signal: for await calls return() only when left early.
      const finish = (): void => {
        returned = true;
        outer?.removeEventListener("abort", onAbort);
      };
      const it: AsyncIterableIterator<T> = {
        async next(): Promise<IteratorResult<T>> {
          if (returned) return { value: undefined, done: true };
          try {
            const r = await recvAsync(ch, { signal: stop.signal });
            if (!r.done) return { value: r.value, done: false };
            finish();
            return { value: undefined, done: true };
          } catch (error) {
            if (returned) return { value: undefined, done: true };
            finish();
            throw error;
          }
        },
        async return(): Promise<IteratorResult<T>> {
          finish();
          stop.abort();
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return it;
        },
      };
      return it;
    },
  };
}

/** A TypeError naming what `ch` is, unless it is a Channel. */
function notChannel(ch: unknown, fn: string): TypeError | undefined {
  return ch instanceof Channel ? undefined : new TypeError(`${fn}(ch): expected a Channel (made by channel()), got ${describe(ch)}`);
}
