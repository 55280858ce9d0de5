/**
 * One step of a task: resume its generator and run it until it suspends on a host syscall,
 * yields the CPU, or ends, handling kernel-only syscalls in place on the way (up to
 * SYNC_LIMIT in a row). Imports no Bun API; the kernel's tick calls it for each ready task.
 */
import { Op, RELEASE_OPS, Syscall, describe } from "./syscall.ts";
import { Flag, Resume, StateCode, Task } from "./task.ts";
import { Cancelled } from "./errors.ts";
import { isThenable } from "./syscalls.ts";
import type { Kernel } from "./kernel.ts";
import * as handlers from "./handlers.ts";
import { IoTicket } from "./io-ticket.ts";
import { endTask, takePendingError } from "./lifecycle.ts";
import { SYNC_LIMIT } from "./inline.ts";

/** Run `task` (ready) until it suspends, yields or ends. */
export function step(k: Kernel, task: Task<unknown>): void {
  const flags = task.flags;
  // Queued once per wake-up; an entry for a task no longer ready (a bug elsewhere) is dropped
  // rather than resuming a generator that waits or has ended.
  if ((flags & Flag.StateMask) !== StateCode.ready) return;
  k.stats.steps++;
  let mode: Resume = (flags & Flag.Throw) !== 0 ? Resume.Throw : Resume.Next;
  // One write: state "running", started, and the resume mode taken.
  task.flags = (flags & ~(Flag.StateMask | Flag.Throw | Flag.Yielded)) | StateCode.running | Flag.Started;
  const gen = task.gen;
  let value = task.value;
  task.value = undefined;
  for (k.sync = 0; ; k.sync++) {
    let done: unknown;
    let y: unknown;
    k.running = task;
    try {
      const r = mode === Resume.Next ? gen.next(value) : gen.throw(value);
      // Read inside the try: a hand-made iterator's result may be no object, or have throwing getters.
      done = r.done;
      y = r.value;
    } catch (error) {
      k.running = undefined;
      endTask(k, task, error, true);
      return;
    }
    k.running = undefined;
    if (done === true) {
      endTask(k, task, y, false);
      return;
    }
    mode = Resume.Next;
    value = undefined;
    if ((task.flags & (Flag.CancelPending | Flag.ErrorPending)) !== 0 && !releases(y)) {
      // A cancel (or error) that arrived while this task held a delivered value: raised at this
      // yield, in place of what it asks for; after a close or abort (made as usual), at the next.
      mode = Resume.Throw;
      if ((task.flags & Flag.ErrorPending) !== 0) {
        task.flags &= ~Flag.ErrorPending;
        value = takePendingError(task);
      } else {
        task.flags &= ~Flag.CancelPending;
        value = new Cancelled(task);
      }
      continue;
    }
    if (y === undefined) return requeue(k, task, Flag.Yielded);
    let out: unknown;
    try {
      if (y instanceof Syscall) {
        k.stats.counts[y.code]!++;
        switch (y.code) {
          case Op.Current:
            out = task;
            break;
          case Op.Sleep:
            if (typeof y.a !== "number" || !(y.a > 0 && y.a < Infinity)) {
              if (typeof y.a === "number" && y.a <= 0) return requeue(k, task, Flag.Yielded);
              // Only a descriptor made by hand gets here (sleep() checks ms): the task's error.
              throw new TypeError(`${task} yielded a sleep of ${describe(y.a)} ms (a descriptor made by hand?): use sleep(ms)`);
            }
            handlers.suspendOn(task, y);
            k.sleeps.push(task);
            return;
          case Op.Io:
            handlers.countIo(k, y.op);
            handlers.suspendOn(task, y);
            k.sqIo.push(new IoTicket(y, task));
            return;
          default:
            // spawn, join, cancel, wait, suspend: handled in place; they may suspend.
            out = handlers.immediate(k, task, y);
        }
      } else if (y instanceof Task) {
        // A raw `yield task`: a join (no descriptor unless it has to wait).
        k.stats.counts[Op.Join]!++;
        out = handlers.joinTask(k, task, y, undefined);
      } else if (isThenable(y)) {
        // A promise (or any thenable): a wait, counted as `wait(p)` is. Its `then` is user code:
        // if it throws, the task gets the error here and no half-made wait is left behind.
        k.stats.counts[Op.Wait]!++;
        handlers.waitFor(k, task, y, undefined);
        return;
      } else {
        // A function (`yield sleep`): not called. Anything else (`yield worker()`): yield* was meant.
        const hint = typeof y === "function" ? `did you mean yield* ${y.name || "it"}(...) ?` : "did you mean yield* ?";
        out = new handlers.Thrown(new TypeError(`${task} yielded ${describe(y)}, which is not a syscall, a task, a promise or undefined (${hint})`));
      }
    } catch (error) {
      // User code ran inside (a thenable's `then`, an exotic object's traps): its error goes to
      // the task, never out of the tick.
      out = handlers.handlerFailed(task, error);
    }
    if (out === handlers.SUSPENDED) return;
    if (out instanceof handlers.Thrown) {
      mode = Resume.Throw;
      value = out.error;
    } else value = out;
    if (k.sync >= SYNC_LIMIT) {
      // Fairness: a long run of synchronous syscalls goes back to the queue.
      if (mode === Resume.Throw) task.flags |= Flag.Throw;
      task.value = value;
      return requeue(k, task);
    }
  }
}

/** True if `y` is an I/O op that releases a resource (RELEASE_OPS): never skipped for a pending cancel or error. */
function releases(y: unknown): boolean {
  return y instanceof Syscall && y.code === Op.Io && RELEASE_OPS.has(y.op);
}

/** Put a running task back at the end of the ready queue (it gave up the CPU; `yielded`: with nothing handed to it). */
function requeue(k: Kernel, task: Task<unknown>, yielded = 0): void {
  task.flags = (task.flags & ~Flag.StateMask) | StateCode.ready | yielded;
  k.ready.push(task);
  k.gaveUp = true;
}

/**
 * True if every task waiting to run (the backlog's rest included) only gave up the CPU with
 * nothing handed to it (a plain `yield`, `sleep(0)`) and no completion waits: a virtual clock
 * may let time pass. O(tasks ready); asked by a FakeReactor between ticks.
 */
export function onlyPolling(k: Kernel): boolean {
  if (k.cq.length > 0) return false;
  const backlog = k.backlog;
  if (backlog !== undefined && !allYielded(backlog, k.backlogAt)) return false;
  return (k.ready.length > 0 || backlog !== undefined) && allYielded(k.ready, 0);
}

/** The tasks waiting to run (the backlog's rest, the ready queue, completions), named: a few, then how many more. For a reactor's messages. */
export function runnableNames(k: Kernel): string {
  const all = [...(k.backlog?.slice(k.backlogAt) ?? []), ...k.ready, ...k.cq];
  const named = all.slice(0, 5).map(String).join(", ");
  return all.length > 5 ? `${named} and ${all.length - 5} more` : named;
}

function allYielded(list: readonly Task<unknown>[], from: number): boolean {
  for (let i = from; i < list.length; i++) if ((list[i]!.flags & (Flag.StateMask | Flag.Yielded)) !== (StateCode.ready | Flag.Yielded)) return false;
  return true;
}
