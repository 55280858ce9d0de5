/**
 * The Task record: identity, state, outcome, and the bookkeeping the scheduler needs to
 * resume it (pending send value, wait generation, undo of the current suspension).
 * Imports only types and errors; the scheduler drives it.
 */
import type { Co, TaskState } from "./types.ts";
import type { Syscall } from "./syscall.ts";

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
}

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
export class Task<T = unknown> {
  /** Unique within the process. */
  readonly id: number;
  /** @internal the given name, or undefined until `name` is first read. */
  _name: string | undefined;
  /** @internal what the name is derived from when none was given (the coroutine function). */
  _nameFrom: unknown;
  /** The task that spawned this one (undefined for a scheduler's main task). */
  readonly parent: Task<unknown> | undefined;
  /** Where this task is in its life. */
  state: TaskState;
  /** The return value, once `state` is `"done"`. */
  result: T | undefined;
  /** The thrown error, once `state` is `"failed"` or `"cancelled"`. */
  error: unknown;
  /** When it was created, in the scheduler's clock (ms). */
  readonly createdAt: number;

  // Internal bookkeeping. Plain fields, all set in the constructor in one order, so every
  // Task has the same shape (private #fields cost a lookup on this hot path).
  /** @internal */ readonly owner: TaskOwner;
  /** @internal */ gen: Co<T>;
  /** @internal how the next step resumes: Resume.Next with sendValue, or Resume.Throw. */
  mode: Resume;
  /** @internal value sent (or thrown) into the generator at the next step. */
  sendValue: unknown;
  /** @internal bumped on every suspension and wake-up: completions of an older one are stale. */
  waitGen: number;
  /** @internal how to take back the current suspension (remove a timer, drop a waiter). */
  undo: ((arg: unknown) => void) | undefined;
  /** @internal the argument for `undo` (saves a closure per suspension). */
  undoArg: unknown;
  /** @internal what the task waits on now, for `ps()`. */
  waitingOn: Syscall<unknown> | undefined;
  /** @internal tasks waiting for this one to end. */
  joiners: Joiner[] | undefined;
  /** @internal a cancel was delivered (it is delivered once). */
  cancelRequested: boolean;
  /** @internal a cancel waits to be raised at the task's next yield (it was ready with a value, or running). */
  cancelPending: boolean;
  /** @internal it has taken at least one step. */
  started: boolean;
  /** @internal its failure was seen by a joiner or the promise. */
  observed: boolean;
  /** @internal settles `promise`, if anyone asked for it. */
  settle: (() => void) | undefined;
  /** @internal the alive list's links. */
  prevAlive: Task<unknown> | undefined;
  /** @internal */ nextAlive: Task<unknown> | undefined;
  /** @internal */ promiseCache: Promise<T> | undefined;

  constructor(id: number, name: string | undefined, nameFrom: unknown, gen: Co<T>, owner: TaskOwner, parent: Task<unknown> | undefined, now: number) {
    this.id = id;
    this._name = name;
    this._nameFrom = nameFrom;
    this.parent = parent;
    this.state = "ready";
    this.result = undefined;
    this.error = undefined;
    this.createdAt = now;
    this.owner = owner;
    this.gen = gen;
    this.mode = Resume.Next;
    this.sendValue = undefined;
    this.waitGen = 0;
    this.undo = undefined;
    this.undoArg = undefined;
    this.waitingOn = undefined;
    this.joiners = undefined;
    this.cancelRequested = false;
    this.cancelPending = false;
    this.started = false;
    this.observed = false;
    this.settle = undefined;
    this.prevAlive = undefined;
    this.nextAlive = undefined;
    this.promiseCache = undefined;
  }

  /**
   * For messages and `ps()`: the `name` given to `spawn`, else the coroutine function's name,
   * else `task-<id>`. (Worked out on first use: reading a fresh function's name is not free.)
   */
  get name(): string {
    let n = this._name;
    if (n === undefined) {
      const from = this._nameFrom;
      n = (typeof from === "function" && from.name) || `task-${this.id}`;
      this._name = n;
      this._nameFrom = undefined;
    }
    return n;
  }

  /** True once the task has ended (done, failed or cancelled). */
  get ended(): boolean {
    return this.state === "done" || this.state === "failed" || this.state === "cancelled";
  }

  /**
   * A promise of the task's outcome, for code outside corun. Reading it counts as
   * observing the task's failure (so `run()` will not also report it).
   */
  get promise(): Promise<T> {
    if (!this.promiseCache) {
      this.observed = true;
      if (this.ended) {
        this.promiseCache = this.state === "done" ? Promise.resolve(this.result as T) : Promise.reject(this.error);
      } else {
        this.promiseCache = new Promise<T>((resolve, reject) => {
          this.settle = () => (this.state === "done" ? resolve(this.result as T) : reject(this.error));
        });
      }
    }
    return this.promiseCache;
  }

  /** The chain of task names from the root to this task, e.g. `main > server > conn-7`. */
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
