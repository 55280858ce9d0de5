/**
 * One handler per op. Kernel-only ops (spawn, join, cancel, wait, suspend) are handled in
 * place during the step: they either return a result at once or suspend the task and record
 * how to undo the suspension. Host ops (sleep, I/O) are submitted in per-op batches at the
 * end of the tick. Imports no Bun API.
 */
import { InlineSyscall, Op, RELEASE_OPS, Syscall } from "./syscall.ts";
import type { IoTicket } from "./io-ticket.ts";
import { Flag, Resume, StateCode, Task, type Joiner } from "./task.ts";
import { Cancelled, UsageError, cycleRefusal, isCancelOf } from "./errors.ts";
import type { TaskBody, SpawnOptions, Undo, Waker } from "./types.ts";
import type { Kernel } from "./kernel.ts";
import { deliverCancel, observe, raiseAtNextYield, throwInto } from "./lifecycle.ts";
import { SUSPENDED, Thrown, handlerFailed } from "./outcome.ts";
import { spawn } from "./start.ts";
import { ioSubmits } from "./tick-count.ts";
import { TimedSuspend, armTimedWait, type TimedWake, type TimedWaker } from "./timed-wait.ts";

export { SUSPENDED, Thrown, handlerFailed } from "./outcome.ts";
export { spawnNow, startable } from "./start.ts";

/**
 * Handle a kernel-only syscall in place. A handler that throws (a bad argument's getter, a
 * descriptor made by hand, a thenable whose `then` throws) gives the task that error at its
 * yield: it never escapes the step (see `handlerFailed`).
 */
export function immediate(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  try {
    return dispatch(k, task, d);
  } catch (error) {
    return handlerFailed(task, error);
  }
}

function dispatch(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  switch (d.code) {
    case Op.Spawn:
      return spawn(k, task, d.a as TaskBody<unknown>, d.b as SpawnOptions | undefined);
    case Op.Join:
      return join(k, task, d);
    case Op.Cancel:
      return cancel(k, task, d);
    case Op.Wait:
      waitFor(k, task, d.a as PromiseLike<unknown>, d);
      return SUSPENDED;
    case Op.Suspend:
      return suspend(k, task, d);
    case Op.Interrupt:
      return interrupt(k, task, d);
    case Op.RaiseLater:
      // The task's own cancel is raised as the kernel raises a late one (CancelPending): if the
      // task returns before its next yield, it ends done with what it returns. Anything else
      // (an interrupt) is raised at that yield, or is its outcome if it returns first.
      if (isCancelOf(d.a, task)) task.flags |= Flag.CancelPending;
      else raiseAtNextYield(task, d.a);
      return undefined;
  }
  return new Thrown(new UsageError(task, d.op, `unknown kernel op code ${d.code}`));
}

function join(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  return joinTask(k, task, d.a as Task<unknown>, d);
}

/** Join `target`: its outcome at once if it has ended, else suspend `task` until it does. `d` is the `join` descriptor, or undefined for a raw `yield target`. */
export function joinTask(k: Kernel, task: Task<unknown>, target: Task<unknown>, d: Syscall<unknown> | undefined): unknown {
  if (target.owner !== k) return new Thrown(new UsageError(task, "join", `${target} belongs to another scheduler`));
  if (target === task) return new Thrown(new UsageError(task, "join", "a task cannot join itself (it would wait forever)"));
  if (target.ended) {
    observe(k, target);
    return target.state === "done" ? target.value : new Thrown(target.value);
  }
  const cycle = joinCycle(task, target);
  if (cycle !== undefined) return new Thrown(cycleRefusal(new UsageError(task, "join", `a join cycle: ${cycle} (each would wait for ever)`), task, target));
  suspendOn(task, d ?? new InlineSyscall("join", Op.Join, target));
  addJoiner(target, { task, gen: task.waitGen, quiet: false });
  return SUSPENDED;
}

/**
 * If `target` waits (joining or cancelling) for a task that waits for ... `task`, the chain
 * `task > target > ... > task` as names; else undefined. Only waits on a task's end are followed.
 */
function joinCycle(task: Task<unknown>, target: Task<unknown>, how: "joins" | "cancels" = "joins"): string | undefined {
  let t = target;
  for (let hops = 0; hops < 1000; hops++) {
    const on = t.waitingOn;
    if (on === undefined || (on.code !== Op.Join && on.code !== Op.Cancel) || t.state !== "waiting") return undefined;
    t = on.a as Task<unknown>;
    if (t === task) {
      // `task` joins (or cancels: `how`) target; each then waits on the next by its own op.
      let chain = `${task} ${how} ${target}`;
      for (let u = target; u !== task; u = u.waitingOn!.a as Task<unknown>) chain += ` ${u.waitingOn!.code === Op.Cancel ? "cancels" : "joins"} ${u.waitingOn!.a as Task<unknown>}`;
      return chain;
    }
  }
  return undefined;
}

function interrupt(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  const target = d.a as Task<unknown>;
  if (target.owner !== k) return new Thrown(new UsageError(task, "interrupt", `${target} belongs to another scheduler`));
  if (target.state !== "waiting") return false; // running (itself), ready, or ended: nothing to interrupt
  throwInto(k, target, d.b);
  return true;
}

function cancel(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  const target = d.a as Task<unknown>;
  if (target.owner !== k) return new Thrown(new UsageError(task, "cancel", `${target} belongs to another scheduler`));
  if (target.ended) return undefined;
  if (target === task) {
    // Cancelling oneself: the Cancelled is raised right here, at this yield.
    target.flags |= Flag.CancelRequested;
    return new Thrown(new Cancelled(task));
  }
  if ((target.flags & Flag.CancelRequested) !== 0) {
    // Cancelled already, so this cancel only waits for its end: a wait that may close a cycle
    // (its cleanup joins this task, say). A cancel delivered now takes the target's wait back.
    const cycle = joinCycle(task, target, "cancels");
    if (cycle !== undefined) return new Thrown(cycleRefusal(new UsageError(task, "cancel", `a cycle of waits: ${cycle} (each would wait for ever)`), task, target));
  }
  suspendOn(task, d);
  addJoiner(target, { task, gen: task.waitGen, quiet: true });
  deliverCancel(k, target);
  return SUSPENDED;
}

/**
 * Queue a joiner (or canceller) on `target`'s end. One that was woken otherwise meanwhile (it
 * was cancelled, or its wait was interrupted) is stale; the stale ones are dropped whenever the
 * list has doubled since it was last compacted, so a long-lived task joined by many
 * short-lived waiters keeps only the live ones.
 */
function addJoiner(target: Task<unknown>, joiner: Joiner): void {
  const list = (target.waiters ??= []);
  const n = list.length;
  if (n >= 16 && n >= (compactAt.get(list) ?? 16)) {
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const w = list[i]!;
      if (typeof w === "function" || w.task.waitGen === w.gen) list[kept++] = w;
    }
    list.length = kept;
    compactAt.set(list, Math.max(16, 2 * kept)); // next when it has doubled: O(1) amortised
  }
  list.push(joiner);
}

/** The length at which a long waiter list is next compacted (lists of under 16 never are). */
const compactAt = new WeakMap<unknown[], number>();

/** Wait for a promise (`d` is the `wait` descriptor, or undefined for a bare `yield promise`). */
export function waitFor(k: Kernel, task: Task<unknown>, p: PromiseLike<unknown>, d: Syscall<unknown> | undefined): void {
  suspendOn(task, d ?? new Syscall("wait", Op.Wait, p)); // a raw `yield promise` shows in ps() as a wait too
  const gen = task.waitGen;
  // A promise's reactions cannot be removed, and it may outlive the wait by far (one that
  // settles at shutdown): they reach the task through this cell, which the wait's undo empties,
  // so a task cancelled or interrupted here is let go of (with all it holds) at once.
  const cell: { task: Task<unknown> | undefined } = { task };
  task.undo = () => void (cell.task = undefined); // before `then`, which may settle at once (a hand-made thenable)
  let called = false;
  try {
    p.then(
      (v) => void ((called = true), cell.task !== undefined && k.resume(cell.task, gen, Resume.Next, v)),
      (e) => void ((called = true), cell.task !== undefined && k.resume(cell.task, gen, Resume.Throw, e)),
    );
  } catch (error) {
    // A thenable whose then() throws after calling back: ignored, as await ignores it
    // (Promises/A+ 2.3.3.3.4.1); before, it is the wait's error.
    if (!called) throw error;
  }
}

class KernelWaker<T> implements Waker<T>, TimedWaker {
  readonly #k: Kernel;
  readonly #task: Task<unknown>;
  readonly #gen: number;
  /** A timed wait's timer (timed-wait.ts), taken back when this wakes the task. */
  timer: TimedWake | undefined = undefined;
  constructor(k: Kernel, task: Task<unknown>) {
    this.#k = k;
    this.#task = task;
    this.#gen = task.waitGen;
  }
  resume(value: T): boolean {
    if (this.timer !== undefined) this.#dropTimer();
    return this.#k.resume(this.#task, this.#gen, Resume.Next, value);
  }
  throw(error: unknown): boolean {
    if (this.timer !== undefined) this.#dropTimer();
    return this.#k.resume(this.#task, this.#gen, Resume.Throw, error);
  }
  get pending(): boolean {
    return this.#task.waitGen === this.#gen && this.#task.state === "waiting";
  }
  /** Only while the wait is current (a stale waker must not take a later wait's timer), and not mid-undo (the undo takes it). */
  #dropTimer(): void {
    if (!this.pending || (this.#task.flags & Flag.Undoing) !== 0) return;
    this.#k.timers.remove(this.timer!);
    this.timer = undefined;
  }
  get task(): Task<unknown> {
    return this.#task;
  }
}

function suspend(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  suspendOn(task, d);
  const waker = new KernelWaker<unknown>(k, task);
  // If setup throws, `immediate` takes the suspension back (or, if setup woke the task first,
  // keeps that wake-up and raises the error at its next yield): see `handlerFailed`.
  const undo = (d.a as (w: Waker<unknown>) => Undo)(waker);
  if (typeof undo === "function" && waker.pending) task.undo = undo;
  if (d instanceof TimedSuspend && waker.pending) armTimedWait(k, task, d, waker, undo);
  // If setup woke the task at once, resume() has already queued it with its value.
  return SUSPENDED;
}

/** Mark `task` waiting on `d` (shown by `ps()`); the caller arranges its wake-up. */
export function suspendOn(task: Task<unknown>, d: Syscall<unknown> | undefined): void {
  task.flags = (task.flags & ~Flag.StateMask) | StateCode.waiting;
  task.waitingOn = d;
}

/** End of tick: hand this tick's I/O to the reactor as one batch. Returns how many ops it handed over (those of tasks cancelled since their yield are dropped). */
export function submitIo(k: Kernel): number {
  const live = k.sqIo; // handed to the reactor, which may keep it: a new one for the next tick
  k.sqIo = [];
  ioSubmits.count++;
  // The run ended in this tick (its last tasks ended after yielding, cancelled): the reactor is
  // closed and has released every socket and file; nothing more goes to it.
  if (k.closed) return 0;
  let n = 0;
  let orphans: IoTicket[] | undefined;
  for (let i = 0; i < live.length; i++) {
    const t = live[i]!;
    if (t.task.waitGen !== t.gen) {
      // Its task was cancelled (or interrupted) since it yielded: dropped, unless it is a close
      // or abort, which is made all the same (cleanup is never skipped) with nobody waiting.
      if (!RELEASE_OPS.has(t.op)) continue;
      (orphans ??= []).push(t);
    } else t.task.undo = t;
    live[n++] = t;
  }
  live.length = n;
  if (n === 0) return 0;
  try {
    k.reactor.submit(live);
  } catch (error) {
    // A reactor that throws must not take the scheduler down: its tasks get the error instead,
    // each op withdrawn first (one it took before it threw must not complete unseen later).
    for (const t of live) {
      withdraw(k, t);
      k.resume(t.task, t.gen, Resume.Throw, error);
    }
    return n;
  }
  // Nobody waits for an orphan: withdrawn at once, so its driver reports what it meets to run()
  // (a file's write error).
  if (orphans !== undefined) for (const t of orphans) withdraw(k, t);
  return n;
}

/** Take `t` back from the reactor; one that refuses (it failed already, or will not take a close back) fails nobody. */
function withdraw(k: Kernel, t: IoTicket): void {
  try {
    k.reactor.cancel(t);
  } catch {
    // nothing more to take back
  }
}

/** Count an I/O op for stats. */
export function countIo(k: Kernel, op: string): void {
  const counts = k.stats.ioCounts;
  counts[op] = (counts[op] ?? 0) + 1;
}
