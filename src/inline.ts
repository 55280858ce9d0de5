/**
 * Syscalls completed inline: when the task being stepped does `yield* spawn(co)`,
 * `yield* current()`, or joins a task that has already ended, its kernel works out the result
 * at the `yield*` itself, so the generator does not suspend and resume. Imports no Bun API.
 */
import { NOT_INLINE, Op, Syscall } from "./syscall.ts";
import { Flag, StateCode, Task } from "./task.ts";
import type { Kernel } from "./kernel.ts";
import { Thrown, immediate, spawnNow } from "./handlers.ts";
import { observe } from "./lifecycle.ts";

/** Syscalls a task may make in a row, inline or yielded, before its step ends and it is put back in the queue. */
export const SYNC_LIMIT = 10_000;

/**
 * The result of `d` for the task being stepped, or NOT_INLINE if it must be yielded to the
 * kernel as usual: it may suspend or is not kernel-only, no task is running, the task has made
 * SYNC_LIMIT syscalls in a row (fairness), or a cancel or error waits to be raised at its
 * next yield. Throws the error to raise in the task.
 */
export function completeInline(k: Kernel, d: Syscall<unknown> | object): unknown {
  const task = k.running;
  // raiseLater only adds to what is pending: answered in place even when something already
  // is, so that it is not itself the yield where that is raised (see structure/supervisor finish).
  if (task !== undefined && d instanceof Syscall && d.code === Op.RaiseLater) {
    k.stats.counts[Op.RaiseLater]!++;
    return immediate(k, task, d);
  }
  if (task === undefined || k.sync >= SYNC_LIMIT || (task.flags & (Flag.CancelPending | Flag.ErrorPending)) !== 0) return NOT_INLINE;
  let code: number;
  let out: unknown;
  if (d instanceof Task) {
    code = Op.Join;
    if (d.owner !== k || (d.flags & Flag.StateMask) !== StateCode.done) out = joinEnded(k, d);
    else {
      d.flags |= Flag.Observed; // joinEnded of a task that is done, in line (only a failure needs more)
      out = d.value;
    }
  } else if (d instanceof Syscall) {
    code = d.code;
    if (code === Op.Current) out = task;
    else if (code === Op.Spawn) out = spawnNow(k, task, d);
    else if (code === Op.Join) out = joinEnded(k, d.a as Task<unknown>);
    else return NOT_INLINE;
  } else return NOT_INLINE;
  if (out === NOT_INLINE) return out;
  k.sync++;
  k.stats.counts[code]!++;
  if (out instanceof Thrown) throw out.error;
  return out;
}

/** An ended task's outcome (a failure as Thrown), or NOT_INLINE if joining it may have to wait or is an error. */
function joinEnded(k: Kernel, target: Task<unknown>): unknown {
  if (target.owner !== k || !target.ended) return NOT_INLINE;
  observe(k, target);
  return target.state === "done" ? target.value : new Thrown(target.value);
}
