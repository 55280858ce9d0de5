/**
 * `signal()`: an `AbortSignal` tied to the current task's life, to hand to `fetch` and
 * other Promise APIs started from a coroutine. Aborted when the task ends (normally, by
 * failure, or by cancellation). Built on `current()` and `Task.onEnd` only.
 */
import { current } from "../syscalls.ts";
import { Cancelled } from "../errors.ts";
import type { Task } from "../task.ts";
import type { Co } from "../types.ts";

const signals = new WeakMap<Task<unknown>, AbortController>();

/**
 * The calling task's `AbortSignal` (one per task; the same on every call). It aborts as soon
 * as the task ends — including when it is cancelled, so a `fetch(url, { signal })` awaited
 * with `wait()` is aborted, not left running. The reason is a `Cancelled` naming the task.
 * Its listeners run as the task ends; one that throws is reported the way `EventTarget`
 * reports any listener's error (an uncaught error of the process), not by `run()`.
 *
 * @example
 * ```ts
 * import { run, spawn, cancel, sleep, wait, signal } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () {
 *     const s = yield* signal(); // e.g. yield* wait(fetch(url, { signal: s }))
 *     s.addEventListener("abort", () => console.log("aborted"));
 *     yield* wait(new Promise(() => {})); // a promise that never settles
 *   });
 *   yield* sleep(1);
 *   yield* cancel(t); // prints "aborted"
 * });
 * ```
 */
export function* signal(): Co<AbortSignal> {
  const task = yield* current();
  let ctl = signals.get(task);
  if (ctl === undefined) {
    ctl = new AbortController();
    signals.set(task, ctl);
    const c = ctl;
    // onEnd does not count as observing a failure: run() still reports an unjoined one.
    task.onEnd(() => c.abort(new Cancelled(task)));
  }
  return ctl.signal;
}
