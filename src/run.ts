/**
 * `run(main)`: the entry point most programs need. Makes a Scheduler on the Bun reactor
 * (or the one in options) and runs `main` on it.
 */
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";
import { BunReactor } from "./reactor/bun.ts";
import type { TaskBody } from "./types.ts";

Scheduler.defaultReactor = () => new BunReactor();

/**
 * Run `main` (a coroutine or a function returning one) on a fresh scheduler. Resolves with
 * its result, rejects with its error. When main ends, tasks still alive are cancelled, their
 * `finally` blocks run, and every timer and handle is released so the process can exit.
 *
 * @example
 * ```ts
 * import { run, spawn, join, sleep } from "corun";
 * const result = await run(function* () {
 *   const t = yield* spawn(function* () { yield* sleep(10); return "done"; });
 *   return yield* join(t);
 * });
 * console.log(result); // done
 * ```
 */
export function run<T>(main: TaskBody<T>, options?: SchedulerOptions): Promise<T> {
  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return scheduler.run(main);
}
