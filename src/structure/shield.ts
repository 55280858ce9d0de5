/**
 * `shield(co)`: run work that cancellation must not interrupt. The caller's cancel is held
 * back until the shielded work has ended, then re-raised (an interrupt too, and a cancel after it). Built on spawn/join only: a
 * Cancelled is delivered to a task once, so the caller can catch it, keep waiting, rethrow.
 */
import { join, spawn, suspend } from "../syscalls.ts";
import type { Task } from "../task.ts";
import type { Co, TaskBody, SpawnOptions } from "../types.ts";
import { keep, leave, type Held } from "./held.ts";
import { checkSource, checkSpawnOptions } from "../task-body.ts";

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
  checkSource(co, "shield");
  checkSpawnOptions(options, "shield");
  const task = yield* spawn(co, { name: options?.name ?? ((typeof co === "function" && co.name) || "shielded") });
  // What was thrown into us meanwhile (our cancel, an interrupt), held back until the work ends.
  let held: Held = undefined;
  for (;;) {
    try {
      if (held === undefined) return yield* join(task);
      // Cancelled: wait for the work without joining it, so that if it fails, its failure is
      // not taken as seen and run() still reports it (the cancel wins here).
      yield* ended(task);
      break;
    } catch (error) {
      // The task's own error, or one thrown into us (which may be raised at this yield even
      // after the task ended)? Identity tells.
      if (task.ended && error === task.error) {
        if (held === undefined) throw error;
        break;
      }
      // Ours: keep it (and a cancel that follows an interrupt beside it), keep waiting.
      held = keep(held, error);
    }
  }
  return yield* leave(held!); // left the loop only with something held
}

/** Wait until `task` has ended, without observing its outcome (`onEnd` does not count as seeing a failure). */
function* ended(task: Task<unknown>): Co<void> {
  if (task.ended) return;
  yield suspend((w) => task.onEnd(() => void w.resume(undefined)), "shield", `the end of ${task}`);
}
