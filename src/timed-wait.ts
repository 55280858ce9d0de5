/**
 * A wait with a time limit (`select`'s timeout; `timeout`/`moveOnAfter`'s wait for their work):
 * a `suspend` whose timer sits in the kernel's deadline queue. Due, it takes the wait's
 * registrations back and resumes the task with the "expired" value, at the end of that tick;
 * woken or cancelled first, the timer is taken back. One deadline-queue entry, no task.
 */
import { Op, Syscall } from "./syscall.ts";
import type { Undo, Waker } from "./types.ts";
import type { Kernel } from "./kernel.ts";
import type { Task } from "./task.ts";
import { undoWait } from "./lifecycle.ts";
import { MAX_DEADLINE } from "./sleep-queue.ts";

/** @internal A `suspend` descriptor that gives up after `ms`, resuming the task with `expired`. */
export class TimedSuspend<T, E> extends Syscall<T | E> {
  readonly ms: number;
  readonly expired: E;
  constructor(setup: (waker: Waker<T>) => Undo, ms: number, expired: E, label: string, detail: string | undefined) {
    super(label, Op.Suspend, setup, detail);
    this.ms = ms;
    this.expired = expired;
  }
}

/**
 * @internal Like `suspend(setup, label, detail)`, but after `ms` milliseconds (from now, never
 * early) with no wake-up, the registrations are undone as for a cancel and the task resumes
 * with `expired`. `ms` is a number >= 0 (`Infinity`: no limit); the caller checks it.
 *
 * @example
 * ```ts
 * const TIMED_OUT = Symbol("timed out");
 * const r = yield suspendFor((w) => { waiters.push(w); return () => drop(w); }, 100, TIMED_OUT, "recv");
 * if (r === TIMED_OUT) return undefined;
 * ```
 */
export function suspendFor<T, E>(setup: (waker: Waker<T>) => Undo, ms: number, expired: E, label = "suspend", detail?: string): Syscall<T | E> {
  return new TimedSuspend(setup, ms, expired, label, detail);
}

/** What a timed wait's waker keeps: its timer, taken back when the waker resumes the task. */
export interface TimedWaker {
  timer: TimedWake | undefined;
  /** The wait is still current (the task waits in it). */
  readonly pending: boolean;
  resume(value: unknown): boolean;
  throw(error: unknown): boolean;
}

/** The timer of one timed wait: a sleeper in the kernel's deadline queue (not a task). */
export class TimedWake {
  /** The deadline queue's slot: the bucket it sleeps in. */
  undo: unknown = undefined;
  readonly #k: Kernel;
  readonly #task: Task<unknown>;
  readonly #waker: TimedWaker;
  readonly #expired: unknown;
  constructor(k: Kernel, task: Task<unknown>, waker: TimedWaker, expired: unknown) {
    this.#k = k;
    this.#task = task;
    this.#waker = waker;
    this.#expired = expired;
  }

  /**
   * Due, at the end of the tick it came due in (see `armTimedWait`): take the wait back as a
   * cancel does (lifecycle.ts undoWait: a wake-up its undo causes is refused meanwhile, and an
   * undo that throws gives the task its error), then resume with the expired value.
   */
  fire(): void {
    const w = this.#waker;
    // Taken back since it came due (the task was woken, cancelled or interrupted in that tick).
    if (w.timer !== this || !w.pending) return;
    w.timer = undefined; // out of the queue since its expiry: nothing to remove
    const broken = undoWait(this.#k, this.#task);
    if (broken !== undefined) w.throw(broken);
    else w.resume(this.#expired);
  }
}

/**
 * @internal After `setup` ran (the task still waits): arm the timer of a timed wait, and make the task's
 * undo (run by a cancel) take the timer back too. Due, the timer is not fired at once: the kernel
 * fires it at the end of that tick (Kernel.expiring), so the task still waits through the tick
 * and what the tick's steps do to it comes first: a value handed over, a cancel or an interrupt
 * (which a task ready to run would refuse). An `ms` of 0 is due in this tick.
 */
export function armTimedWait(k: Kernel, task: Task<unknown>, d: TimedSuspend<unknown, unknown>, waker: TimedWaker, undo: Undo): void {
  const wake = new TimedWake(k, task, waker, d.expired);
  const due = d.ms <= 0 ? -Infinity : Math.ceil(k.reactor.now() + d.ms);
  if (!(due <= MAX_DEADLINE)) return; // Infinity: no limit, as sleep(Infinity)
  if (due === -Infinity) k.expiring.push(wake);
  else k.timers.add(wake, due);
  waker.timer = wake;
  task.undo = () => {
    waker.timer = undefined;
    k.timers.remove(wake);
    if (typeof undo === "function") undo();
  };
}
