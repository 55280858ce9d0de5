/**
 * corun's own deadline queue: sleepers grouped into one bucket per whole-millisecond deadline,
 * buckets in a min-heap. Sleeps due in the same millisecond share a bucket, and all of them
 * one host timer (armed for the earliest). Knows nothing of Bun or of the host clock.
 */

/**
 * A sleeper: anything with an `undo` slot. While it sleeps, its `undo` is the bucket it sleeps
 * in (`add` sets it); an entry whose sleeper's `undo` is anything else is stale and skipped.
 *
 * @example
 * ```ts
 * import { TimerQueue, type Sleeper } from "corun/testing";
 * interface Job extends Sleeper { id: number }
 * const q = new TimerQueue<Job>();
 * const job: Job = { undo: undefined, id: 1 };
 * q.add(job, 50);
 * q.remove(job); // taken back before its deadline: job.undo is undefined again
 * ```
 */
export interface Sleeper {
  undo: unknown;
}

/**
 * One deadline and everyone due at it.
 *
 * @example
 * ```ts
 * import { TimerQueue, type Bucket } from "corun/testing";
 * const q = new TimerQueue<{ undo: unknown }>();
 * const b: Bucket<{ undo: unknown }> = q.add({ undo: undefined }, 10);
 * q.add({ undo: undefined }, 10);
 * console.log(b.deadline, b.live); // 10 2: one bucket per deadline
 * ```
 */
export class Bucket<S extends Sleeper> {
  readonly deadline: number;
  /** Who was added, including those taken back since (their `undo` is no longer this bucket). */
  sleepers: S[] = [];
  live = 0;
  constructor(deadline: number) {
    this.deadline = deadline;
  }
}

/**
 * Deadline queue. `add` records the sleeper's bucket in its `undo`, so `remove` takes it back
 * in O(1) (its entry is skipped when the bucket comes due) and no per-entry bookkeeping is kept.
 *
 * @example
 * ```ts
 * import { TimerQueue } from "corun/testing";
 * const q = new TimerQueue<{ undo: unknown; id: number }>();
 * q.add({ undo: undefined, id: 1 }, 10);
 * q.expire(10, (s) => console.log("due", s.id)); // due 1
 * ```
 */
export class TimerQueue<S extends Sleeper> {
  #heap: Bucket<S>[] = [];
  #byDeadline = new Map<number, Bucket<S>>();
  #last: Bucket<S> | undefined;
  #size = 0;
  /** Buckets in the heap whose sleepers were all taken back (rebuilt away once they are half of it). */
  #dead = 0;

  /** Sleepers waiting (not removed). */
  get size(): number {
    return this.#size;
  }

  /** The earliest deadline with a live sleeper, or undefined if none. */
  get next(): number | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.live === 0) this.#pop();
    return heap[0]?.deadline;
  }

  /** Add a sleeper due at `deadline` (its `undo` becomes the bucket; if it slept in another, it leaves that one). */
  add(sleeper: S, deadline: number): Bucket<S> {
    if (deadline !== deadline) throw new RangeError("TimerQueue.add(sleeper, deadline): deadline is NaN");
    if (sleeper.undo instanceof Bucket) this.remove(sleeper);
    let b = this.#last;
    if (b === undefined || b.deadline !== deadline) {
      b = this.#byDeadline.get(deadline);
      if (b === undefined) {
        b = new Bucket<S>(deadline);
        this.#byDeadline.set(deadline, b);
        this.#push(b);
      }
      this.#last = b;
    }
    b.sleepers.push(sleeper);
    sleeper.undo = b;
    b.live++;
    this.#size++;
    return b;
  }

  /** Take a sleeper back before its deadline (a no-op if it is not sleeping here). */
  remove(sleeper: S): void {
    const b = sleeper.undo;
    if (!(b instanceof Bucket)) return;
    sleeper.undo = undefined;
    b.live--;
    this.#size--;
    // What was taken back is let go of now, not at its deadline (a long timeout that finished
    // early must not keep its task alive for an hour), whatever the bucket's size: once half
    // of its entries are taken back, they are dropped (O(1) amortised).
    if (b.live === 0) this.#retire(b as Bucket<S>);
    else if (b.live * 2 < b.sleepers.length) b.sleepers = b.sleepers.filter((s) => s.undo === b);
  }

  /** Call `wake` for every live sleeper due at or before `now`, earliest first. Returns how many. */
  expire(now: number, wake: (sleeper: S) => void): number {
    let n = 0;
    // `this.#heap`, not a local: a wake that takes another sleeper back may rebuild it.
    while (this.#heap.length > 0 && this.#heap[0]!.deadline <= now) {
      const b = this.#pop();
      const sleepers = b.sleepers;
      for (let i = 0; i < sleepers.length; i++) {
        const s = sleepers[i]!;
        if (s.undo === b) {
          s.undo = undefined;
          n++;
          wake(s);
        }
      }
      this.#size -= b.live;
      b.live = 0;
    }
    return n;
  }

  /** Forget everything (the sleepers still asleep are taken out: their `undo` is cleared). */
  clear(): void {
    for (const b of this.#heap) for (const s of b.sleepers) if (s.undo === b) s.undo = undefined;
    this.#heap = [];
    this.#byDeadline.clear();
    this.#last = undefined;
    this.#size = 0;
    this.#dead = 0;
  }

  /** `b` has no sleeper left: forget it, and rebuild the heap once dead buckets are half of it. */
  #retire(b: Bucket<S>): void {
    b.sleepers = [];
    if (this.#byDeadline.get(b.deadline) === b) this.#byDeadline.delete(b.deadline);
    if (this.#last === b) this.#last = undefined;
    const heap = this.#heap;
    if (++this.#dead < 32 || this.#dead * 2 < heap.length) return;
    this.#heap = [];
    this.#dead = 0;
    for (const x of heap) if (x.live > 0) this.#push(x);
  }

  #push(b: Bucket<S>): void {
    const heap = this.#heap;
    let i = heap.push(b) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]!.deadline <= b.deadline) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = b;
  }

  #pop(): Bucket<S> {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && heap[r]!.deadline < heap[l]!.deadline ? r : l;
        if (heap[c]!.deadline >= last.deadline) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    if (this.#byDeadline.get(top.deadline) === top) this.#byDeadline.delete(top.deadline);
    else if (top.live === 0 && this.#dead > 0) this.#dead--; // a retired bucket leaves the heap
    if (this.#last === top) this.#last = undefined;
    return top;
  }
}
