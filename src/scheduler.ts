/**
 * The public face of the kernel: `new Scheduler(options)`, `scheduler.run(main)`,
 * `scheduler.spawn(co)` from outside, `stats()` and `ps()`. Imports no Bun API itself;
 * the default reactor is the Bun one, passed in by `run.ts`.
 */
import { Kernel } from "./kernel.ts";
import { forgetLastSpawn } from "./syscalls.ts";
import { Flag, type Task } from "./task.ts";
import { TaskError } from "./errors.ts";
import { startable, Thrown } from "./handlers.ts";
import { deliverCancel, MAX_UNOBSERVED } from "./lifecycle.ts";
import { describe } from "./syscall.ts";
import { checkKeys } from "./option-keys.ts";
import { SPAWN_KEYS } from "./task-body.ts";
import { runEnded, runStarted } from "./deadlock.ts";
import type { Reactor } from "./reactor/reactor.ts";
import type { TaskBody, SchedulerStats, SpawnOptions } from "./types.ts";

/**
 * Options for `new Scheduler()` and `run()`.
 *
 * @example
 * ```ts
 * import { run, sleep, type SchedulerOptions } from "corun";
 * const options: SchedulerOptions = { name: "app", budget: 1024, signal: AbortSignal.timeout(60_000) };
 * await run(function* () { yield* sleep(1); }, options);
 * ```
 */
export interface SchedulerOptions {
  /** The host to run on. Default: the Bun reactor. Use `FakeReactor` for virtual time. */
  reactor?: Reactor | undefined;
  /** Most task steps per tick before yielding to the event loop (I/O fairness). Default 16384: a tick runs every task that was ready when it began (as trio does), then those they woke, up to this many in all. */
  budget?: number | undefined;
  /** Name of the main task. Default `"main"`. */
  name?: string | undefined;
  /** Cancel main when this signal aborts; `run()` then rejects with the signal's reason (unless main caught the cancel and returned: then it resolves). */
  signal?: AbortSignal | undefined;
}

/**
 * One line of `ps()`.
 *
 * @example
 * ```ts
 * import { Scheduler, sleep, spawn, type TaskInfo } from "corun";
 * const s = new Scheduler();
 * await s.run(function* () {
 *   yield* spawn(function* worker() { yield* sleep(10); });
 *   yield* sleep(1);
 *   const rows: TaskInfo[] = s.ps();
 *   console.log(rows.map((t) => `${t.path}: ${t.state} ${t.waitingOn}`)); // ["main: running ", "main > worker: waiting sleep(10)"]
 * });
 * ```
 */
export interface TaskInfo {
  id: number;
  name: string;
  state: Task["state"];
  /** What it waits on, e.g. `sleep(100)` or `join(Task "worker")`; empty if not waiting. */
  waitingOn: string;
  /** Milliseconds since it was spawned. */
  age: number;
  /** Spawned-by chain, e.g. `main > server > conn`. */
  path: string;
}

/** The keys of SchedulerOptions (others are refused: a misspelt one would be ignored). */
const SCHEDULER_KEYS = Object.keys({ reactor: 1, budget: 1, name: 1, signal: 1 } satisfies Record<keyof SchedulerOptions, 1>);

/**
 * A corun scheduler. `run()` makes one for you; make your own to read `stats()` and `ps()`
 * or to run on a `FakeReactor`.
 *
 * @example
 * ```ts
 * import { Scheduler, sleep, spawn, type Task } from "corun";
 * const s = new Scheduler();
 * await s.run(function* () {
 *   const sleepers: Task<void>[] = [];
 *   for (let i = 0; i < 1000; i++) sleepers.push(yield* spawn(function* () { yield* sleep(10); }));
 *   for (const t of sleepers) yield* t; // main waits: its end would cancel them
 * });
 * console.log(s.stats().hostTimersArmed <= 2); // true: one host timer for 1000 sleepers
 * ```
 */
export class Scheduler {
  readonly #k: Kernel;
  readonly #name: string;
  readonly #signal: AbortSignal | undefined;
  #started = false;

  constructor(options: SchedulerOptions = {}) {
    if (options === null || typeof options !== "object") throw new TypeError(`new Scheduler(options): options must be an object, got ${describe(options)}`);
    checkKeys(options, SCHEDULER_KEYS, "new Scheduler(options) (run's options)");
    if (options.name !== undefined && typeof options.name !== "string") throw new TypeError(`new Scheduler({ name }): name must be a string, got ${describe(options.name)}`);
    if (options.reactor !== undefined) checkReactor(options.reactor);
    const reactor = options.reactor ?? Scheduler.defaultReactor?.();
    if (!reactor) throw new TypeError("new Scheduler(): no reactor given and no default reactor installed");
    const budget = options.budget ?? 16_384;
    if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`Scheduler budget must be an integer >= 1, got ${describe(budget)}`);
    const signal = options.signal;
    if (signal !== undefined && (signal === null || typeof signal !== "object" || typeof signal.addEventListener !== "function" || typeof signal.removeEventListener !== "function")) {
      throw new TypeError(`new Scheduler({ signal }): signal must be an AbortSignal, got ${describe(signal)}`);
    }
    this.#k = new Kernel(reactor, budget);
    this.#name = options.name ?? "main";
    this.#signal = signal;
  }

  /** @internal installed by the package entry point: makes the Bun reactor. */
  static defaultReactor: (() => Reactor) | undefined;

  /**
   * Run `main` to completion. Resolves with its result or rejects with its error. When main
   * ends, every task still alive is cancelled (their `finally` blocks run) and the reactor
   * is closed. A task that failed with nobody joining it makes this reject with a `TaskError`.
   * It takes no options (they are the constructor's): one given here rejects with a `TypeError`.
   *
   * @example
   * ```ts
   * import { Scheduler, sleep } from "corun";
   * const s = new Scheduler({ name: "app" });
   * console.log(await s.run(function* () { yield* sleep(1); return "done"; })); // done
   * ```
   */
  run<T>(main: TaskBody<T>, options?: never): Promise<T> {
    // Options belong to the constructor: given here they would be dropped unseen (a signal that never cancels).
    if (options !== undefined) return Promise.reject(new TypeError(`Scheduler.run(main): takes no options (got ${describe(options)}); give them to new Scheduler({ ... }), or use run(main, options)`));
    if (this.#started) return Promise.reject(new Error("Scheduler.run(): this scheduler has already run; make a new one"));
    this.#started = true;
    const k = this.#k;
    const gen = startable(main as TaskBody<unknown>, "run", undefined);
    if (gen instanceof Thrown) {
      k.reactor.close();
      return Promise.reject(gen.error);
    }
    return new Promise<T>((resolve, reject) => {
      const task = k.newTask(gen, this.#name, undefined) as Task<T>;
      task.flags |= Flag.Observed;
      const signal = this.#signal;
      const onAbort = (): void => deliverCancel(k, task);
      runStarted(k);
      k.hooks = {
        main: task,
        allEnded: () => {
          runEnded(k);
          k.hooks = undefined;
          k.tasks.clear(); // every task has ended: a Scheduler kept for its stats keeps none of them
          forgetLastSpawn();
          k.closed = true;
          k.timers.clear();
          k.reactor.clearTimer();
          signal?.removeEventListener("abort", onAbort);
          const settle = (closeError: unknown): void => {
            const failures = [...k.unobserved].filter((t) => (t.flags & Flag.Observed) === 0);
            // Errors no task could catch: onEnd callbacks that threw, a file write that failed at close.
            const lost = closeError === undefined ? k.callbackErrors : [...k.callbackErrors, closeError];
            if (task.state === "done" && failures.length === 0 && k.uncounted === 0) {
              if (lost.length === 0) resolve(task.result as T);
              else reject(lost.length === 1 ? lost[0] : new AggregateError(lost, `${lost.length} errors no task could catch`));
            } else if (task.state !== "done") {
              // Main's own error (or the signal's reason) wins; errors that would otherwise be
              // lost (other tasks' failures nobody saw, callbacks, closes) ride along in a
              // TaskError for main.
              const why = task.state === "cancelled" && signal?.aborted ? signal.reason : task.error;
              const also = [...failures.map((t) => t.error).filter((e) => e !== why), ...lost];
              reject(also.length === 0 && k.uncounted === 0 ? why : new TaskError(task, why, also, k.uncounted));
            } else {
              const [first, ...rest] = failures;
              const last = k.lastUncounted;
              if (first !== undefined) reject(new TaskError(first, first.error, [...rest.map((t) => t.error), ...lost], k.uncounted));
              // Only failures past the bound are left (the kept ones were joined since): name the last one.
              else if (last !== undefined && (last.flags & Flag.Uncounted) !== 0) reject(new TaskError(last, last.error, lost, k.uncounted - 1));
              else reject(new AggregateError(lost, `${k.uncounted} tasks failed with nobody joining them (past the ${MAX_UNOBSERVED} a run keeps)`));
            }
            // Settled: the failed tasks and errors kept for it are let go.
            k.unobserved.clear();
            k.lastUncounted = undefined;
            k.callbackErrors.length = 0;
          };
          // run() settles once the host is released: file writes still in flight land first.
          const closing = k.reactor.close();
          if (closing === undefined) settle(undefined);
          else closing.then(() => settle(undefined), (error: unknown) => settle(error ?? new Error("reactor close failed")));
        },
      };
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /**
   * Start a task from outside any coroutine (a Bun callback, a test). It runs on this
   * scheduler while `run()` is in progress; await `task.promise` for its outcome. Once main
   * has ended (`run()` winding down, cancelling what is left), a task started so is cancelled
   * before its first step: its promise rejects with `Cancelled`.
   *
   * @example
   * ```ts
   * const s = new Scheduler();
   * const done = s.run(function* () { yield* sleep(50); });
   * const t = s.spawn(function* () { return 42; });
   * console.log(await t.promise); // 42
   * await done;
   * ```
   */
  spawn<T>(co: TaskBody<T>, options: SpawnOptions = {}): Task<T> {
    const k = this.#k;
    if (options === null || typeof options !== "object") throw new TypeError(`Scheduler.spawn(co, options): options must be an object, got ${describe(options)}`);
    checkKeys(options, SPAWN_KEYS, "Scheduler.spawn(co, options)");
    if (options.name !== undefined && typeof options.name !== "string") throw new TypeError(`Scheduler.spawn(co, { name }): name must be a string, got ${describe(options.name)}`);
    if (!k.hooks) throw new Error("Scheduler.spawn(): the scheduler is not running (call run() first, and not after it ended)");
    const gen = startable(co as TaskBody<unknown>, "spawn", undefined);
    if (gen instanceof Thrown) throw gen.error;
    return k.newTask(gen, options.name ?? co, undefined) as Task<T>;
  }

  /** Counters: ticks, steps, syscalls by op, batch sizes, host timers, tasks alive. */
  stats(): SchedulerStats {
    const k = this.#k;
    const st = k.stats;
    return {
      ticks: st.ticks,
      steps: st.steps,
      syscalls: st.syscalls(),
      maxBatch: st.maxBatch,
      meanBatch: st.batches ? st.batched / st.batches : 0,
      hostTimersArmed: st.timersArmed,
      hostTimersActive: k.armedDeadline === undefined ? 0 : 1,
      sleepers: k.timers.size,
      tasksAlive: k.tasks.count,
      tasksSpawned: st.spawned,
    };
  }

  /** The live tasks: id, name, state, what each waits on, age and spawned-by path (curio's `ps`). */
  ps(): TaskInfo[] {
    const k = this.#k;
    const now = k.reactor.now();
    return k.tasks.alive().map((t) => ({
      id: t.id,
      name: t.name,
      state: t.state,
      waitingOn: t.waitingOn ? t.waitingOn.toString() : "",
      age: now - t.createdAt,
      path: t.path,
    }));
  }
}

/** The methods a `Reactor` must have (see reactor/reactor.ts). */
const REACTOR_METHODS = ["now", "schedule", "setTimer", "clearTimer", "attach", "submit", "cancel", "close"] as const;

function checkReactor(r: unknown): void {
  if (r === null || typeof r !== "object") throw new TypeError(`new Scheduler({ reactor }): reactor must be a Reactor (a FakeReactor, say), got ${describe(r)}`);
  const missing = REACTOR_METHODS.filter((m) => typeof (r as Record<string, unknown>)[m] !== "function");
  if (missing.length > 0) throw new TypeError(`new Scheduler({ reactor }): ${describe(r)} is not a Reactor: it has no ${missing.join(", ")} method${missing.length > 1 ? "s" : ""}`);
}
