/**
 * How a supervisor waits for one child to end as it winds down (`settle`), holding back what is
 * thrown into its owner meanwhile, and the reaper that cancels a child from a task of its own.
 */
import { cancel, join } from "../syscalls.ts";
import { runningTask } from "../syscall.ts";
import type { Task } from "../task.ts";
import { isCycleRefusal } from "../errors.ts";
import { keep, type Held } from "./held.ts";
import type { Co } from "../types.ts";

/**
 * Wait until `t` has ended, by joining (which observes its failure) or cancelling it (which
 * does not). Anything thrown into the waiting task meanwhile is held back (the first one)
 * and returned, and the wait goes on, by cancelling: the owner now leaves with what it holds,
 * not with t's outcome, so t's failure must stay unobserved for run() to report.
 */
export function* settle(t: Task<unknown>, how: "join" | "cancel", held: Held, sent: WeakSet<Task<unknown>>, keepJoining = false): Co<Held> {
  for (;;) {
    try {
      if (how === "join") yield* join(t);
      else {
        // A reaper's join, or this cancel (a child here, or a reaper, which is no member: harmless).
        sent.add(t);
        yield* cancel(t);
      }
      return held;
    } catch (error) {
      // t's own outcome (reported through `failures`)? Compare identities: something thrown
      // into the waiting task can be raised at this yield even when t has already ended.
      if (t.ended && error === t.error) return held;
      // The kernel refused the wait itself: it would close a cycle (t's cleanup waits for this
      // task, say by cancelling it). Waiting again would be refused again, for ever: the cycle
      // is this task's error, and t ends once this task has.
      if (isCycleRefusal(error, runningTask(), t)) throw error;
      held = keep(held, error);
      if (!keepJoining) how = "cancel";
    }
  }
}

/** A reaper: cancel `t` from a task of its own, so the owner can wind several children down at once. */
export function* reap(t: Task<unknown>, sent: WeakSet<Task<unknown>>): Co<void> {
  sent.add(t);
  yield* cancel(t);
}
