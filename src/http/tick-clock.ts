/**
 * TickClock: a reaper's clock in whole ticks of `granularity` ms, read from its scheduler's
 * clock, so a reaper whose sleeps end late (a busy event loop) catches up instead of counting
 * each late wake-up as one tick. Built on `current()` only.
 */
import type { Co } from "../types.ts";
import { current } from "../syscalls.ts";

/** What the clock reads: a scheduler's time in ms. */
interface TimeSource {
  clock(): number;
}

/**
 * Ticks since a reaper's start, from its scheduler's clock. `tick` never goes back, and a
 * reaper's `advance()` after each `sleep(granularity)` moves it at least one tick.
 *
 * @example
 * ```ts
 * const clock = new TickClock(10);
 * const run = yield* clock.start();     // in the reaper task; clock.stop(run) as it ends
 * for (let last = clock.tick; ; ) { yield* sleep(10); const now = clock.advance(); while (last < now) fire(++last); }
 * ```
 */
export class TickClock {
  readonly #granularity: number;
  #tick = 0;
  #source: TimeSource | undefined = undefined;
  #t0 = 0;
  #tick0 = 0;
  /** Which reaper's `start()` the clock runs for (a cancelled reaper may end after its successor started). */
  #run = 0;

  constructor(granularity: number) {
    this.#granularity = granularity;
  }

  /** The tick now: from the clock while a reaper runs (the time passed counts, not its wake-ups). */
  get tick(): number {
    const s = this.#source;
    if (s === undefined) return this.#tick;
    return Math.max(this.#tick, this.#tick0 + Math.floor((s.clock() - this.#t0) / this.#granularity));
  }

  /** The reaper task starts: ticks count from its scheduler's clock from now on. Returns what to give `stop()`. */
  *start(): Co<number> {
    const source = (yield* current()).owner;
    this.#tick = this.tick; // a reaper ending meanwhile has not stopped it yet: the ticks so far are kept
    this.#source = source;
    this.#t0 = source.clock();
    this.#tick0 = this.#tick;
    return ++this.#run;
  }

  /** The reaper `run` (from its `start()`) ends (its scheduler may not be the next one's); a no-op if another started since. */
  stop(run: number): void {
    if (run !== this.#run) return;
    this.#tick = this.tick;
    this.#source = undefined;
  }

  /** After a reaper's sleep: the tick now, at least one more than the last call's (the ticks between them passed). */
  advance(): number {
    this.#tick = Math.max(this.#tick + 1, this.tick);
    return this.#tick;
  }
}
