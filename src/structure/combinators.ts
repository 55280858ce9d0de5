/**
 * `all`, `race`, `any`: run coroutines as concurrent child tasks and combine their
 * outcomes like Promise.all/race/any — but losers are cancelled (their `finally` blocks run)
 * before the combinator returns. Built on the Supervisor.
 */
import type { Co, TaskBody } from "../types.ts";
import type { Syscall } from "../syscall.ts";
import type { Task } from "../task.ts";
import { Supervisor, checkTaskBody, type Policy } from "./supervisor.ts";
import { finish } from "./held.ts";

/**
 * The result type of a coroutine source.
 *
 * @example
 * ```ts
 * import { sleep, type Co, type ResultOf } from "corun";
 * function* count(): Co<number> { yield* sleep(1); return 3; }
 * const n: ResultOf<typeof count> = 3; // number
 * ```
 */
export type ResultOf<S> = S extends () => Co<infer R> ? R : S extends () => Syscall<infer R> | Task<infer R> ? R : S extends Co<infer R> ? R : never;

function check(sources: unknown, op: string): asserts sources is readonly TaskBody<unknown>[] {
  if (!Array.isArray(sources)) throw new TypeError(`${op}(coroutines): expected an array, got ${typeof sources}`);
  // Each at the call: a bad one would fail only in its child, which any() takes as a failure it absorbs.
  for (let i = 0; i < sources.length; i++) checkTaskBody(sources[i], op, `coroutines[${i}]`);
}

/**
 * Run `sources` under `policy`. A cancel (or error) thrown into the caller meanwhile is
 * rethrown, unless `complete(sup)` says the outcome was whole by then, or (with an `outcome`
 * rule) the outcome is a child's failure (`sup.lateFailure`): the outcome is then the caller's
 * and the cancel is raised at its next yield (see `finish`).
 */
function* supervise(op: string, sources: readonly TaskBody<unknown>[], policy: Policy, complete: (sup: Supervisor) => boolean, outcome: "failure" | "result first" | undefined, absorbs = false): Co<Supervisor> {
  const sup = new Supervisor(op, policy);
  // The decider's failure; or, when the caller was cancelled before any child decided, the first
  // that failed on its own ("result first", race: unless one ended done then, the winner).
  const rule = outcome === undefined ? undefined : (i: number, cancelled: boolean) => i === sup.decider || (cancelled && sup.decider < 0 && (outcome === "failure" || sup.firstDone < 0));
  const held = yield* sup.runAll(sources.map((s) => [s] as const), rule, absorbs);
  yield* finish(held, held !== undefined && (complete(sup) || sup.lateFailure >= 0));
  return sup;
}

/**
 * The deciding child finished with a result. If none decided before the caller's cancel (the
 * policy stops deciding once shutdown begins), the first child that ended done while the set
 * was shut down (it had been handed its value in that tick) is the winner: its result is kept.
 */
function decidedDone(sup: Supervisor): boolean {
  if (sup.decider < 0) sup.decider = sup.firstDone;
  return sup.decider >= 0 && sup.tasks[sup.decider]!.state === "done";
}

/**
 * Run every coroutine concurrently; return their results in order. The first to fail (or be
 * cancelled) makes the others be cancelled, then its error is thrown.
 *
 * @example
 * ```ts
 * import { run, sleep, all } from "corun";
 * const [a, b] = await run(function* () {
 *   return yield* all([
 *     function* () { yield* sleep(20); return 1; },
 *     function* () { yield* sleep(10); return "two"; },
 *   ]);
 * });
 * console.log(a, b); // 1 two
 * ```
 */
export function* all<const S extends readonly TaskBody<unknown>[]>(coroutines: S): Co<{ -readonly [K in keyof S]: ResultOf<S[K]> }> {
  check(coroutines, "all");
  const sup = yield* supervise("all", coroutines, (_i, ending) => ending !== "done", (sup) => sup.tasks.length === coroutines.length && sup.tasks.every((t) => t.state === "done"), "failure");
  const failed = sup.decider >= 0 ? sup.decider : sup.lateFailure;
  if (failed >= 0) throw sup.tasks[failed]!.error;
  return sup.tasks.map((t) => t.result) as { -readonly [K in keyof S]: ResultOf<S[K]> };
}

/**
 * Run every coroutine concurrently; the first to end wins: its result is returned (or its
 * error thrown) after the others were cancelled. An empty list is a `RangeError`. A loser
 * that also ended in the winner's tick has its result dropped (whatever it took is lost).
 *
 * @example
 * ```ts
 * import { run, sleep, race } from "corun";
 * const w = await run(function* () {
 *   return yield* race([
 *     function* () { yield* sleep(50); return "slow"; },
 *     function* () { yield* sleep(5); return "fast"; },
 *   ]);
 * });
 * console.log(w); // fast
 * ```
 */
export function* race<const S extends readonly TaskBody<unknown>[]>(coroutines: S): Co<ResultOf<S[number]>> {
  check(coroutines, "race");
  if (coroutines.length === 0) throw new RangeError("race([]): nothing to race; it would never end");
  const sup = yield* supervise("race", coroutines, () => true, decidedDone, "result first");
  const winner = sup.tasks[sup.decider >= 0 ? sup.decider : sup.lateFailure]!;
  if (winner.state !== "done") throw winner.error;
  return winner.result as ResultOf<S[number]>;
}

/**
 * Run every coroutine concurrently; return the first successful result (the others are
 * cancelled). If all fail, throws an `AggregateError` of their errors, in order.
 *
 * @example
 * ```ts
 * import { run, sleep, any } from "corun";
 * const v = await run(function* () {
 *   return yield* any([
 *     function* () { yield* sleep(1); throw new Error("mirror 1 down"); },
 *     function* () { yield* sleep(5); return "mirror 2"; },
 *   ]);
 * });
 * console.log(v); // mirror 2
 * ```
 */
export function* any<const S extends readonly TaskBody<unknown>[]>(coroutines: S): Co<ResultOf<S[number]>> {
  check(coroutines, "any");
  // A failure as the caller is cancelled is no outcome of `any` (one success is): it is left for
  // run(). One before was taken in (absorbed), as it is when another child then succeeds.
  const sup = yield* supervise("any", coroutines, (_i, ending) => ending === "done", decidedDone, undefined, true);
  if (sup.decider >= 0) return sup.tasks[sup.decider]!.result as ResultOf<S[number]>;
  throw new AggregateError(
    sup.tasks.map((t) => t.error),
    `any: all ${sup.tasks.length} coroutines failed`,
  );
}
