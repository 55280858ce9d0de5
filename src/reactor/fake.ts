/**
 * FakeReactor: runs a scheduler in virtual time, deterministically. By default it drives
 * itself and jumps the clock to the next deadline whenever nothing else is runnable (or after
 * 10,000 ticks in a row that only ran tasks polling with `yield`/`sleep(0)`), so a program that
 * sleeps an hour finishes at once. Work that needs no time never sees the clock move, however
 * many ticks it takes. With `{ auto: false }` a test steps it by hand.
 */
import type { CompletionSink, Reactor, Submission, Ticket } from "./reactor.ts";
import { ticksEverywhere } from "../tick-count.ts";
import { checkKeys } from "../option-keys.ts";
import { WorkBound } from "./work-bound.ts";

/**
 * Options for `new FakeReactor()`.
 *
 * @example
 * ```ts
 * import { FakeReactor, type FakeReactorOptions } from "corun/testing";
 * const options: FakeReactorOptions = { auto: false, start: 1_000 }; // a test steps it with tick() and advance()
 * const clock = new FakeReactor(options);
 * ```
 */
export interface FakeReactorOptions {
  /** Drive ticks and time by itself (default true). False: call `tick()` / `advance()`. */
  auto?: boolean | undefined;
  /** Virtual time at the start, ms (default 0). */
  start?: number | undefined;
  /** Handles I/O submissions (default: each fails with an error naming the op). */
  io?: ((batch: readonly Submission[], sink: CompletionSink) => void) | undefined;
  /**
   * Real ms an automatic reactor sits idle before it asks whether its tasks are deadlocked
   * (default 2,000; `Infinity` never asks: for a test whose tasks Promise code wakes later).
   * A reactor with `auto: false` never asks, whatever this says: its test drives it.
   */
  deadlockTimeout?: number | undefined;
}

/** The keys of FakeReactorOptions (others are refused: a misspelt one would be ignored). */
const FAKE_KEYS = Object.keys({ auto: 1, start: 1, io: 1, deadlockTimeout: 1 } satisfies Record<keyof FakeReactorOptions, 1>);

/** Polling ticks (only tasks that gave up the CPU to run) in a row before the clock moves to the next deadline anyway. */
const BUSY_TICKS = 10_000;
/**
 * Rounds of task steps one `advance()` runs at one virtual time before it gives up on work that
 * never ends (an error, not a hang). Rounds, not ticks: a tick steps the tasks others woke in up
 * to 64 more rounds, and two tasks handing a value back and forth for ever take one step a round.
 */
const STUCK_ROUNDS = 2_000_000;
/** Real ms an automatic FakeReactor sits idle (no tick, no timer) before it asks whether its tasks are deadlocked, unless told otherwise. */
export const IDLE_CHECK_MS = 2_000;
/** The longest wait a host timer takes (setTimeout fires at once past it). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The furthest start from 0: up to 2^53, doubles hold every whole ms; beyond, 1 ms sleeps would not move the clock. */
const MAX_START = 2 ** 50;
/** The furthest `advance()` takes the clock: the last deadline a sleep is timed for (the sleep queue's MAX_DEADLINE). */
const MAX_CLOCK = 2 ** 52;

/**
 * A reactor on a virtual clock, for deterministic tests of coroutines.
 *
 * @example
 * ```ts
 * import { run, sleep } from "corun";
 * import { FakeReactor } from "corun/testing";
 * const clock = new FakeReactor();
 * await run(function* () { yield* sleep(3_600_000); }, { reactor: clock });
 * console.log(clock.now()); // 3600000, reached at once
 * ```
 */
export class FakeReactor implements Reactor {
  /** @internal Rounds of task steps at one virtual time taken for work that never ends (STUCK_ROUNDS; a test may lower it to run faster). */
  static stuckRounds = STUCK_ROUNDS;

  /** A virtual clock (see Reactor.virtual). */
  readonly virtual = true;
  #now: number;
  #pending: (() => void)[] = [];
  /** True while `tick()` runs the scheduled ticks. */
  #ticking = false;
  #timer: { deadline: number; fire: () => void } | undefined;
  #sink: CompletionSink | undefined;
  #auto: boolean;
  #driving = false;
  #io: FakeReactorOptions["io"];
  /** Polling ticks run in a row at one time (see BUSY_TICKS). */
  #busy = 0;
  /** Automatic mode: the work run at this virtual time (see #bound). */
  readonly #work = new WorkBound(FakeReactor.stuckRounds);
  /** Automatic mode: work that never ends went on after its third report; no longer driven. */
  #abandoned = false;
  /** The real-time check armed while idle (see IDLE_CHECK_MS). */
  #idleCheck: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Its period, real ms (Infinity: never armed). */
  readonly #idleMs: number;
  /** Asks the scheduler whether it only has tasks that gave up the CPU to run (see Reactor.schedule). */
  #pollingOnly: (() => boolean) | undefined = undefined;
  /** Host timers armed so far. */
  timersArmed = 0;
  /** Ticks run so far. */
  ticksRun = 0;
  /** True after `close()`. */
  closed = false;
  /**
   * Tickets cancelled by the scheduler, in order. Once the run has ended (`close()`), each is
   * a copy with only its `op` and `taskName`: a clock kept after its run keeps none of its tasks.
   */
  readonly cancelled: Ticket[] = [];

  constructor(options: FakeReactorOptions = {}) {
    if (options === null || typeof options !== "object") throw new TypeError(`new FakeReactor(options): options must be an object, got ${String(options)}`);
    checkKeys(options, FAKE_KEYS, "new FakeReactor(options)");
    if (options.auto !== undefined && typeof options.auto !== "boolean") throw new TypeError(`new FakeReactor({ auto }): auto must be true or false, got ${typeof options.auto} ${String(options.auto)}`);
    if (options.io !== undefined && typeof options.io !== "function") throw new TypeError(`new FakeReactor({ io }): io must be a function (batch, sink) => void, got ${typeof options.io}`);
    const idle = options.deadlockTimeout ?? IDLE_CHECK_MS;
    if (typeof idle !== "number" || !(idle >= 1 && (idle <= MAX_TIMER_MS || idle === Infinity))) {
      throw new RangeError(`new FakeReactor({ deadlockTimeout }): deadlockTimeout must be a number of real ms from 1 to 2^31-1, or Infinity for no deadlock check, got ${typeof idle === "number" ? idle : `${typeof idle} ${String(idle)}`}`);
    }
    this.#idleMs = idle;
    const start = options.start ?? 0;
    if (typeof start !== "number" || !(Math.abs(start) <= MAX_START)) {
      throw new RangeError(`new FakeReactor({ start }): start must be a number of ms within ±2^50 (where 1 ms steps are exact), got ${String(start)}`);
    }
    this.#now = start;
    this.#auto = options.auto ?? true;
    this.#io = options.io;
  }

  now(): number {
    return this.#now;
  }

  schedule(tick: () => void, pollingOnly?: () => boolean): void {
    this.#pending.push(tick);
    this.#pollingOnly = pollingOnly;
    this.#drive();
  }

  setTimer(deadline: number, fire: () => void): void {
    this.#timer = { deadline, fire };
    this.timersArmed++;
    this.#drive();
  }

  clearTimer(): void {
    this.#timer = undefined;
  }

  /** The armed timer's deadline, if any. */
  get timerDeadline(): number | undefined {
    return this.#timer?.deadline;
  }

  attach(sink: CompletionSink): void {
    if (this.closed) throw new Error("FakeReactor: this reactor was closed (its run() ended); make a new one for each Scheduler");
    if (this.#sink !== undefined) throw new Error("FakeReactor: this reactor already serves a Scheduler; make a new one for each");
    this.#sink = sink;
  }

  submit(batch: readonly Submission[]): void {
    const sink = this.#sink!;
    if (this.#io) this.#io(batch, sink);
    else for (const t of batch) sink.fail(t, new TypeError(`FakeReactor: no I/O handler for op "${t.op}" (task "${t.taskName}")`));
  }

  cancel(ticket: Ticket): void {
    this.cancelled.push(ticket);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.#idleCheck);
    this.#timer = undefined;
    this.#pending = [];
    this.#sink = undefined; // a clock kept after its run keeps nothing of it
    const c = this.cancelled;
    for (let i = 0; i < c.length; i++) c[i] = { op: c[i]!.op, a: undefined, b: undefined, taskName: c[i]!.taskName };
  }

  /**
   * Run the ticks scheduled so far (not the ones they schedule). Returns how many ran. Calling
   * it from inside a tick it runs (a task driving its own scheduler) throws: drive it from outside.
   */
  tick(): number {
    if (this.#ticking) throw new Error("corun: a task ticked its own scheduler (drive a FakeReactor from outside the tasks it runs)");
    const run = this.#pending;
    this.#pending = [];
    this.#ticking = true;
    try {
      for (const f of run) {
        this.ticksRun++;
        f();
      }
    } finally {
      this.#ticking = false;
    }
    return run.length;
  }

  /**
   * Move the clock forward by `ms`, firing the timer and running ticks as they come due. Work
   * that needs no time runs to its end first; tasks that only poll (`yield`, `sleep(0)`) let
   * time pass after 10,000 ticks. After two million rounds of task steps at one time it throws
   * (work that never ends would otherwise hang the caller); promises settle only once it has returned.
   * A RangeError, before anything runs, if the clock would pass 2^52 ms: no sleep is timed past it.
   */
  advance(ms: number): void {
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`FakeReactor.advance(ms): ms must be a finite number >= 0 (the clock never goes back), got ${typeof ms === "number" ? ms : `${typeof ms} ${String(JSON.stringify(ms) ?? ms)}`}`);
    }
    const end = this.#now + ms;
    if (end > MAX_CLOCK) {
      // Past it no sleep is timed (each waits as sleep(Infinity) does), and the clock would
      // soon stop adding up (or reach Infinity): refused, as a start past ±2^50 is.
      throw new RangeError(`FakeReactor.advance(ms): the clock at ${this.#now} would pass 2^52 ms, the last deadline a sleep is timed for, got ${ms}`);
    }
    for (;;) {
      this.#runAtNow();
      const t = this.#timer;
      if (t === undefined || t.deadline > end) break;
      this.#fire(t);
    }
    if (end > this.#now) this.#work.reset();
    this.#now = end;
    this.#runAtNow();
  }

  /** Run ticks until none is scheduled, or until BUSY_TICKS polling ones ran in a row (then time may move on). */
  #runAtNow(): void {
    const work = new WorkBound(FakeReactor.stuckRounds);
    work.start(this.#sink?.rounds); // see CompletionSink.rounds
    for (let n = 1; this.tick() > 0; n++) {
      if (this.#countPolling()) return;
      const rounds = work.after(this.#sink?.rounds);
      if (rounds !== undefined) {
        const who = this.#sink?.runnable?.();
        throw new Error(`FakeReactor.advance(): ${n} ticks (${rounds} rounds of task steps) ran at virtual time ${this.#now} and work is still runnable that waits on nothing (work that never ends?)${who ? `: ${who}` : ""}`);
      }
    }
    this.#busy = 0;
  }

  /** Between ticks: true once BUSY_TICKS times in a row only polling tasks were left to run (the counter starts again). */
  #countPolling(): boolean {
    if (this.#pending.length === 0 || this.#pollingOnly?.() !== true) {
      this.#busy = 0;
      return false;
    }
    if (++this.#busy < BUSY_TICKS) return false;
    this.#busy = 0;
    return true;
  }

  #fire(t: { deadline: number; fire: () => void }): void {
    if (t.deadline > this.#now) this.#work.reset();
    this.#now = Math.max(this.#now, t.deadline);
    this.#timer = undefined;
    this.#busy = 0;
    t.fire();
  }

  #drive(): void {
    if (!this.#auto || this.#driving || this.closed || this.#abandoned) return;
    this.#driving = true;
    setImmediate(this.#step);
  }

  // One macrotask per round, so promise settlements interleave as they would on the real loop.
  // The clock jumps when nothing is runnable, or after BUSY_TICKS polling ticks in a row (a
  // task polling with sleep(0) would otherwise hold virtual time still for ever). Whether the
  // next tick only polls is asked before it runs, once the promise callbacks of the last one
  // have run (work they hand a task is real work).
  readonly #step = (): void => {
    this.#driving = false;
    if (this.closed) return;
    if (this.#countPolling()) {
      const t = this.#timer;
      if (t !== undefined) this.#fire(t); // then the tick runs with the sleepers it woke
    }
    if (this.tick() === 0) {
      this.#busy = 0;
      this.#work.reset(); // nothing ran: what ran at this time came to an end
      const t = this.#timer;
      if (t !== undefined) this.#fire(t);
    } else if (!this.#bound()) return;
    if (this.#pending.length > 0 || this.#timer !== undefined) this.#drive();
    else {
      this.#work.reset(); // idle: what ran at this time came to an end
      this.#armIdleCheck();
    }
  };

  /**
   * Automatic mode, after a tick: false once work has run stuckRounds rounds at one virtual
   * time (work that never ends, a task polling for what never comes) three times over. Each
   * time main gets the error (sink.runaway), so the run ends with it, as advance() throws it;
   * work that still goes on after the third is no longer driven (a test's time limit ends
   * it), so it cannot spin for ever and hold up the deadlock checks of every later run.
   */
  #bound(): boolean {
    const rounds = this.#work.after(this.#sink?.rounds);
    if (rounds === undefined) return true;
    const who = this.#sink?.runnable?.();
    const error = new Error(`FakeReactor: ${rounds} rounds of task steps ran at virtual time ${this.#now} and work is still runnable that waits on nothing (work that never ends, or a task polling for what never comes?)${who ? `: ${who}` : ""}`);
    // Not while a task waits on a promise or I/O: it may end the work from outside.
    if (this.#sink?.runaway?.(error) !== true) return true;
    if (++this.#work.reports > 2) {
      this.#abandoned = true;
      return false;
    }
    return true;
  }

  /**
   * Idle: nothing to run, no deadline. Tasks may wait on something from outside (a promise, I/O,
   * a `Scheduler.spawn`), or on each other for ever. After `deadlockTimeout` real ms with no
   * tick, the scheduler is asked to raise a deadlock if that is what it is (a hang otherwise).
   * Unref'd: a process with nothing else alive exits as it would have.
   */
  #armIdleCheck(): void {
    if (this.#idleCheck !== undefined || this.closed || this.#idleMs === Infinity) return;
    // Ticks of every run in the process: a task of another run (sharing a channel, an event)
    // may yet wake one of ours, so a run stays idle only while no scheduler anywhere ticks.
    const ticks = ticksEverywhere.count;
    this.#idleCheck = setTimeout(() => {
      this.#idleCheck = undefined;
      if (this.closed || this.#pending.length > 0 || this.#timer !== undefined) return; // busy again: its next idle step arms a new check
      if (ticksEverywhere.count !== ticks || this.#sink?.stuck?.() !== true) this.#armIdleCheck();
    }, this.#idleMs);
    (this.#idleCheck as { unref?: () => void }).unref?.();
  }
}
