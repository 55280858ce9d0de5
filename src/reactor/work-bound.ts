/**
 * WorkBound: how a self-driving virtual clock (FakeReactor in automatic mode) tells work that
 * never ends from work that is long: the rounds of task steps run at one virtual time, counted
 * from when the clock last moved or the run last went idle. Imports nothing.
 */

/**
 * Counts work at one virtual time. `after(rounds)` is called after each tick with the sink's
 * round count (undefined if it keeps none: ticks are counted then) and returns the rounds run
 * once they reach `limit` (the count then starts again), else undefined; `reset()` when the
 * clock moves or the run goes idle.
 *
 * @example
 * ```ts
 * const bound = new WorkBound(2_000_000);
 * const over = bound.after(sink.rounds); // a number once two million rounds ran at this time
 * ```
 */
export class WorkBound {
  readonly #limit: number;
  #ticks = 0;
  #roundsFrom: number | undefined = undefined;
  /** Times the bound was reached at this virtual time and the error raised (see FakeReactor). */
  reports = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The clock moved, or the run went idle: what ran at this time came to an end. */
  reset(): void {
    this.start(undefined);
    this.reports = 0;
  }

  /** Count from `now` (the sink's rounds before the first tick; undefined: from the next `after`). */
  start(now: number | undefined): void {
    this.#ticks = 0;
    this.#roundsFrom = now;
  }

  /** After a tick: the rounds run at this time once they reach the limit (the count starts again), else undefined. */
  after(now: number | undefined): number | undefined {
    this.#roundsFrom ??= now;
    const ticks = ++this.#ticks;
    // A tick is at least one round, whatever a sink says (one that counts none, or a copy of the count that never moves).
    const rounds = now !== undefined && this.#roundsFrom !== undefined ? Math.max(ticks, now - this.#roundsFrom) : ticks;
    if (rounds < this.#limit) return undefined;
    this.#ticks = 0;
    this.#roundsFrom = now;
    return rounds;
  }
}
