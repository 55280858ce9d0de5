/**
 * `Condition`: wait for a state change under a `Lock` (wait releases the lock, notify wakes
 * waiters in FIFO order, the waiter re-takes the lock before returning, even when cancelled).
 * Built on `suspend` and `Lock`; imports no kernel internals.
 */
import { isThenable, suspend } from "../syscalls.ts";
import { describe, ignoreRejection, isAsyncFunction, isCoroutine, isGeneratorFunction, runningTask } from "../syscall.ts";
import { keep, leave, type Held } from "../structure/held.ts";
import type { Co, Waker } from "../types.ts";
import { SyncUsageError } from "./errors.ts";
import { DeadlockError } from "../errors.ts";
import { Lock } from "./semaphore.ts";
import { Waiter, WaitList } from "./wait-list.ts";

/**
 * A condition variable bound to a lock. Hold `cond.lock` to call `wait()`; `notify(n)` wakes
 * up to `n` waiters (a notification handed to a task that is cancelled before it runs is
 * passed on to the next waiter, never lost). A waiter re-takes the lock before it returns or
 * propagates a `Cancelled`: do not `cancel` a waiter while holding the lock yourself (cancel
 * waits for it to end, and it waits for the lock).
 *
 * @example
 * ```ts
 * import { run, spawn, Condition } from "corun";
 * await run(function* () {
 *   const cond = new Condition();
 *   const items: number[] = [];
 *   yield* spawn(function* () {
 *     yield* cond.lock.with(function* () { items.push(1); cond.notify(); });
 *   });
 *   yield* cond.lock.with(function* () {
 *     yield* cond.waitFor(() => items.length > 0);
 *     console.log(items); // [1]
 *   });
 * });
 * ```
 */
export class Condition {
  /** The lock guarding the state. */
  readonly lock: Lock;
  /** For messages and `ps()`. */
  readonly name: string;
  readonly #q = new WaitList<undefined>();

  constructor(lock: Lock = new Lock(), name = "condition") {
    if (!(lock instanceof Lock)) throw new TypeError(`new Condition(lock): lock must be a Lock, got ${describe(lock)}`);
    if (typeof name !== "string") throw new TypeError(`new Condition(lock, name): name must be a string, got ${describe(name)}`);
    this.lock = lock;
    this.name = name;
  }

  /** Tasks waiting now. */
  get waiting(): number {
    return this.#q.size;
  }

  /** Release the lock, wait for a notification, re-take the lock. The caller must hold the lock. */
  *wait(): Co<void> {
    if (!this.lock.locked) throw new SyncUsageError(`wait on condition "${this.name}": its lock is not held`);
    if (!this.lock.mayActForHolder()) {
      throw new SyncUsageError(`wait on condition "${this.name}" by ${String(runningTask())}: its lock is held by ${String(this.lock.holder)}`);
    }
    const me = new Waiter<undefined>(undefined);
    this.lock.release();
    // What was thrown in during the wait: kept with what comes while re-taking the lock.
    let thrown: Held = undefined;
    try {
      yield suspend((w: Waker<unknown>) => {
        me.waker = w;
        this.#q.push(me);
        return () => me.leave();
      }, "condition", `condition "${this.name}"`);
    } catch (error) {
      me.leave();
      this.#passOn(me);
      thrown = keep(undefined, error);
      throw error;
    } finally {
      // Re-take the lock before returning or propagating: the caller's finally expects to hold it.
      try {
        yield* this.#reacquire(thrown);
      } catch (error) {
        // Cancelled after the notification reached it (raised while re-taking the lock): the
        // notification goes to the next waiter instead.
        this.#passOn(me);
        throw error;
      }
    }
  }

  /** Wait until `predicate()` is true (checked under the lock, before each wait). */
  *waitFor(predicate: () => boolean): Co<void> {
    const kind = isAsyncFunction(predicate) ? "an async " : isGeneratorFunction(predicate) ? "a generator " : "";
    if (typeof predicate !== "function" || kind !== "") {
      throw new TypeError(`waitFor on condition "${this.name}": predicate must be a plain function returning true or false, got ${kind}${describe(predicate)}`);
    }
    for (;;) {
      const ok: unknown = predicate();
      if (isThenable(ok) || isCoroutine(ok)) {
        // A promise or a generator is truthy: it would end the wait at once, whatever it comes to.
        ignoreRejection(ok);
        throw new TypeError(`waitFor on condition "${this.name}": predicate returned ${describe(ok)}, not true or false (it is called under the lock, and cannot wait)`);
      }
      if (ok) return;
      yield* this.wait();
    }
  }

  /** Wake up to `n` waiters, oldest first (`n`: an integer >= 0, or Infinity for all). */
  notify(n = 1): void {
    if (typeof n !== "number" || !(Number.isInteger(n) || n === Infinity) || n < 0) {
      throw new RangeError(`notify(n) on condition "${this.name}": n must be an integer >= 0 or Infinity, got ${describe(n)}`);
    }
    for (let w: Waiter<undefined> | undefined; n > 0 && (w = this.#q.shift()) !== undefined; ) {
      if (w.deliver(undefined)) n--;
    }
  }

  /** A waiter that will not use the notification it was handed passes it to the next one. */
  #passOn(me: Waiter<undefined>): void {
    if (!me.taken) return;
    me.taken = false;
    this.notify(1);
  }

  /** Wake every waiter. */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /**
   * Take the lock back; then throw `held` (from the wait) with what came meanwhile (a cancel, an
   * interrupt), if anything. A DeadlockError ends the retrying: the lock will never come (its
   * holder ended without releasing it, say), and it is thrown without the lock.
   */
  *#reacquire(held: Held): Co<void> {
    for (;;) {
      try {
        yield* this.lock.acquire();
        break;
      } catch (error) {
        if (error instanceof DeadlockError) throw error;
        held = keep(held, error);
      }
    }
    if (held !== undefined) yield* leave(held);
  }
}
