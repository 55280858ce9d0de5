/**
 * `each(source, body)`: consume an async iterable (a stream, an async generator, a Node
 * readable), a sync iterable or a channel from inside a coroutine, one item at a time.
 * The source's iterator is closed when the loop ends early, fails or is cancelled.
 */
import { isThenable, wait } from "../syscalls.ts";
import { Syscall, asyncBodyError, describe, isCoroutine, notGeneratorHint } from "../syscall.ts";
import { Channel } from "../sync/channel.ts";
import { Task } from "../task.ts";
import type { Co, Yieldable } from "../types.ts";

/** What `each` can consume. */
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
    const it = source[Symbol.asyncIterator]();
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
        if (r.done) {
          finished = true;
          break;
        }
        if ((yield* call(body, r.value)) === false) break;
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
        else closing.catch(() => {});
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
