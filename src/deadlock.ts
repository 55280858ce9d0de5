/**
 * Deadlock in virtual time: when a FakeReactor has sat idle, the kernel checks whether every
 * live task waits on another task (a channel, a lock, a join...) and on nothing from outside
 * (no sleep, promise or I/O); if so, each of them gets one DeadlockError naming every wait.
 * And its opposite, work that never ends at one virtual time: main gets the clock's error.
 */
import { Op } from "./syscall.ts";
import { DeadlockError } from "./errors.ts";
import { raiseAtNextYield, throwInto } from "./lifecycle.ts";
import type { Kernel } from "./kernel.ts";
import type { Task } from "./task.ts";

/** The kernels whose run() is going: a task of one may wake a task of another (a shared channel, an event). */
const running = new Set<Kernel>();

/** Per kernel, the waits of the deadlock last raised (see breakDeadlock's `again`). */
const lastRaised = new WeakMap<Kernel, string>();

/** `k`'s run() began (until `runEnded`): its tasks may wake those of other runs. */
export function runStarted(k: Kernel): void {
  running.add(k);
}

/** `k`'s run() ended. */
export function runEnded(k: Kernel): void {
  running.delete(k);
}

/**
 * If `k` is deadlocked, raise one DeadlockError in every task (so in main, unless run() is
 * winding down) and return true. Nothing runnable, no timer, and every live task waits on a
 * kernel-only wait (a promise or an I/O op could still settle from outside, so never counts);
 * and no other, real-time run in the process has a timer armed or work queued (it may wake ours).
 *
 * @example
 * ```ts
 * if (breakDeadlock(kernel)) return; // every task now gets the DeadlockError at its wait
 * ```
 */
export function breakDeadlock(k: Kernel, again = true): boolean {
  const stuck = stuckTasks(k);
  if (stuck === undefined) return false;
  for (const other of running) if (other !== k && willTick(other)) return false;
  // The same tasks on the same waits as the deadlock last raised: they caught it and wait again.
  const sig = stuck.map((t) => `${t.id} ${t.waitingOn}`).join("\n");
  if (!again && lastRaised.get(k) === sig) return false;
  lastRaised.set(k, sig);
  // Every task gets the one error: the oldest alone may be one that holds it until its children
  // end (a shield, a timeout winding down), and they would wait on. One error, so run() reports it once.
  const error = new DeadlockError(stuck.map((t) => `${t} waits on ${t.waitingOn}`));
  for (const t of stuck) if (t.state === "waiting") throwInto(k, t, error); // (one's undo may have handed another what it waited for)
  k.wake();
  return true;
}

/**
 * Work that never ends, found by a virtual clock (it ran two million rounds of task steps at
 * one virtual time): `error` is raised in main, which ends the run (its end cancels the rest);
 * once main has ended, in every live task. A waiting task gets it at its wait, a ready one at
 * its next yield. Not while a task waits on a promise or I/O, which may end the work from
 * outside (a task polling for a flag a promise sets): then false.
 *
 * @example
 * ```ts
 * raiseRunaway(kernel, new Error("work that never ends")); // main throws it at its next yield
 * ```
 */
export function raiseRunaway(k: Kernel, error: Error): boolean {
  for (const t of k.tasks.alive()) if (t.state === "waiting" && outsideMayWake(t)) return false;
  const main = k.hooks?.main;
  const targets = main !== undefined && !main.ended ? [main] : k.tasks.alive();
  for (const t of targets) {
    if (t.state === "waiting") throwInto(k, t, error);
    else if (!t.ended) raiseAtNextYield(t, error);
  }
  k.wake();
  return true;
}

/** True if `k` has work queued (to run, completed, or to submit) or a sleep with a deadline. */
function hasWork(k: Kernel): boolean {
  return k.ready.length > 0 || k.cq.length > 0 || k.backlog !== undefined || k.timers.size > 0 || k.sleeps.length > 0 || k.sqIo.length > 0;
}

/**
 * True if another run will tick by itself, and so may yet wake ours: a real-time one with work
 * queued or a timer armed. A virtual-time run ticks only when driven (its ticks, if any, show in
 * tick-count.ts), and one waiting on promises or I/O alone may wait for ever (a run a test left
 * behind would otherwise stop every detection in the process).
 */
function willTick(k: Kernel): boolean {
  return !k.closed && k.reactor.virtual !== true && hasWork(k);
}

/** `k`'s live tasks, if it can do nothing more by itself (no work, no timer, every task waiting on another task); else undefined. */
function stuckTasks(k: Kernel): Task<unknown>[] | undefined {
  if (k.closed || hasWork(k)) return undefined;
  const alive = k.tasks.alive();
  if (alive.length === 0) return undefined;
  for (const t of alive) if (t.state !== "waiting" || outsideMayWake(t)) return undefined;
  return alive;
}

/** A waiting task's wait may end from outside the run: a promise, an I/O op, or a wait with no descriptor to tell. */
function outsideMayWake(t: Task<unknown>): boolean {
  const on = t.waitingOn;
  return on === undefined || on.code === Op.Wait || on.code === Op.Io;
}
