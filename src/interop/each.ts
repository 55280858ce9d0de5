/**
 * `each(source, body)`: consume an async iterable (a stream, an async generator, a Node
 * readable), a sync iterable or a channel from inside a coroutine, one item at a time.
 * The source's iterator is closed when the loop ends early, fails or is cancelled (a web or
 * Node stream is ended even when the cancel comes while it waits for the next item).
 */
import { isThenable, wait } from "../syscalls.ts";
import { Syscall, asyncBodyError, describe, isCoroutine, notGeneratorHint } from "../syscall.ts";
import { Channel } from "../sync/channel.ts";
import { Task } from "../task.ts";
import type { Co, Yieldable } from "../types.ts";

/**
 * What `each` can consume.
 *
 * @example
 * ```ts
 * import { run, each, type Co, type EachSource } from "corun";
 * function* sum(source: EachSource<number>): Co<number> {
 *   let total = 0;
 *   yield* each(source, function* (n) { total += n; });
 *   return total;
 * }
 * console.log(await run(() => sum([1, 2, 3]))); // 6
 * ```
 */
export type EachSource<T> = AsyncIterable<T> | Iterable<T> | Channel<T>;

/**
 * Run `body` for every item of `source`, in order, waiting for each. `body` may return
 * `false` to stop early. For an async iterable, its `return()` is called, and awaited, when the
 * loop stops early, the body fails or the task is cancelled (not awaited when the cancel came
 * while waiting for the next item: a pending `next()` could hold it forever). For a channel,
 * runs until the channel is closed and drained.
 *
 * @example
 * ```ts
 * import { run, each } from "corun";
 * async function* numbers() { yield 1; yield 2; yield 3; }
 * const sum = await run(function* () {
 *   let total = 0;
 *   yield* each(numbers(), function* (n) { total += n; });
 *   return total;
 * });
 * console.log(sum); // 6
 * ```
 */
export function* each<T>(source: EachSource<T>, body: (item: T) => Co<void | boolean>): Co<void> {
  if (typeof body !== "function") throw new TypeError("each(source, body): body must be a generator function");
  const refused = asyncBodyError(body, "each(source, body)"); // before the first item: calling it would run it
  if (refused !== undefined) throw refused;
  if (source instanceof Task) throw new TypeError(`each(source, body): ${source} is a Task, not a stream of items (join it with yield* task)`);
  if (source instanceof Channel) {
    for (let r = yield* source.recv(); !r.done; r = yield* source.recv()) {
      if ((yield* call(body, r.value)) === false) return;
    }
    return;
  }
  if (source !== null && typeof source === "object" && Symbol.asyncIterator in source) {
    // A web stream is read through a reader of our own: its own iterator's return() waits
    // behind a pending read, so a cancel while waiting could not end it (reader.cancel() can).
    const it = source instanceof ReadableStream ? readerIterator(source as ReadableStream<T>) : source[Symbol.asyncIterator]();
    if (it === null || typeof it !== "object" || typeof it.next !== "function") {
      throw new TypeError(`each(source, body): source[Symbol.asyncIterator]() returned ${describe(it)}, not an async iterator`);
    }
    let finished = false;
    let clean = false;
    /** Waiting for next(): a cancel there must not wait for return() (the pending next() could hold it for ever). */
    let waitingNext = false;
    try {
      for (;;) {
        // A next() that throws or rejects ends the iterator (it is not closed with return(),
        // as in for await); a cancel of this task while waiting for it does not.
        let pending: Promise<{ r: IteratorResult<T> } | { error: unknown }>;
        try {
          // Promise.resolve: next() may return any thenable (whose then() returns nothing).
          pending = Promise.resolve(it.next()).then((r) => ({ r }), (error: unknown) => ({ error }));
        } catch (error) {
          finished = true;
          throw error;
        }
        waitingNext = true;
        const step = yield* wait(pending);
        waitingNext = false;
        if ("error" in step) {
          finished = true;
          throw step.error;
        }
        const r = step.r;
        if (r === null || (typeof r !== "object" && typeof r !== "function")) {
          // As for await: the iterator is broken, not closed.
          finished = true;
          throw new TypeError(`each(source, body): the async iterator's next() resolved to ${describe(r)}, not an iterator result ({ value, done })`);
        }
        let value: T;
        try {
          if (r.done) {
            finished = true;
            break;
          }
          value = r.value;
        } catch (error) {
          finished = true; // a getter of the result threw: broken, as for await has it, not closed
          throw error;
        }
        if ((yield* call(body, value)) === false) break;
      }
      clean = true;
    } finally {
      if (!finished && typeof it.return === "function") {
        let closing: Promise<unknown>;
        try {
          closing = Promise.resolve(it.return());
        } catch (error) {
          // return() threw at once: that is the error only if nothing else is on its way out.
          if (clean) throw error;
          closing = Promise.resolve();
        }
        if (clean) yield* wait(closing);
        // The body failed (or was cancelled in it): its cleanup is awaited as in for await, and
        // the body's error wins over one from return().
        else if (!waitingNext) yield* wait(closing.then(() => undefined, () => undefined));
        else {
          closing.catch(() => {});
          // A Node stream's iterator runs return() only after the pending next(), which may
          // never come (a silent socket): the stream itself is ended, as it would be on a break.
          const destroy = (source as { destroy?: unknown }).destroy;
          // A Node Readable (it keeps a _readableState), not any source with a destroy() of its own.
          if (typeof destroy === "function" && typeof (source as { _readableState?: unknown })._readableState === "object") {
            try {
              destroy.call(source);
            } catch {
              // already ended
            }
          }
        }
      }
    }
    return;
  }
  // A string is iterable too (its characters), as in for…of.
  if (typeof source === "string" || (source !== null && typeof source === "object" && Symbol.iterator in source)) {
    for (const item of source as Iterable<T>) {
      if ((yield* call(body, item)) === false) return;
    }
    return;
  }
  throw new TypeError(`each(source): expected an async iterable, an iterable or a channel, got ${source === null ? "null" : typeof source}`);
}

/**
 * `body(item)`, checked: a generator runs, as does one syscall or task it returns; anything
 * else (what a plain function returned, a promise included) is a TypeError that says so.
 */
function* call<T>(body: (item: T) => Co<void | boolean>, item: T): Co<void | boolean> {
  const made: unknown = body(item);
  if (made instanceof Syscall || made instanceof Task) return (yield* made as Iterable<Yieldable, void | boolean, unknown>);
  if (!isCoroutine(made)) {
    const name = body.name ? ` (${body.name})` : "";
    throw new TypeError(`each(source, body): body${name} returned ${describe(made)}, not a generator; ${notGeneratorHint(made, true)}`);
  }
  return yield* made as Co<void | boolean>;
}

/** A web stream as an async iterator of its own reader: `return()` cancels the stream, even with a read pending. */
function readerIterator<T>(rs: ReadableStream<T>): AsyncIterator<T> {
  const reader = rs.getReader();
  return {
    async next(): Promise<IteratorResult<T>> {
      try {
        const r = await reader.read();
        if (r.done) reader.releaseLock();
        return r as IteratorResult<T>;
      } catch (error) {
        reader.releaseLock();
        throw error;
      }
    },
    async return(): Promise<IteratorResult<T>> {
      try {
        await reader.cancel();
      } finally {
        reader.releaseLock();
      }
      return { done: true, value: undefined };
    },
  };
}
