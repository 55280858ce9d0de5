/**
 * Deadlock in virtual time: when a FakeReactor has sat idle, the kernel checks whether every
 * live task waits on another task (a channel, a lock, a join...) and on nothing from outside
 * (no sleep, promise or I/O); if so, each of them gets one DeadlockError naming every wait.
 */
import { Op } from "./syscall.ts";
import { DeadlockError } from "./errors.ts";
import { throwInto } from "./lifecycle.ts";
import type { Kernel } from "./kernel.ts";

/**
 * If `k` is deadlocked, raise one DeadlockError in every task (so in main, unless run() is
 * winding down) and return true. Nothing runnable, no timer, and every live task waits on a
 * kernel-only wait: a promise or an I/O op could still settle from outside, so never counts.
 *
 * @example
 * ```ts
 * if (breakDeadlock(kernel)) return; // every task now gets the DeadlockError at its wait
 * ```
 */
export function breakDeadlock(k: Kernel): boolean {
  if (k.closed || k.ready.length > 0 || k.cq.length > 0 || k.backlog !== undefined || k.timers.size > 0 || k.sleeps.length > 0 || k.sqIo.length > 0) return false;
  const alive = k.tasks.alive();
  if (alive.length === 0) return false;
  const waits: string[] = [];
  for (const t of alive) {
    const on = t.waitingOn;
    if (t.state !== "waiting" || on === undefined || on.code === Op.Wait || on.code === Op.Io) return false;
    waits.push(`${t} waits on ${on}`);
  }
  // Every task gets the one error: the oldest alone may be one that holds it until its children
  // end (a shield, a timeout winding down), and they would wait on. One error, so run() reports it once.
  const error = new DeadlockError(waits);
  for (const t of alive) if (t.state === "waiting") throwInto(k, t, error); // (one's undo may have handed another what it waited for)
  k.wake();
  return true;
}
