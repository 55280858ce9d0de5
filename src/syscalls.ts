/**
 * The syscall constructors: the one place that makes descriptors. Each is a two-line
 * function that checks its arguments and names the op (curio's traps.py, in TypeScript).
 * Imports only the descriptor, types and errors.
 */
import { InlineSyscall, Op, Syscall, describe } from "./syscall.ts";
import { Task } from "./task.ts";
import { checkSource, checkSpawnOptions } from "./task-body.ts";
import type { TaskBody, SpawnOptions, Undo, Waker } from "./types.ts";

// Descriptors are immutable, so the last one made is reused when the same call repeats:
// a loop of `sleep(10)` or `spawn(worker)` allocates one descriptor, not one per call.
let lastSleep = new Syscall<void>("sleep", Op.Sleep, 0);
let lastSpawn = new InlineSyscall<unknown>("spawn", Op.Spawn, undefined, undefined);
const CURRENT = new InlineSyscall<Task<unknown>>("current", Op.Current);
/** `sleep(Infinity)`: a suspension nothing wakes (only a cancel or an interrupt ends it), no timer. */
const FOREVER = suspend<void>(() => undefined, "sleep", "Infinity");

/** @internal Drop the cached spawn descriptor (its coroutine function may hold a whole object graph): called as a run ends. */
export function forgetLastSpawn(): void {
  lastSpawn = new InlineSyscall<unknown>("spawn", Op.Spawn, undefined, undefined);
}

/**
 * Suspend the calling task for `ms` milliseconds. `sleep(0)` gives up the CPU as a plain
 * `yield` does (it runs again next tick, after the tasks ready before it); `sleep(Infinity)` until the task is cancelled (or
 * interrupted), with no timer, as does a sleep due past 2^52 ms (some 140,000 years). All sleepers share corun's deadline queue and one host timer.
 *
 * @example
 * ```ts
 * import { run, sleep } from "corun";
 * await run(function* () {
 *   yield* sleep(10);
 * });
 * ```
 */
export function sleep(ms: number): Syscall<void> {
  if (ms === lastSleep.a) return lastSleep;
  if (ms === Infinity) return FOREVER;
  if (typeof ms !== "number" || !(ms >= 0)) {
    throw new RangeError(`sleep(ms): ms must be a number >= 0 (Infinity: until cancelled), got ${describe(ms)}`);
  }
  return (lastSleep = new Syscall<void>("sleep", Op.Sleep, ms));
}


/**
 * Start `co` as a new task, running concurrently once the spawner's step has ended. Returns
 * its `Task` at once; the spawner keeps running. `co` is a coroutine or a function returning one.
 *
 * @example
 * ```ts
 * import { run, spawn, join } from "corun";
 * const sum = await run(function* () {
 *   const a = yield* spawn(function* () { return 1; }, { name: "one" });
 *   const b = yield* spawn(function* () { return 2; });
 *   return (yield* join(a)) + (yield* join(b));
 * });
 * console.log(sum); // 3
 * ```
 */
export function spawn<T>(co: TaskBody<T>, options?: SpawnOptions): Syscall<Task<T>> {
  if (co === lastSpawn.a && options === undefined && typeof co === "function") return lastSpawn as Syscall<Task<T>>;
  checkSource(co, "spawn");
  checkSpawnOptions(options, "spawn");
  const d = new InlineSyscall<Task<T>>("spawn", Op.Spawn, co, options);
  if (options === undefined && typeof co === "function") lastSpawn = d as Syscall<unknown>;
  return d;
}

/**
 * @internal Raise `error` in the calling task at its next yield, after it has used the value
 * this `yield*` returns (undefined). For supervisors: the caller's own cancel, caught while the
 * work it waited for finished, is re-raised after the work's result is handed over (a value
 * taken from a channel, a lock acquired), as the kernel does for a value delivered at a cancel.
 */
export function raiseLater(error: unknown): Syscall<void> {
  return new InlineSyscall<void>("raiseLater", Op.RaiseLater, error);
}

/** @internal Key of the spawn option that `spawnAdopted` sets (not part of `SpawnOptions`). */
export const ADOPT: unique symbol = Symbol("corun.adopt");

/** @internal The options `spawnAdopted` passes: a name, and who adopts the task at its creation. */
export interface AdoptingOptions extends SpawnOptions {
  [ADOPT]: (task: Task<unknown>) => void;
}

/**
 * @internal `spawn(co, { name })`, and `adopt(task)` called by the kernel as it creates the
 * task, in the spawner's step, before any other task runs. For supervisors (group, all, race):
 * the child is theirs from its creation, even when the `yield*` hands it to the spawner a tick
 * later (a spawn not answered in place).
 */
export function spawnAdopted<T>(co: TaskBody<T>, name: string | undefined, adopt: (task: Task<unknown>) => void): Syscall<Task<T>> {
  checkSource(co, "spawn");
  const options: AdoptingOptions = { name, [ADOPT]: adopt };
  return new InlineSyscall<Task<T>>("spawn", Op.Spawn, co, options);
}

/**
 * Wait for `task` to end and return its result. If it failed, its error is thrown here;
 * if it was cancelled, a `Cancelled` is.
 *
 * @example
 * ```ts
 * import { run, spawn, join } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () { throw new Error("no"); });
 *   try { yield* join(t); } catch (e) { console.log((e as Error).message); } // no
 * });
 * ```
 */
export function join<T>(task: Task<T>): Syscall<T> {
  checkTask(task, "join");
  return new InlineSyscall<T>("join", Op.Join, task);
}

/**
 * Cancel `task` and wait until it has ended, its `finally` blocks included (they may
 * themselves yield). Cancelling an ended task, or cancelling twice, is harmless; but a second
 * cancel (which only waits for the end) whose target's cleanup joins or cancels the caller,
 * directly or through a chain of tasks that join or cancel, is a `UsageError` naming the cycle.
 *
 * @example
 * ```ts
 * import { run, spawn, cancel, sleep } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () {
 *     try { yield* sleep(60_000); } finally { yield* sleep(1); console.log("cleaned up"); }
 *   });
 *   yield* sleep(1);
 *   yield* cancel(t); // prints "cleaned up" before returning
 *   console.log(t.state); // cancelled
 * });
 * ```
 */
export function cancel(task: Task<unknown>): Syscall<void> {
  checkTask(task, "cancel");
  return new Syscall<void>("cancel", Op.Cancel, task);
}

/**
 * Throw `error` into `task` where it waits, the way a cancel arrives: its wait (a sleep, an
 * I/O op, a join, a lock...) is taken back and the error is raised at its `yield`. Returns
 * true if it was waiting; false if it was ready, running or ended (then nothing happens: the
 * caller decides what else to do). For deadlines built outside the kernel, like the HTTP
 * client's: unlike `cancel`, the task goes on afterwards if it catches the error. It reaches a
 * task in the cleanup after a cancel too (a request with a timeout made in a `finally` can
 * still time out); if the wait's undo throws, the task gets that error instead.
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, interrupt } from "corun";
 * await run(function* () {
 *   const t = yield* spawn(function* () {
 *     try { yield* sleep(60_000); } catch (e) { return (e as Error).message; }
 *     return "slept";
 *   });
 *   yield* sleep(1);
 *   console.log(yield* interrupt(t, new Error("wake up"))); // true
 *   console.log(t.state); // ready (it returns "wake up" at its next step)
 * });
 * ```
 */
export function interrupt(task: Task<unknown>, error: unknown): Syscall<boolean> {
  checkTask(task, "interrupt");
  // undefined would reach the task as no error at all (a catch that reads error.message throws there).
  if (error === undefined) throw new TypeError(`interrupt(task, error): error is undefined; pass what ${task} should throw, e.g. new Error("deadline")`);
  return new Syscall<boolean>("interrupt", Op.Interrupt, task, error);
}

/**
 * The running task.
 *
 * @example
 * ```ts
 * import { run, current } from "corun";
 * await run(function* () {
 *   const me = yield* current();
 *   console.log(me.name); // main
 * });
 * ```
 */
export function current(): Syscall<Task<unknown>> {
  return CURRENT;
}

/**
 * Wait for a promise: returns its value or throws its reason. `yield somePromise` does the
 * same with an untyped result.
 *
 * @example
 * ```ts
 * import { run, wait } from "corun";
 * await run(function* () {
 *   const n = yield* wait(Promise.resolve(7));
 *   console.log(n + 1); // 8
 * });
 * ```
 */
export function wait<T>(promise: PromiseLike<T>): Syscall<T> {
  if (!isThenable(promise)) throw new TypeError(`wait(promise): expected a promise, got ${describe(promise)}`);
  return new Syscall<T>("wait", Op.Wait, promise);
}

/**
 * The building block for synchronisation features (channels, locks, events): suspend the
 * calling task and hand `setup` a `Waker` that resumes it later. `setup` runs at once,
 * inside the scheduler; it returns how to undo the registration if the task is cancelled
 * while suspended (e.g. remove it from a wait list). `ps()` shows the task waiting on
 * `label(detail)`, e.g. `recv(channel "jobs")`. If `setup` throws, `suspend` throws that error
 * in the task; if it woke the task first, the wake-up stands (a value handed over is never
 * lost) and the error is raised at the task's next yield instead (or is the task's failure if
 * it returns first). If the undo throws, the cancelled task gets that error instead of
 * `Cancelled`.
 *
 * @example
 * ```ts
 * import { run, spawn, suspend, sleep, type Waker } from "corun";
 * const waiters: Waker<string>[] = [];
 * await run(function* () {
 *   yield* spawn(function* () { yield* sleep(5); waiters.shift()?.resume("ping"); });
 *   const msg = yield* suspend<string>((w) => { waiters.push(w); return () => waiters.splice(waiters.indexOf(w), 1); });
 *   console.log(msg); // ping
 * });
 * ```
 */
export function suspend<T>(setup: (waker: Waker<T>) => Undo, label = "suspend", detail?: string): Syscall<T> {
  if (typeof setup !== "function") throw new TypeError(`suspend(setup): setup must be a function, got ${describe(setup)}`);
  return new Syscall<T>(label, Op.Suspend, setup, detail);
}

/**
 * Make a descriptor for a reactor I/O op (`read`, `write`, `connect`, ...). For I/O
 * modules built on a reactor that implements `op`; not for everyday code.
 *
 * @example
 * ```ts
 * import { io } from "corun";
 * const d = io<number>("write", "some-handle", new Uint8Array(3)); // yield* d → bytes written
 * ```
 */
export function io<T>(op: string, a?: unknown, b?: unknown): Syscall<T> {
  return new Syscall<T>(op, Op.Io, a, b);
}

/** True if `value` is a promise or other thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

function checkTask(task: unknown, op: string): void {
  if (!(task instanceof Task)) {
    throw new TypeError(`${op}(task): expected a Task, got ${describe(task)}`);
  }
}
