/**
 * SleepQueue: the sleeps yielded during one tick, waiting to be submitted to the deadline
 * queue at its end, each timed from the first clock reading after its yield (never early).
 * Imports only the timer queue and types.
 */
import type { Sleeper, TimerQueue } from "./timers.ts";
import type { Task } from "./task.ts";

/** The latest deadline a sleep gets a timer for (2^52 ms, some 140,000 years): up to 2^53 every whole ms is exact. */
export const MAX_DEADLINE = 2 ** 52;

/**
 * This tick's sleeps. The kernel `push`es a task as it yields `sleep(ms)`, `stamp`s the clock
 * every few hundred steps, and `submit`s them all at the end of the tick.
 *
 * @example
 * ```ts
 * const q = new SleepQueue();
 * q.push(task);          // task yielded sleep(10) and waits (task.waitingOn is the descriptor)
 * q.stamp(clock.now());  // its sleep started no later than this
 * q.submit(timers);      // into the deadline queue, due at ceil(start + 10)
 * ```
 */
export class SleepQueue {
  #tasks: Task<unknown>[] = [];
  /** The wait generation each task suspended with: a later one means it was cancelled meanwhile. */
  #gens: number[] = [];
  /** Stamps, one per clock reading: the sleeps from the previous end up to `#ends[j]` started by `#times[j]`. */
  #ends: number[] = [];
  #times: number[] = [];

  /** Sleeps queued this tick. */
  get length(): number {
    return this.#tasks.length;
  }

  /** `task` yielded a sleep (its descriptor is `task.waitingOn`) and now waits. */
  push(task: Task<unknown>): void {
    this.#tasks.push(task);
    this.#gens.push(task.waitGen);
  }

  /** The sleeps queued since the last stamp started at or before `now` (read after their yield). */
  stamp(now: number): void {
    if (!this.unstamped) return;
    this.#ends.push(this.#tasks.length);
    this.#times.push(now);
  }

  /** True if some sleeps have no start time yet (so a clock reading is worth taking). */
  get unstamped(): boolean {
    const ends = this.#ends;
    return (ends.length === 0 ? 0 : ends[ends.length - 1]!) < this.#tasks.length;
  }

  /**
   * Put every queued sleep that is still current into `timers`, due at its start plus its
   * `ms`, rounded up to a whole millisecond (so sleeps that started in the same millisecond
   * share a bucket and a host timer). Each task's `undo` becomes its bucket (`TimerQueue.add`).
   * Every sleep must have been stamped. Returns how many sleeps it took (one due past
   * MAX_DEADLINE counts, though it gets no timer; a sleep whose task was woken or cancelled
   * since its yield is dropped).
   */
  submit(timers: TimerQueue<(Task<unknown> & Sleeper) | Sleeper>): number {
    if (this.unstamped) throw new Error("SleepQueue.submit: some sleeps have no start time (stamp first)");
    const tasks = this.#tasks;
    const gens = this.#gens;
    const ends = this.#ends;
    const times = this.#times;
    let i = 0;
    let kept = 0;
    for (let j = 0; j < ends.length; j++) {
      const end = ends[j]!;
      const at = times[j]!;
      for (; i < end; i++) {
        const t = tasks[i]!;
        if (t.waitGen !== gens[i]) continue; // cancelled before it was submitted
        kept++;
        const due = Math.ceil(at + (t.waitingOn!.a as number));
        // Due past MAX_DEADLINE: it waits until cancelled, as sleep(Infinity) does, without a timer.
        // (A virtual clock would jump there, where 1 ms steps are no longer exact: later sleeps would end early.)
        if (due <= MAX_DEADLINE) timers.add(t, due);
      }
    }
    // Emptied in place and kept: a tick's worth of sleeps allocates no new arrays.
    tasks.length = 0;
    gens.length = 0;
    ends.length = 0;
    times.length = 0;
    return kept;
  }
}
