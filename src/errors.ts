/**
 * Error classes raised by corun. Each names the task (and op) involved.
 * Imports nothing from the scheduler.
 */

/** Something with a name and id, for messages (a Task, without importing it). */
interface Named {
  readonly id: number;
  readonly name: string;
  /** Spawned-by chain, e.g. `main > server > conn`. */
  readonly path?: string;
}

function label(task: Named | undefined): string {
  return task ? `task "${task.name}" (#${task.id})` : "a task";
}

/**
 * Thrown into a task at its suspension point when it is cancelled; `join` on a cancelled
 * task throws it too. Let it propagate: catching it and carrying on ignores the cancel.
 *
 * @example
 * ```ts
 * import { run, spawn, cancel, join, sleep, Cancelled } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () { yield* sleep(1000); });
 *   yield* cancel(t);
 *   try { yield* join(t); } catch (e) { console.log(e instanceof Cancelled); } // true
 * });
 * ```
 */
export class Cancelled extends Error {
  override name = "Cancelled";
  /** The task that was cancelled. */
  readonly task: Named | undefined;
  constructor(task?: Named) {
    super(`${label(task)} was cancelled`);
    this.task = task;
  }
}

/**
 * The error `run()` rejects with when a task failed and nobody joined it. `cause` is the
 * task's own error; `task` names it; `errors` lists every such failure when there were several.
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, TaskError } from "corun";
 * try {
 *   await run(function* () {
 *     yield* spawn(function* () { throw new Error("boom"); }, { name: "worker" });
 *     yield* sleep(1);
 *   });
 * } catch (e) {
 *   console.log(e instanceof TaskError, (e as TaskError).message); // true, task "worker" (#2) failed: boom [spawned by main > worker]
 * }
 * ```
 */
export class TaskError extends Error {
  override name = "TaskError";
  /** The task that failed. */
  readonly task: Named;
  /** Every unjoined failure, this one first (the first 1,000; `uncounted` says how many more there were). */
  readonly errors: unknown[];
  /** Unjoined failures beyond those listed in `errors` (a run keeps at most 1,000). */
  readonly uncounted: number;
  constructor(task: Named, cause: unknown, others: unknown[] = [], uncounted = 0) {
    const why = reason(cause);
    const n = others.length + uncounted;
    const more = n ? ` (and ${n} other unjoined failure${n > 1 ? "s" : ""})` : "";
    const chain = task.path ? ` [spawned by ${task.path}]` : "";
    super(`${label(task)} failed: ${why}${more}${chain}`, { cause });
    this.task = task;
    this.errors = [cause, ...others];
    this.uncounted = uncounted;
  }
}

/**
 * A syscall used the scheduler wrongly: joining or cancelling a task of another scheduler,
 * joining oneself, or closing a cycle of joins (or cancels) that would wait for ever. Thrown
 * inside the offending task. (Yielding a value that is not a syscall
 * is a `TypeError`.)
 *
 * @example
 * ```ts
 * import { run, join, current, UsageError } from "corun";
 * await run(function* () {
 *   try { yield* join(yield* current()); } catch (e) { console.log(e instanceof UsageError); } // true
 * });
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
  /** The task that made the bad call. */
  readonly task: Named | undefined;
  /** The op it was making. */
  readonly op: string;
  constructor(task: Named | undefined, op: string, message: string) {
    super(`${op} in ${label(task)}: ${message}`);
    this.task = task;
    this.op = op;
  }
}

/**
 * Raised in every task of a run on an automatic `FakeReactor`, one error for all, when for 2 s
 * of real time (its `deadlockTimeout`; `Infinity` never) no scheduler in the process has ticked, no other real-time run has a timer
 * armed or work queued, and every task has waited on another task (a channel, a lock, a join...) and on nothing
 * that could come from outside (a sleep, a promise, I/O): a deadlock, which would otherwise hang the test. On the real
 * reactor the same check runs when Bun's event loop has emptied (nothing could wake a task; not while a top-level
 * `await run(...)` is pending, nor in `bun test`: Bun waits on the promise). `run()` rejects with it
 * (inside a `TaskError` if main had already ended: a deadlock in another task's cleanup).
 * `waits` says who waits on what. A `Condition.wait` it interrupts while re-taking its lock
 * throws it without the lock (which would never come).
 *
 * @example
 * ```ts
 * import { run, channel, DeadlockError } from "corun";
 * import { FakeReactor } from "corun/testing";
 * const ch = channel<number>(0, "jobs");
 * await run(function* () { yield* ch.recv(); }, { reactor: new FakeReactor() })
 *   .catch((e) => console.log(e instanceof DeadlockError, e.waits)); // true [ 'task "main" (#1) waits on recv(channel "jobs")' ]
 * ```
 */
export class DeadlockError extends Error {
  override name = "DeadlockError";
  /** Each task and what it waits on, oldest first. */
  readonly waits: readonly string[];
  constructor(waits: readonly string[]) {
    super(`every task waits on another task, and nothing else can wake any of them (a deadlock): ${waits.join("; ")}`);
    this.waits = waits;
  }
}

/**
 * @internal Whether `value instanceof C`, false for a value that cannot be looked at (a
 * revoked Proxy throws at every look): user code may throw anything, and the code that sorts
 * thrown values runs where an exception must not escape (a tick, an onEnd callback).
 */
export function isInstance<T>(value: unknown, C: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof C;
  } catch {
    return false;
  }
}

/** The kernel's refusals of a wait that would close a cycle: who was refused, waiting for whom. */
const cycleRefusals = new WeakMap<object, { task: unknown; target: unknown }>();

/** @internal Mark `error` as the kernel refusing `task`'s join or cancel of `target`: the wait would close a cycle. */
export function cycleRefusal(error: UsageError, task: unknown, target: unknown): UsageError {
  cycleRefusals.set(error, { task, target });
  return error;
}

/**
 * @internal Is `error` the kernel refusing `task`'s wait for `target` (not merely shaped like
 * a refusal, nor one made for another wait and thrown in by an interrupt)?
 */
export function isCycleRefusal(error: unknown, task: unknown, target: unknown): boolean {
  const r = typeof error === "object" && error !== null ? cycleRefusals.get(error) : undefined;
  return r !== undefined && r.task === task && r.target === target;
}

/** @internal Is `value` the `Cancelled` of `task`? False for a value no check can look at, as `isInstance`. */
export function isCancelOf(value: unknown, task: unknown): boolean {
  try {
    return value instanceof Cancelled && value.task === task;
  } catch {
    return false;
  }
}

/**
 * @internal What an error says, for a message: its `message` if it is an Error, else its
 * string form. Never throws: an error whose `message` getter or `toString` throws, or an
 * object with no string form (`Object.create(null)`), is named by its kind instead.
 */
export function reason(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    try {
      return `[${Object.prototype.toString.call(error).slice(8, -1)} with no string form]`;
    } catch {
      return "[a value with no string form]";
    }
  }
}

/** Internal helper shared with features: the label used in messages. */
export function taskLabel(task: Named | undefined): string {
  return label(task);
}
