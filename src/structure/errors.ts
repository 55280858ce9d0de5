/**
 * Errors raised by the structured-concurrency helpers: `TimeoutError` (a `timeout` expired)
 * and `GroupError` (children of a `group` failed). Each names the task involved.
 * Imports nothing from the kernel.
 */
import { reason } from "../errors.ts";

interface Named {
  readonly id: number;
  readonly name: string;
}

function label(t: Named): string {
  return `task "${t.name}" (#${t.id})`;
}

/**
 * Thrown by `timeout(ms, co)` when `co` did not finish within `ms`; the work was cancelled
 * (its `finally` blocks ran) before this is thrown.
 *
 * @example
 * ```ts
 * import { run, sleep, timeout, TimeoutError } from "corun";
 * await run(function* () {
 *   try { yield* timeout(10, function* () { yield* sleep(1000); }); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * });
 * ```
 */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  /** The time limit, ms. */
  readonly ms: number;
  /** The task that called `timeout` (the work ran in a child task of it, which was cancelled). */
  readonly task: Named;
  constructor(ms: number, task: Named) {
    super(`${label(task)} timed out after ${ms} ms`);
    this.ms = ms;
    this.task = task;
  }
}

/**
 * Thrown by `group()` when children failed: the others were cancelled first. `errors` holds
 * every failure, `tasks` the matching tasks (same order), `cause` the first failure.
 *
 * @example
 * ```ts
 * import { run, group, GroupError } from "corun";
 * await run(function* () {
 *   try {
 *     yield* group(function* (g) {
 *       yield* g.spawn(function* worker() { throw new Error("boom"); });
 *     });
 *   } catch (e) {
 *     console.log((e as GroupError).message); // group "group": task "worker" (#3) failed: boom
 *   }
 * });
 * ```
 */
export class GroupError extends AggregateError {
  override name = "GroupError";
  /** The failed tasks, in the order they failed. */
  readonly tasks: Named[];
  constructor(group: string, failures: readonly { task: Named; error: unknown }[]) {
    const first = failures[0]!;
    const why = reason(first.error);
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : "";
    super(
      failures.map((f) => f.error),
      `group "${group}": ${label(first.task)} failed: ${why}${more}`,
      { cause: first.error },
    );
    this.tasks = failures.map((f) => f.task);
  }
}
