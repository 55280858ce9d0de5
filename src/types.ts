/**
 * The shared vocabulary of corun: coroutine, task state, options and stats types.
 * Imports nothing at run time; every other file may import from here.
 */
import type { Syscall } from "./syscall.ts";
import type { Task } from "./task.ts";

/**
 * What a coroutine may yield: a syscall descriptor, a task (joined), a promise (waited for),
 * or nothing (`yield;` gives up the CPU until the next tick).
 *
 * @example
 * ```ts
 * import { run, sleep, type Yieldable } from "corun";
 * const steps: Yieldable[] = [sleep(1), Promise.resolve("ok"), undefined]; // a syscall, a promise, a plain yield
 * await run(function* () { for (const s of steps) yield s; });
 * ```
 */
export type Yieldable = Syscall<unknown> | Task<unknown> | PromiseLike<unknown> | undefined | void;

/**
 * A coroutine: a generator that yields syscall descriptors and returns `T`.
 *
 * @example
 * ```ts
 * import { run, sleep, type Co } from "corun";
 * function* answer(): Co<number> {
 *   yield* sleep(1);
 *   return 42;
 * }
 * console.log(await run(answer)); // 42
 * ```
 */
export type Co<T = unknown> = Generator<Yieldable, T, unknown>;

/**
 * A coroutine, or a function that returns one.
 *
 * @example
 * ```ts
 * import { run, sleep, type Co, type CoSource } from "corun";
 * function* logged<T>(src: CoSource<T>): Co<T> {
 *   const result = yield* (typeof src === "function" ? src() : src);
 *   console.log("done:", result);
 *   return result;
 * }
 * await run(() => logged(function* () { yield* sleep(1); return 7; })); // done: 7
 * ```
 */
export type CoSource<T> = Co<T> | (() => Co<T>);

/**
 * What `spawn`, `run`, the combinators and time limits start as a task: a coroutine, a function
 * that returns one, or a function returning a single syscall (`() => conn.read()`,
 * `() => sleep(5)`) or task to join (`() => t`), which the task makes and returns the result of.
 *
 * @example
 * ```ts
 * import { run, timeout, sleep, type TaskBody } from "corun";
 * const body: TaskBody<void> = () => sleep(5);
 * await run(() => timeout(100, body));
 * ```
 */
export type TaskBody<T> = CoSource<T> | (() => Syscall<T> | Task<T>);

/**
 * The life of a task: `ready` → `running` → (`waiting` → `ready` → `running`)* → `done` | `failed` | `cancelled`.
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, type TaskState } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () { yield* sleep(5); });
 *   const before: TaskState = t.state;
 *   yield* t;
 *   console.log(before, t.state); // ready done
 * });
 * ```
 */
export type TaskState = "ready" | "running" | "waiting" | "done" | "failed" | "cancelled";

/**
 * Options for `spawn(co, options)`.
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, type SpawnOptions } from "corun";
 * await run(function* () {
 *   const options: SpawnOptions = { name: "poller" };
 *   const t = yield* spawn(function* () { yield* sleep(1); }, options);
 *   console.log(t.name); // poller
 * });
 * ```
 */
export interface SpawnOptions {
  /** A name for messages and `ps()`; defaults to the generator function's name. */
  name?: string | undefined;
}

/**
 * Counters kept by a scheduler; read with `scheduler.stats()`.
 *
 * @example
 * ```ts
 * import { Scheduler, sleep, type SchedulerStats } from "corun";
 * const s = new Scheduler();
 * await s.run(function* () { yield* sleep(1); });
 * const st: SchedulerStats = s.stats();
 * console.log(st.tasksSpawned, st.syscalls.sleep); // 1 1
 * ```
 */
export interface SchedulerStats {
  /** Scheduler ticks run (one per event-loop turn at most). */
  ticks: number;
  /** Times a task was resumed (one `next()`/`throw()` on its generator per step). */
  steps: number;
  /** Syscalls handled, by op name. */
  syscalls: Record<string, number>;
  /** The largest number of suspending syscalls dispatched as one batch in a tick. */
  maxBatch: number;
  /** Mean size of the non-empty batches. */
  meanBatch: number;
  /** Host timers armed so far (all sleepers share one host timer at a time). */
  hostTimersArmed: number;
  /** Host timers armed now: 0 or 1. */
  hostTimersActive: number;
  /** Sleepers waiting in corun's own deadline queue. */
  sleepers: number;
  /** Tasks created and not yet ended (those that have not taken a step yet included). */
  tasksAlive: number;
  /** Tasks created so far. */
  tasksSpawned: number;
}

/**
 * The handle a `suspend()` setup function gets to wake its task later, from another task,
 * a callback or a promise. Only the first `resume`/`throw` counts.
 *
 * @example
 * ```ts
 * import { run, spawn, suspend, sleep, type Waker } from "corun";
 * let waiting: Waker<number> | undefined;
 * await run(function* () {
 *   yield* spawn(function* () { yield* sleep(5); waiting?.resume(42); });
 *   console.log(yield* suspend<number>((w) => { waiting = w; })); // 42
 * });
 * ```
 */
export interface Waker<T> {
  /** Resume the task with `value`. False if it was already woken or cancelled (the value was not taken). */
  resume(value: T): boolean;
  /** Resume the task by throwing `error` at its `yield`. False if it was already woken or cancelled. */
  throw(error: unknown): boolean;
  /** True while the task is still suspended on this waker. */
  readonly pending: boolean;
  /** The task it wakes (to name it in messages); undefined for a promise's waiter (`sendAsync`, `recvAsync`). */
  readonly task?: Task<unknown>;
}

/**
 * What a `suspend()` setup returns: how to take the suspension back when the task is cancelled.
 *
 * @example
 * ```ts
 * import { suspend, type Undo, type Waker } from "corun";
 * const queue = new Set<Waker<string>>();
 * const setup = (w: Waker<string>): Undo => { queue.add(w); return () => queue.delete(w); }; // a cancelled waiter leaves the queue
 * const next = () => suspend<string>(setup, "next"); // yield* next() waits for queue's first to be resumed
 * ```
 */
export type Undo = (() => void) | void;
