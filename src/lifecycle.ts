/**
 * How tasks end and how cancellation reaches them: record the outcome, wake joiners,
 * keep unjoined failures for `run()`, deliver a cancel exactly once, and drain the
 * scheduler when main ends. Imports no Bun API.
 */
import { Flag, Resume, StateCode, type Task } from "./task.ts";
import { Cancelled, isCancelOf, isInstance, reason } from "./errors.ts";
import type { Kernel } from "./kernel.ts";
import { IoTicket } from "./io-ticket.ts";

/** Called by the kernel when main ends and when the last task ends. */
export interface EndHooks {
  main: Task<unknown>;
  /** Every task has ended after main did: release the host and settle `run()`. */
  allEnded(): void;
}

/** Errors waiting to be raised at a task's next yield (rare: a map, not a Task field). */
const pendingErrors = new WeakMap<Task<unknown>, unknown>();

/** Raise `error` in `task` at its next yield, after it has taken the value it was handed. */
export function raiseAtNextYield(task: Task<unknown>, error: unknown): void {
  pendingErrors.set(task, error);
  task.flags |= Flag.ErrorPending;
}

/** The error `raiseAtNextYield` left for `task` (the kernel calls this at that yield). */
export function takePendingError(task: Task<unknown>): unknown {
  const e = pendingErrors.get(task);
  pendingErrors.delete(task);
  return e;
}

/** Record how `task` ended and wake whoever waits for it. */
export function endTask(k: Kernel, task: Task<unknown>, outcome: unknown, threw: boolean): void {
  if ((task.flags & Flag.ErrorPending) !== 0) {
    // It ended before the yield that was to raise a pending error: that error is its outcome
    // (unless it failed with its own).
    task.flags &= ~Flag.ErrorPending;
    const pending = takePendingError(task);
    if (!threw) {
      outcome = pending;
      threw = true;
    }
  }
  task.gen = DONE;
  task.waitingOn = undefined;
  task.undo = undefined;
  task.value = outcome;
  if (!threw) {
    task.flags = (task.flags & ~Flag.StateMask) | StateCode.done;
  } else {
    const cancelled = (task.flags & Flag.CancelRequested) !== 0 ? isInstance(outcome, Cancelled) : isCancelOf(outcome, task);
    task.state = cancelled ? "cancelled" : "failed";
    if (!cancelled) annotate(outcome, task);
  }
  k.tasks.ended();

  const waiters = task.waiters;
  if (waiters !== undefined) {
    task.waiters = undefined;
    for (const w of waiters) {
      if (typeof w === "function") callBack(k, task, w); // an onEnd callback, or the promise settling
      else if (w.quiet) k.resume(w.task, w.gen, Resume.Next, undefined);
      else if (k.resume(w.task, w.gen, task.state === "done" ? Resume.Next : Resume.Throw, outcome)) task.flags |= Flag.Observed;
    }
  }
  if ((task.flags & (Flag.StateMask | Flag.Observed)) === StateCode.failed) {
    // Kept for run() to report, up to a bound: a long-running server whose fire-and-forget
    // tasks keep failing must not keep every one of them (and its error) until it stops.
    if (k.unobserved.size < MAX_UNOBSERVED) k.unobserved.add(task);
    else {
      task.flags |= Flag.Uncounted;
      k.uncounted++;
      k.lastUncounted = task; // one kept, to name if the kept ones are all joined later
    }
  }

  const hooks = k.hooks;
  if (hooks !== undefined) {
    if (task === hooks.main) {
      k.beginDrain();
      for (const t of k.tasks.alive()) deliverCancel(k, t);
    }
    if (k.draining && k.tasks.count === 0) hooks.allEnded();
  }
}

/** Run an end callback; if it throws, keep the error for `run()` (it must not escape the step). */
function callBack(k: Kernel, task: Task<unknown>, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    const why = reason(error);
    k.callbackErrors.push(new Error(`an onEnd callback of ${task} threw: ${why}`, { cause: error }));
  }
}

/**
 * Record on the error where it came from: a non-enumerable `taskPath` (`main > server > conn`)
 * and a line at the end of its stack. Only the task it was first thrown out of is recorded.
 */
function annotate(error: unknown, task: Task<unknown>): void {
  try {
    if (!(error instanceof Error) || Object.prototype.hasOwnProperty.call(error, "taskPath")) return;
    const path = task.path;
    Object.defineProperty(error, "taskPath", { value: path, enumerable: false, configurable: true });
    if (typeof error.stack === "string") error.stack += `\n    in corun task ${path} (#${task.id})`;
  } catch {
    // A frozen or exotic error (a revoked Proxy's every look throws): leave it as it is.
  }
}

/** How many failures nobody joined a run keeps for `run()` to report; beyond it, they are counted. */
export const MAX_UNOBSERVED = 1000;

/** A joiner (or the promise) has seen this task's failure. */
export function observe(k: Kernel, task: Task<unknown>): void {
  task.flags |= Flag.Observed;
  if (task.state !== "failed") return;
  if ((task.flags & Flag.Uncounted) !== 0) {
    task.flags &= ~Flag.Uncounted;
    k.uncounted--;
  } else k.unobserved.delete(task);
}

/**
 * Throw `error` into a waiting `target` at its suspension point: its wait is taken back (the
 * undo run, the I/O withdrawn, the timer left) and it resumes by throwing at its next step. If the
 * undo itself throws (a broken primitive, a driver), the task gets that error instead: it
 * must not escape the tick. Used by cancel and by `interrupt`.
 */
export function throwInto(k: Kernel, target: Task<unknown>, error: unknown): void {
  const broken = undoWait(k, target);
  k.unsuspend(target, Resume.Throw, broken ?? error);
  k.wake();
}

/**
 * Take a waiting `target`'s wait back: run its undo (the registration left, the I/O withdrawn,
 * the timer left). Returns what the undo threw (an Error if it threw undefined), or undefined;
 * the caller then resumes the task. Used by `throwInto` and by a timed wait that expires.
 */
export function undoWait(k: Kernel, target: Task<unknown>): unknown {
  const undo = target.undo;
  if (undo === undefined) return undefined;
  // While the undo runs, the task still waits (a waker's `pending` is true) but a wake-up (the
  // undo calling its own waker) is refused: the task is queued once, by the caller's resume.
  target.flags |= Flag.Undoing;
  try {
    if (typeof undo === "function") (undo as () => void)();
    else if (undo instanceof IoTicket) k.reactor.cancel(undo);
    else k.timers.remove(target); // a timer bucket
    return undefined;
  } catch (broken) {
    return broken ?? new Error("an undo threw undefined");
  } finally {
    target.flags &= ~Flag.Undoing;
  }
}

/**
 * Deliver a cancel to `target`, once: undo its suspension and resume it with `Cancelled`
 * at its suspension point, so its `finally` blocks run (and may yield) as usual.
 */
export function deliverCancel(k: Kernel, target: Task<unknown>): void {
  if ((target.flags & Flag.CancelRequested) !== 0 || target.ended) return;
  target.flags |= Flag.CancelRequested;
  if ((target.flags & Flag.Undoing) !== 0) {
    // Its wait is being taken back for another error (an undo that aborts the run's signal):
    // that error is delivered, and the cancel is raised at the task's next yield.
    target.flags |= Flag.CancelPending;
  } else if (target.state === "waiting") {
    throwInto(k, target, new Cancelled(target));
  } else if (target.state === "ready" && ((target.flags & Flag.Started) === 0 || (target.flags & Flag.Yielded) !== 0)) {
    // Never ran (its first step throws, so none of its code runs), or gave up the CPU with
    // nothing handed to it: thrown at that yield.
    target.flags |= Flag.Throw;
    target.value = new Cancelled(target);
  } else {
    // Ready with a value already delivered to it (a waker's resume returned true), or running:
    // the value must not be lost, so the task takes it and gets Cancelled at its next yield.
    target.flags |= Flag.CancelPending;
  }
}

/**
 * A cancel was delivered to `task` and raised in it (not still waiting for its next yield): a
 * failure it ends with is then its cleanup's, not its own (the supervisor's `windDown`).
 */
export function cancelRaised(task: Task<unknown>): boolean {
  return (task.flags & (Flag.CancelRequested | Flag.CancelPending)) === Flag.CancelRequested;
}

/** The helpers born during run()'s drain that each cleaning task still has alive (see bornDuringDrain). */
const drainHelpers = new WeakMap<Task<unknown>, Set<Task<unknown>>>();

/** A cleaner's set of live helpers, cancelled as it ends. (A function of its own: its callback must not close over a helper.) */
function helpersOf(k: Kernel, cleaner: Task<unknown>): Set<Task<unknown>> {
  const set = new Set<Task<unknown>>();
  drainHelpers.set(cleaner, set);
  cleaner.onEnd(() => {
    for (const h of set) deliverCancel(k, h);
  });
  return set;
}

/** The generator of an ended task: drops the real one so it can be collected. */
const DONE = (function* () {})() as unknown as Task<unknown>["gen"];

/**
 * A task made while run() winds down (`k.draining`), for a task cleaning up (a shield, a
 * timeout, a group in its finally, at any depth): it helps with that cleanup, so it runs, and
 * is cancelled if that task ends first: its nearest ancestor from before the drain, or, once
 * that one has ended, its nearest live ancestor (a helper's own cleanup). With no such task, it
 * is cancelled before it starts. Nothing outlives the drain.
 */
export function bornDuringDrain(k: Kernel, task: Task<unknown>, parent: Task<unknown> | undefined): void {
  let cleaner = parent;
  while (cleaner !== undefined && cleaner.id >= k.drainFrom) cleaner = cleaner.parent;
  if (cleaner === undefined || cleaner.ended) {
    cleaner = parent;
    while (cleaner !== undefined && cleaner.ended) cleaner = cleaner.parent;
  }
  if (cleaner !== undefined && !cleaner.ended) {
    // One end callback per cleaner for all its helpers; a helper leaves the set as it ends, so
    // a long cleanup (a timeout per step, a chain of successors) keeps only the live ones.
    const set = drainHelpers.get(cleaner) ?? helpersOf(k, cleaner);
    set.add(task);
    task.onEnd(() => set.delete(task));
  } else {
    task.flags |= Flag.CancelRequested | Flag.Throw;
    task.value = new Cancelled(task);
  }
}

/**
 * Ended ancestors near the spawner are dropped from its chain (the first ended one found in a
 * few hops up is replaced by its nearest live ancestor): a task that keeps spawning its
 * successor must not keep every ended generation alive. A few hops per spawn: O(1). Only
 * tasks with an id from `from` on are dropped (run()'s drain keeps those from before it).
 */
export function forgetEndedAncestors(spawner: Task<unknown>, from: number): void {
  let t: Task<unknown> | undefined = spawner;
  for (let hops = 0; t !== undefined && hops < 8; hops++) {
    let p: Task<unknown> | undefined = t.parent;
    if (p !== undefined && p.ended && p.id >= from) {
      while (p !== undefined && p.ended && p.id >= from) p = p.parent;
      (t as { parent: Task<unknown> | undefined }).parent = p;
      return;
    }
    t = p;
  }
}
