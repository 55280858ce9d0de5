/**
 * The Task record: identity, state, outcome, and the bookkeeping the scheduler needs to
 * resume it (pending send value, wait generation, undo of the current suspension).
 * Imports only types and the delegate behind `yield* task`; the scheduler drives it.
 */
import type { Co, TaskState } from "./types.ts";
import { delegateJoin, type Syscall } from "./syscall.ts";

/** How the next step resumes the generator. */
export const Resume = { Next: 0, Throw: 1 } as const;
export type Resume = (typeof Resume)[keyof typeof Resume];

/** A waiter on a task's end: a joining task, or a canceller (which never sees the outcome). */
export interface Joiner {
  task: Task<unknown>;
  gen: number;
  /** true: a canceller, resumed with `undefined` whatever the outcome. */
  quiet: boolean;
}

/** The owner of a task, seen from the task: enough to check "same scheduler". */
export interface TaskOwner {
  readonly id: number;
  /** True once its run has ended. */
  readonly closed: boolean;
  /** Its clock (ms), read now. */
  clock(): number;
  /** A task's failure was seen (through its promise): `run()` does not report it. */
  observed(task: Task<unknown>): void;
}

/** Bits of `Task.flags`. */
export const Flag = {
  /** A cancel was delivered (it is delivered once). */
  CancelRequested: 1,
  /** A cancel waits to be raised at the task's next yield (it was ready with a value, or running). */
  CancelPending: 2,
  /** It has taken at least one step. */
  Started: 4,
  /** Its failure was seen by a joiner or the promise, so `run()` does not report it. */
  Observed: 8,
  /** Bits 4–6 hold the state, as an index into STATES (see `Task.state`). */
  StateMask: 0x70,
  /** The next step throws `value` into the generator instead of sending it. */
  Throw: 0x80,
  /** An error waits to be raised at the task's next yield (see `handlers.raiseAtNextYield`). */
  ErrorPending: 0x100,
  /** Ready after giving up the CPU (a plain `yield`, `sleep(0)`): nothing was handed to it, so a cancel is thrown at that yield. */
  Yielded: 0x200,
  /** Its suspension is being taken back (its undo runs): a wake-up now is refused, though it still waits. */
  Undoing: 0x400,
  /** It failed with nobody joining it when the run already kept the most such failures it keeps: only counted. */
  Uncounted: 0x800,
} as const;

/** The states in the order of their code in `Flag.StateMask`. */
const STATES: readonly TaskState[] = ["ready", "running", "waiting", "done", "failed", "cancelled"];
/** Each state's code in `Flag.StateMask`: the kernel's hot path writes these with the other flags in one go. */
export const StateCode: Readonly<Record<TaskState, number>> = { ready: 0x00, running: 0x10, waiting: 0x20, done: 0x30, failed: 0x40, cancelled: 0x50 };

/** `task.promise`, made on first read (most tasks never need one). */
const promises = new WeakMap<Task<unknown>, Promise<unknown>>();

/**
 * A running coroutine. Get one from `spawn()` or `current()`; read its `state`, await its
 * `promise` from code outside corun, or `join` / `cancel` it from inside.
 *
 * @example
 * ```ts
 * import { run, spawn, join, sleep } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () { yield* sleep(1); return "hi"; }, { name: "greeter" });
 *   console.log(t.name, t.state); // greeter ready
 *   console.log(yield* join(t));  // hi
 *   console.log(t.state);         // done
 * });
 * ```
 */
export class Task<T = unknown> implements Iterable<Syscall<T>, T, unknown> {
  /** Unique within the process. */
  declare readonly id: number;
  /**
   * The task that spawned this one (undefined for a scheduler's main task). Once that one has
   * ended, a spawn by this task or one a few levels below it may make this its nearest live
   * ancestor: ended generations are not kept (a task spawning its successor, again and again,
   * would keep them all). While run() winds down, ancestors from before it are kept as spawned.
   */
  declare readonly parent: Task<unknown> | undefined;
  /** When it was created, in the scheduler's clock (ms). */
  declare readonly createdAt: number;

  // Internal bookkeeping: plain fields, all set in the constructor in one order, so every Task
  // has one shape. At most 12 of them: JSC fits 12 fields in 112 bytes, 13–18 in 160 and 19
  // in 224 (measured), and a million tasks may be alive at once.
  // `declare` stops class-field semantics from first defining each field as undefined.
  /** @internal */ declare readonly owner: TaskOwner;
  /** @internal the given name, or the coroutine function to take it from on first read. */
  declare _name: unknown;
  /**
   * @internal while alive, the value the next step sends (or, with `Flag.Throw`, throws) into
   * the generator; once ended, the result (done) or the error (failed, cancelled).
   */
  declare value: unknown;
  /** @internal */ declare gen: Co<T>;
  /** @internal bumped on every suspension and wake-up: completions of an older one are stale. */
  declare waitGen: number;
  /**
   * @internal how to take back the current suspension, if it needs it: a suspend's undo
   * function, the I/O ticket to withdraw, or the timer bucket to leave (see `throwInto` in lifecycle.ts).
   */
  declare undo: unknown;
  /** @internal what the task waits on now, for `ps()`. */
  declare waitingOn: Syscall<unknown> | undefined;
  /** @internal who waits for this task to end, in order: joiners, cancellers, end callbacks. */
  declare waiters: (Joiner | (() => void))[] | undefined;
  /** @internal bits of `Flag`. */
  declare flags: number;

  constructor(id: number, name: unknown, gen: Co<T>, owner: TaskOwner, parent: Task<unknown> | undefined, now: number) {
    this.id = id;
    this.parent = parent;
    this.createdAt = now;
    this.owner = owner;
    this._name = name;
    this.value = undefined;
    this.gen = gen;
    this.waitGen = 0;
    this.undo = undefined;
    this.waitingOn = undefined;
    this.waiters = undefined;
    this.flags = 0;
  }

  /** Where this task is in its life. (Kept in `flags`: a field fewer per task.) */
  get state(): TaskState {
    return STATES[(this.flags & Flag.StateMask) >> 4]!;
  }

  /** @internal set by the scheduler only. */
  set state(s: TaskState) {
    this.flags = (this.flags & ~Flag.StateMask) | StateCode[s];
  }

  /**
   * For messages and `ps()`: the `name` given to `spawn`, else the coroutine function's name,
   * else `task-<id>`. (Worked out on first read: reading a fresh function's name is not free.)
   */
  get name(): string {
    const n = this._name;
    if (typeof n === "string") return n;
    const s = (typeof n === "function" && n.name) || `task-${this.id}`;
    this._name = s;
    return s;
  }

  /** The return value, once `state` is `"done"`. */
  get result(): T | undefined {
    return this.state === "done" ? (this.value as T) : undefined;
  }

  /** The thrown error, once `state` is `"failed"` or `"cancelled"`. */
  get error(): unknown {
    return this.state === "failed" || this.state === "cancelled" ? this.value : undefined;
  }

  /** True once the task has ended (done, failed or cancelled). */
  get ended(): boolean {
    return (this.flags & Flag.StateMask) >= StateCode.done; // done, failed and cancelled are the codes from done up
  }

  /**
   * A promise of the task's outcome, for code outside corun. Reading it counts as
   * observing the task's failure (so `run()` will not also report it).
   */
  get promise(): Promise<T> {
    let p = promises.get(this as Task<unknown>);
    if (p === undefined) {
      this.owner.observed(this as Task<unknown>);
      if (this.ended) p = this.state === "done" ? Promise.resolve(this.value) : Promise.reject(this.value);
      else {
        p = new Promise<unknown>((resolve, reject) => {
          (this.waiters ??= []).push(() => (this.state === "done" ? resolve(this.value) : reject(this.value)));
        });
      }
      promises.set(this as Task<unknown>, p);
    }
    return p as Promise<T>;
  }

  /**
   * Call `callback` once when the task ends (at once, in the caller, if it has: its error is
   * then the caller's), whatever the outcome. Unlike
   * `promise`, this does not count as observing a failure: `run()` still reports it if nobody
   * joins. For features tied to a task's lifetime (an AbortSignal, a resource).
   */
  onEnd(callback: () => void): void {
    // Checked here: kept, a non-function would be taken for a joiner as the task ends (out of the tick).
    if (typeof callback !== "function") throw new TypeError(`onEnd(callback) on ${String(this)}: callback must be a function, got ${callback === null ? "null" : typeof callback}`);
    if (this.ended) {
      callback();
      return;
    }
    (this.waiters ??= []).push(callback);
  }

  /**
   * `yield* task` joins it: the short form of `yield* join(task)` (a plain `yield task` joins
   * too, untyped). Its result is returned; its error, or a `Cancelled`, is thrown. A task that
   * has ended is joined at the `yield*` itself, without suspending. A Task is iterable for
   * `yield*` only: taking its iterator inside a running task joins it (`for…of` does not list anything).
   *
   * @example
   * ```ts
   * import { run, spawn } from "corun";
   * await run(function* () {
   *   const t = yield* spawn(function* () { return 21; });
   *   console.log((yield* t) * 2); // 42
   * });
   * ```
   */
  [Symbol.iterator](): Iterator<Syscall<T>, T, unknown> {
    return delegateJoin<T>(this);
  }

  /** The chain of task names from the root to this task, e.g. `main > server > conn-7` (see `parent`: ended ancestors drop out). */
  get path(): string {
    const names: string[] = [];
    for (let t: Task<unknown> | undefined = this as Task<unknown>; t; t = t.parent) names.push(t.name);
    return names.reverse().join(" > ");
  }

  /** `task "name" (#id)` */
  toString(): string {
    return `task "${this.name}" (#${this.id})`;
  }
}
