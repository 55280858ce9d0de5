/**
 * Deadlock in virtual time: when a FakeReactor has sat idle, the kernel checks whether every
 * live task waits on another task (a channel, a lock, a join...) and on nothing from outside
 * (no sleep, promise or I/O); if so, the oldest gets a DeadlockError naming each wait.
 */
import { Op } from "./syscall.ts";
import { DeadlockError } from "./errors.ts";
import { throwInto } from "./lifecycle.ts";
import type { Kernel } from "./kernel.ts";

/**
 * If `k` is deadlocked, raise a DeadlockError in its oldest task (main, unless run() is
 * winding down) and return true. Nothing runnable, no timer, and every live task waits on a
 * kernel-only wait: a promise or an I/O op could still settle from outside, so never counts.
 *
 * @example
 * ```ts
 * if (breakDeadlock(kernel)) return; // the oldest task now fails with the DeadlockError
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
  throwInto(k, alive[0]!, new DeadlockError(waits));
  k.wake();
  return true;
}
