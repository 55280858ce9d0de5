/**
 * corun's own deadline queue: sleepers grouped into one bucket per deadline, buckets in a
 * min-heap. Sleepers yielded in the same tick share a deadline, so 100k `sleep(10)` cost
 * one bucket and one host timer. Knows nothing of Bun or of the host clock.
 */

/** A sleeper: anything with a wait generation (a stale generation means it was woken or cancelled). */
export interface Sleeper {
  waitGen: number;
}

/** One deadline and everyone due at it. */
export class Bucket<S extends Sleeper> {
  readonly deadline: number;
  readonly sleepers: S[] = [];
  readonly gens: number[] = [];
  live = 0;
  constructor(deadline: number) {
    this.deadline = deadline;
  }
}

/**
 * Deadline queue. `add` returns the bucket so the caller can `remove` the sleeper in O(1)
 * (it is skipped when the bucket comes due, by its generation).
 *
 * @example
 * ```ts
 * import { TimerQueue } from "corun/testing";
 * const q = new TimerQueue<{ waitGen: number }>();
 * q.add({ waitGen: 0 }, 10);
 * q.expire(10, (s) => console.log("due", s)); // due { waitGen: 0 }
 * ```
 */
export class TimerQueue<S extends Sleeper> {
  #heap: Bucket<S>[] = [];
  #byDeadline = new Map<number, Bucket<S>>();
  #last: Bucket<S> | undefined;
  #size = 0;

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

  /** Add a sleeper due at `deadline`; its current `waitGen` is the one that must still hold. */
  add(sleeper: S, deadline: number): Bucket<S> {
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
    b.gens.push(sleeper.waitGen);
    b.live++;
    this.#size++;
    return b;
  }

  /** Take a sleeper back (call before bumping its generation). */
  remove(bucket: Bucket<S>): void {
    bucket.live--;
    this.#size--;
  }

  /** Call `wake` for every live sleeper due at or before `now`, earliest first. Returns how many. */
  expire(now: number, wake: (sleeper: S) => void): number {
    const heap = this.#heap;
    let n = 0;
    while (heap.length > 0 && heap[0]!.deadline <= now) {
      const b = this.#pop();
      const { sleepers, gens } = b;
      for (let i = 0; i < sleepers.length; i++) {
        const s = sleepers[i]!;
        if (s.waitGen === gens[i]) {
          n++;
          wake(s);
        }
      }
      this.#size -= b.live;
      b.live = 0;
    }
    return n;
  }

  /** Forget everything. */
  clear(): void {
    this.#heap = [];
    this.#byDeadline.clear();
    this.#last = undefined;
    this.#size = 0;
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
    this.#byDeadline.delete(top.deadline);
    if (this.#last === top) this.#last = undefined;
    return top;
  }
}
