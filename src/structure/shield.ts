/**
 * `shield(co)`: run work that cancellation must not interrupt. The caller's cancel is held
 * back until the shielded work has ended, then re-raised. Built on spawn/join only: a
 * Cancelled is delivered to a task once, so the caller can catch it, keep waiting, rethrow.
 */
import { join, spawn, suspend } from "../syscalls.ts";
import type { Task } from "../task.ts";
import type { Co, TaskBody, SpawnOptions } from "../types.ts";

/**
 * Run `co` in a child task that a cancel of the caller does not reach. If the caller is
 * cancelled meanwhile, `shield` waits for `co` to end and then throws that `Cancelled`
 * (the result is dropped); otherwise it returns `co`'s result or throws its error.
 * (When `run()` shuts down, every task is cancelled, shielded ones included.)
 *
 * @example
 * ```ts
 * import { run, spawn, cancel, sleep, shield } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () {
 *     yield* shield(function* commit() { yield* sleep(20); console.log("committed"); });
 *   });
 *   yield* sleep(5);
 *   yield* cancel(t); // waits: prints "committed" first, then t ends cancelled
 * });
 * ```
 */
export function* shield<T>(co: TaskBody<T>, options?: SpawnOptions): Co<T> {
  const task = yield* spawn(co, { name: options?.name ?? ((typeof co === "function" && co.name) || "shielded") });
  let deferred: unknown = undefined;
  let cancelled = false;
  for (;;) {
    try {
      if (!cancelled) return yield* join(task);
      // Cancelled: wait for the work without joining it, so that if it fails, its failure is
      // not taken as seen and run() still reports it (the cancel wins here).
      yield* ended(task);
      break;
    } catch (error) {
      // The task's own error, or a cancel of ours (which may be raised at this yield even
      // after the task ended)? Identity tells.
      if (task.ended && error === task.error) {
        if (!cancelled) throw error;
        break;
      }
      if (!cancelled) deferred = error; // our own Cancelled: remember it, keep waiting
      cancelled = true;
    }
  }
  throw deferred;
}

/** Wait until `task` has ended, without observing its outcome (`onEnd` does not count as seeing a failure). */
function* ended(task: Task<unknown>): Co<void> {
  if (task.ended) return;
  yield suspend((w) => task.onEnd(() => void w.resume(undefined)), "shield", `the end of ${task}`);
}
