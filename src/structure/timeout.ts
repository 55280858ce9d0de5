/**
 * `timeout(ms, co)` and `moveOnAfter(ms, co)`: run `co` as a child task while the caller waits
 * for it with a deadline (one timer); on expiry the work is cancelled (its `finally` blocks
 * run) before the caller resumes. Nested timeouts follow curio's rule: the outermost expired
 * one wins. Built on the Supervisor.
 */
import { current } from "../syscalls.ts";
import { describe } from "../syscall.ts";
import type { Co, TaskBody } from "../types.ts";
import { TimeoutError } from "./errors.ts";
import { Supervisor, checkTaskBody } from "./supervisor.ts";
import { finish } from "./held.ts";

function* limit<T>(op: string, ms: number, co: TaskBody<T>): Co<{ value: T } | undefined> {
  if (typeof ms !== "number" || !(ms >= 0)) throw new RangeError(`${op}(ms, co): ms must be a number >= 0, got ${describe(ms)}`);
  checkTaskBody(co, op);
  // The deadline runs from now, read at the call, not from the caller's wait after the work starts.
  const owner = (yield* current()).owner;
  const due = owner.clock() + ms;
  const sup = new Supervisor(op, () => true);
  // A cancel from outside (an outer timeout that expired, say) wins over our own expiry; if
  // the work had finished by then, its result is returned first and the cancel raised at the
  // caller's next yield (what it took, a message or a lock, is not lost).
  // The work's own failure is the outcome, whatever else happened in its tick (see below).
  // The deadline is the supervisor's timed wait: one timer, no task (see Supervisor.wait).
  const held = yield* sup.runAll([[co]], (i) => i === 0, false, due);
  // No work task only if a cancel came before it was started: then `held` has it, and finish
  // throws it. Work that failed on its own as the cancel came: its error is thrown (below), the
  // cancel raised at the caller's next yield.
  yield* finish(held, sup.tasks[0]?.state === "done" || sup.lateFailure === 0);
  const work = sup.tasks[0]!;
  // The work finished, even if in the tick the deadline passed (a value it took from a channel,
  // a lock it acquired): its result stands, or what it took would be lost.
  if (work.state === "done") return { value: work.result as T };
  // So does its own failure (not one while being cancelled), even in the deadline's tick.
  if (work.state === "failed" && !sup.windDown.has(0)) throw work.error;
  if (sup.expired) return undefined;
  throw work.error;
}

/**
 * Run `co` (in a child task) for at most `ms` milliseconds. Returns its result; on expiry
 * cancels it, waits for its cleanup, and throws `TimeoutError`. `ms` may be `Infinity`.
 * Work that finished in the tick the deadline passed returns its result.
 *
 * @example
 * ```ts
 * import { run, sleep, timeout, TimeoutError } from "corun";
 * await run(function* () {
 *   console.log(yield* timeout(50, function* () { yield* sleep(10); return "in time"; })); // in time
 *   try { yield* timeout(10, function* () { yield* sleep(50); }); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * });
 * ```
 */
export function* timeout<T>(ms: number, co: TaskBody<T>): Co<T> {
  const out = yield* limit("timeout", ms, co);
  if (out === undefined) throw new TimeoutError(ms, yield* current());
  return out.value;
}

/**
 * Like `timeout`, but on expiry returns `undefined` instead of throwing (trio's
 * `move_on_after`). The work is cancelled and cleaned up first.
 *
 * @example
 * ```ts
 * import { run, sleep, moveOnAfter } from "corun";
 * const r = await run(function* () {
 *   return yield* moveOnAfter(10, function* () { yield* sleep(1000); return "late"; });
 * });
 * console.log(r); // undefined
 * ```
 */
export function* moveOnAfter<T>(ms: number, co: TaskBody<T>): Co<T | undefined> {
  const out = yield* limit("moveOnAfter", ms, co);
  return out?.value;
}
