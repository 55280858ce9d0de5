/**
 * `Semaphore`: a FIFO-fair counting semaphore; `Lock` is one with a single permit. Permits
 * are handed directly to the oldest waiter, so no newcomer can overtake. Cancellation-safe.
 * Built on `suspend`; imports no kernel internals.
 */
import { suspend } from "../syscalls.ts";
import { bodyOf } from "../task-body.ts";
import { asyncBodyError, describe, runningTask, type Syscall } from "../syscall.ts";
import type { Task } from "../task.ts";
import type { Co, TaskBody, Waker } from "../types.ts";
import { SyncUsageError } from "./errors.ts";
import { Waiter, WaitList } from "./wait-list.ts";
import { WaitOp, coroutineMethods } from "./wait-op.ts";

/** An acquire that must wait: `w` (holding the waiting task) is queued by the descriptor returned. Not a member: a subclass could shadow one. */
let stageAcquire: (s: Semaphore, w: Waiter<object | undefined>) => Syscall<unknown>;
/** The holder of `lock` taking it again: a `SyncUsageError` (a corun lock is not reentrant: it would wait for itself for ever). */
let refuseReentry: (lock: Lock) => void;

/**
 * A counting semaphore with `permits` permits. `acquire` waits while none is free; waiters
 * are served in arrival order. A task cancelled while waiting leaves the queue; one that was
 * handed a permit in the same instant keeps it: `acquire` returns and the `Cancelled` is
 * raised at its next yield (inside `with`, whose `finally` then releases it).
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, Semaphore, type Task } from "corun";
 * await run(function* () {
 *   const pool = new Semaphore(2, "pool");
 *   const users: Task<void>[] = [];
 *   for (let i = 0; i < 5; i++) users.push(yield* spawn(function* () {
 *     yield* pool.with(function* () { yield* sleep(10); }); // at most 2 at a time
 *   }));
 *   for (const t of users) yield* t;
 * });
 * ```
 */
export class Semaphore {
  /** For messages and `ps()`. */
  readonly name: string;
  readonly #max: number;
  #free: number;
  /** Each waiter's value is the task that waits (or undefined outside a task). */
  readonly #q = new WaitList<object | undefined>();
  #stage: Waiter<object | undefined> | undefined = undefined;
  readonly #d: Syscall<unknown>;

  constructor(permits: number, name = "semaphore", op = "acquire") {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`new Semaphore(permits): permits must be an integer >= 1, got ${describe(permits)}`);
    if (typeof name !== "string") throw new TypeError(`new ${op === "lock" ? "Lock(name)" : "Semaphore(permits, name)"}: name must be a string, got ${describe(name)}`);
    this.name = name;
    this.#max = permits;
    this.#free = permits;
    const setup = (w: Waker<unknown>) => {
      const me = this.#stage!;
      this.#stage = undefined;
      me.waker = w;
      this.#q.push(me);
      return () => me.leave();
    };
    this.#d = suspend(setup, op, `${this.constructor.name.toLowerCase()} "${name}"`);
  }

  /** Permits free now. */
  get available(): number {
    return this.#free;
  }

  /** Tasks waiting now. */
  get waiting(): number {
    return this.#q.size;
  }

  /**
   * Take a permit, waiting (FIFO) if none is free. On a `Lock`, the holder taking it again is
   * a `SyncUsageError` (a corun lock is not reentrant: it would wait for itself for ever).
   */
  acquire(): Co<void> {
    return new AcquireOp(this) as unknown as Co<void>;
  }

  static {
    stageAcquire = (s, w) => {
      s.#stage = w;
      return s.#d;
    };
  }

  /** Take a permit if one is free and nobody is queued. */
  tryAcquire(): boolean {
    if (this.#free > 0 && this.#q.size === 0) {
      this.#free--;
      this.granted(runningTask());
      return true;
    }
    return false;
  }

  /** Give a permit back: it goes straight to the oldest waiter, if any. */
  release(): void {
    if (this.#free >= this.#max) throw new SyncUsageError(`release of ${this.constructor.name.toLowerCase()} "${this.name}": no permit is held`);
    this.released();
    for (let w = this.#q.shift(); w !== undefined; w = this.#q.shift()) {
      if (w.deliver(undefined)) {
        this.granted(w.value);
        return;
      }
    }
    this.#free++;
  }

  /** @internal A permit went to `holder` (a task, or undefined outside any task). */
  protected granted(_holder: object | undefined): void {}

  /** @internal A permit is being given back; throws to refuse the release. */
  protected released(): void {}

  /**
   * Run `body` holding a permit; the permit is released however `body` ends. A body that throws
   * after its permit was lost (a `Condition.wait` whose lock could not be taken back) throws its
   * own error, not the release's.
   */
  *with<T>(body: TaskBody<T>): Co<T> {
    const refused = asyncBodyError(body, `${this.constructor.name.toLowerCase()}.with`); // before a permit is taken for it
    if (refused !== undefined) throw refused;
    yield* this.acquire();
    let returned = false;
    try {
      const value = yield* bodyOf(body, `${this.constructor.name.toLowerCase()}.with`);
      returned = true;
      return value;
    } finally {
      if (returned || this.mayRelease()) this.release();
    }
  }

  /** @internal Would `release()` here give back a permit this caller holds? (A lock knows; a semaphore's permits are anyone's.) */
  protected mayRelease(): boolean {
    return this.#free < this.#max;
  }
}

/**
 * A FIFO-fair mutual-exclusion lock: a semaphore with one permit. `release` hands the lock
 * straight to the oldest waiter. The lock knows its holder: a task may not release a lock
 * another running task holds (a `SyncUsageError` naming both), unless it works for it (the
 * holder spawned it, as `timeout`, `shield` and `group` do). A lock whose holder has ended
 * (taken by a helper, as in `timeout(ms, () => lock.acquire())`), or taken outside any task,
 * may be released by any task, and by code outside any task (a callback); while its holder
 * runs, such code gets the `SyncUsageError` too.
 *
 * @example
 * ```ts
 * import { run, spawn, Lock, type Task } from "corun";
 * await run(function* () {
 *   const lock = new Lock("account");
 *   let balance = 0;
 *   const tellers: Task<void>[] = [];
 *   for (let i = 0; i < 3; i++) tellers.push(yield* spawn(function* () {
 *     yield* lock.with(function* () { const b = balance; yield; balance = b + 1; });
 *   }));
 *   for (const t of tellers) yield* t;
 *   console.log(balance); // 3
 * });
 * ```
 */
export class Lock extends Semaphore {
  #holder: object | undefined = undefined;

  constructor(name = "lock") {
    super(1, name, "lock");
  }

  /** True while some task holds it. */
  get locked(): boolean {
    return this.available === 0;
  }

  /** The task that took the lock (it may have ended since); undefined when it is free or was taken outside any task. */
  get holder(): Task<unknown> | undefined {
    return this.#holder as Task<unknown> | undefined;
  }

  protected override granted(holder: object | undefined): void {
    this.#holder = holder;
  }

  static {
    refuseReentry = (lock) => {
      const me = runningTask();
      if (me !== undefined && me === lock.#holder && lock.locked) {
        throw new SyncUsageError(`acquire of lock "${lock.name}" by ${String(me)}: it holds the lock already (a lock is not reentrant; waiting would never end)`);
      }
    };
  }

  /**
   * @internal May the running task act for the holder (release the lock, wait on its
   * Condition)? Yes if it is the holder, one of the holder's helpers (a task the holder spawned,
   * at any depth: a timeout's or shield's work), or if the holder has ended or there is none.
   * Code outside any task (a callback) may only if the holder has ended or there is none.
   */
  mayActForHolder(): boolean {
    const me = runningTask() as Task<unknown> | undefined;
    const holder = this.#holder as Task<unknown> | undefined;
    if (holder === undefined || me === holder || holder.ended) return true;
    if (me === undefined) return false;
    for (let t = me.parent; t !== undefined; t = t.parent) if (t === holder) return true;
    return false;
  }

  protected override mayRelease(): boolean {
    return this.locked && this.mayActForHolder();
  }

  protected override released(): void {
    if (!this.mayActForHolder()) {
      const me = runningTask();
      throw new SyncUsageError(`release of lock "${this.name}" by ${me === undefined ? "code outside any task (a callback)" : String(me)}: it is held by ${String(this.#holder)}`);
    }
    this.#holder = undefined;
  }
}

/** `Semaphore.acquire`: a permit at once, else waits; an error thrown in while waiting passes on a permit it was handed. */
class AcquireOp extends WaitOp<void> {
  readonly #s: Semaphore;
  #w: Waiter<object | undefined> | undefined = undefined;

  constructor(s: Semaphore) {
    super();
    this.#s = s;
  }

  protected begin(): undefined | Syscall<unknown> {
    const s = this.#s;
    if (s instanceof Lock) refuseReentry(s);
    if (s.tryAcquire()) return undefined;
    return stageAcquire(s, (this.#w = new Waiter<object | undefined>(runningTask())));
  }

  protected override woken(): void {
    this.#w = undefined; // an op kept after it ended keeps nothing of its wait
  }

  protected override failed(): void {
    const w = this.#w!;
    this.#w = undefined;
    w.leave();
    if (w.taken) this.#s.release(); // handed a permit, then cancelled: pass it on
  }
}

coroutineMethods(Semaphore.prototype, ["acquire"]);
