/**
 * The FIFO wait queue shared by channels, locks, semaphores, events and conditions: an
 * intrusive doubly linked list, so a cancelled or already-served waiter leaves in O(1).
 * Imports only types; knows nothing about the kernel beyond the `Waker` interface.
 */
import type { Waker } from "../types.ts";

/**
 * One task (or promise) waiting on a primitive. `value` is what a sender offers; `index` is
 * its case number inside a `select` (-1 outside one). `taken` becomes true once a wake-up
 * carrying a value or a permit was accepted (`waker.resume` returned true). A task cancelled
 * after that still takes it (the kernel raises the cancel at its next yield); `taken` lets its
 * code hand the value or permit on if an error is ever thrown at the suspension instead.
 *
 * @example
 * ```ts
 * import { Waiter, WaitList } from "corun";
 * const q = new WaitList<number>();
 * q.push(new Waiter(7));
 * console.log(q.size); // 1
 * ```
 */
export class Waiter<V = undefined> {
  /** The offered value (senders) or nothing. */
  value: V;
  /** Case index inside `select`, or -1. */
  readonly index: number;
  /** Set when the waiter is queued: how to wake it. */
  waker: Waker<unknown> | undefined = undefined;
  /** A wake-up carrying something (a value, a permit, a notification) was accepted. */
  taken = false;
  /** What was delivered with it (a receiver's `{ value, done }`), for hand-back on cancel. */
  delivered: unknown = undefined;
  /** @internal */ prev: Waiter<V> | undefined = undefined;
  /** @internal */ next: Waiter<V> | undefined = undefined;
  /** @internal */ list: WaitList<V> | undefined = undefined;

  constructor(value: V, index = -1) {
    this.value = value;
    this.index = index;
  }

  /** Wake with `result`; records `taken` and `delivered` if the waker accepted it. */
  deliver(result: unknown): boolean {
    if (this.waker === undefined || !this.waker.resume(result)) return false;
    this.taken = true;
    this.delivered = result;
    return true;
  }

  /** Leave whatever list holds this waiter (no-op if none). */
  leave(): void {
    this.list?.remove(this);
  }
}

/**
 * A FIFO of waiters with O(1) push, shift and removal from the middle.
 *
 * @example
 * ```ts
 * import { Waiter, WaitList } from "corun";
 * const q = new WaitList<undefined>();
 * const a = new Waiter(undefined), b = new Waiter(undefined);
 * q.push(a); q.push(b); a.leave();
 * console.log(q.shift() === b); // true
 * ```
 */
export class WaitList<V = undefined> {
  #head: Waiter<V> | undefined = undefined;
  #tail: Waiter<V> | undefined = undefined;
  #size = 0;

  /** Waiters queued. */
  get size(): number {
    return this.#size;
  }

  /** Append `w` (it must not be in a list already). */
  push(w: Waiter<V>): void {
    w.list = this;
    w.prev = this.#tail;
    w.next = undefined;
    if (this.#tail) this.#tail.next = w;
    else this.#head = w;
    this.#tail = w;
    this.#size++;
  }

  /** Remove and return the oldest waiter. */
  shift(): Waiter<V> | undefined {
    const w = this.#head;
    if (w !== undefined) this.remove(w);
    return w;
  }

  /** Remove `w` if it is in this list. */
  remove(w: Waiter<V>): void {
    if (w.list !== this) return;
    if (w.prev) w.prev.next = w.next;
    else this.#head = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.#tail = w.prev;
    w.prev = w.next = undefined;
    w.list = undefined;
    this.#size--;
  }

  /** Remove every waiter and return them, oldest first. */
  drain(): Waiter<V>[] {
    const out: Waiter<V>[] = [];
    for (let w = this.shift(); w !== undefined; w = this.shift()) out.push(w);
    return out;
  }
}
