/**
 * BunReactor: the only place corun touches the host. Ticks run on `setImmediate` (once per
 * event-loop turn), all sleepers share one `setTimeout`, and I/O ops are handed, a tick's
 * batch at a time, to the driver registered for them.
 */
import type { CompletionSink, Reactor, Submission, Ticket } from "./reactor.ts";

/** The longest delay setTimeout honours. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * A driver for a family of I/O ops (sockets, files...): gets its ops' share of each batch.
 *
 * @example
 * ```ts
 * import { run, io, BunReactor, type IoDriver } from "corun";
 * const echo: IoDriver = {
 *   submit(batch, sink) { for (const t of batch) sink.complete(t, t.a); },
 *   cancel() {},
 *   close() {},
 * };
 * BunReactor.register(["echo"], () => echo);
 * console.log(await run(() => io<number>("echo", 42))); // 42
 * ```
 */
export interface IoDriver {
  /** Start these submissions; report each through `sink`. */
  submit(batch: readonly Submission[], sink: CompletionSink): void;
  /** Forget a submission whose task was cancelled. */
  cancel(ticket: Ticket): void;
  /** Release everything this driver opened; a promise if that finishes later (see `Reactor.close`). */
  close(): void | Promise<void>;
}

/**
 * Makes the driver for a reactor; registered per op name with `BunReactor.register`.
 *
 * @example
 * ```ts
 * import { BunReactor, type DriverFactory } from "corun";
 * // One driver per reactor (so per run()): it completes every "clock.now" op with the time.
 * const clock: DriverFactory = () => ({ submit: (batch, sink) => batch.forEach((t) => sink.complete(t, Date.now())), cancel() {}, close() {} });
 * BunReactor.register(["clock.now"], clock);
 * ```
 */
export type DriverFactory = () => IoDriver;

const factories = new Map<string, DriverFactory>();

/**
 * The reactor on Bun's event loop. `run()` uses one by default.
 *
 * @example
 * ```ts
 * import { Scheduler, BunReactor } from "corun";
 * const s = new Scheduler({ reactor: new BunReactor() });
 * ```
 */
export class BunReactor implements Reactor {
  #sink: CompletionSink | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #drivers = new Map<DriverFactory, IoDriver>();
  #byOp = new Map<string, IoDriver>();
  #closed = false;
  /** `beforeExit` is listened to (from the run's first tick until it closes). */
  #listening = false;
  /** Ticks asked for so far: whether the run did anything between two `beforeExit`s. */
  #ticks = 0;
  /** `#ticks` at a `beforeExit` whose emptiness waits to be confirmed by the next (-1: none). */
  #emptyAt = -1;
  /**
   * Bun's event loop has emptied: no timer, socket or pending work is left to wake a task. A
   * run whose tasks all wait on one another is then deadlocked: each gets the DeadlockError
   * (the kernel's check), its run settles, and the process goes on to exit. Confirmed first: one
   * more turn of the loop, so that what other `beforeExit` listeners start (a timer that will
   * wake a task) runs before the check, which happens only if the loop empties again with no
   * tick between. Not raised again for the same tasks on the same waits (they caught it and
   * wait again: the process exits, as it would have anyway), so nothing spins.
   */
  readonly #onLoopEmpty = (): void => {
    if (this.#closed) return;
    if (this.#emptyAt !== this.#ticks) {
      this.#emptyAt = this.#ticks;
      setImmediate(noop);
      return;
    }
    this.#emptyAt = -1;
    this.#sink?.stuck?.(false);
  };

  /** Register the driver for `ops` (done by I/O modules when they load). */
  static register(ops: readonly string[], factory: DriverFactory): void {
    // A string would be taken letter by letter ("xyz" as ops "x", "y", "z").
    if (!Array.isArray(ops) || ops.some((op) => typeof op !== "string" || op === "")) {
      throw new TypeError(`BunReactor.register(ops, factory): ops must be an array of op names (non-empty strings), got ${typeof ops === "string" ? JSON.stringify(ops) : Array.isArray(ops) ? "an array holding something else" : typeof ops}`);
    }
    if (typeof factory !== "function") throw new TypeError(`BunReactor.register(ops, factory): factory must be a function returning a driver { submit, cancel, close }, got ${typeof factory}`);
    for (const op of ops) factories.set(op, factory);
  }

  now(): number {
    return performance.now();
  }

  schedule(tick: () => void): void {
    this.#ticks++;
    if (!this.#listening && !this.#closed) {
      // From the run's first tick, not at attach: a Scheduler never run must not be kept by a listener.
      this.#listening = true;
      process.on("beforeExit", this.#onLoopEmpty);
    }
    setImmediate(tick);
  }

  setTimer(deadline: number, fire: () => void): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // setTimeout takes at most 2^31 - 1 ms (a longer delay fires at once): a far deadline is
    // reached in steps, the kernel re-arming each time the timer fires early.
    const delay = Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.ceil(deadline - performance.now())));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      fire();
    }, delay);
  }

  clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  attach(sink: CompletionSink): void {
    if (this.#closed) throw new Error("BunReactor: this reactor was closed (its run() ended); make a new one for each Scheduler");
    if (this.#sink !== undefined) throw new Error("BunReactor: this reactor already serves a Scheduler; make a new one for each");
    this.#sink = sink;
  }

  submit(batch: readonly Submission[]): void {
    const sink = this.#sink!;
    // Usually one driver takes the whole tick (all TCP, say): hand it the batch as it is.
    const first = this.#driverFor(batch[0]!.op);
    const one = first instanceof Error ? undefined : first;
    let i = 1;
    while (i < batch.length && one !== undefined && this.#byOp.get(batch[i]!.op) === one) i++;
    if (i === batch.length && one !== undefined) return submitTo(one, batch, sink);
    // Group by driver, so each driver sees its whole share of the tick at once.
    const groups = new Map<IoDriver, Submission[]>();
    for (const t of batch) {
      const driver = this.#driverFor(t.op);
      if (driver === undefined || driver instanceof Error) {
        sink.fail(t, driver ?? new TypeError(`task "${t.taskName}" yielded I/O op "${t.op}", which no loaded driver handles`));
        continue;
      }
      const g = groups.get(driver);
      if (g) g.push(t);
      else groups.set(driver, [t]);
    }
    for (const [driver, group] of groups) submitTo(driver, group, sink);
  }

  cancel(ticket: Ticket): void {
    this.#byOp.get(ticket.op)?.cancel(ticket);
  }

  close(): void | Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#listening) process.off("beforeExit", this.#onLoopEmpty);
    this.clearTimer();
    const later: Promise<void>[] = [];
    for (const d of this.#drivers.values()) {
      try {
        const p = d.close();
        if (p !== undefined) later.push(p);
      } catch (error) {
        later.push(Promise.reject(error)); // one driver failing must not keep the others open
      }
    }
    this.#drivers.clear();
    this.#byOp.clear();
    if (later.length === 0) return;
    // Every driver finishes first (file bytes in flight land); then the first error, if any.
    return Promise.allSettled(later).then((results) => {
      const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} drivers failed to close cleanly`);
    });
  }

  /** The driver for `op` (made on first use), undefined if none is registered, or the error its factory gave (its ops fail with it; the others go on). */
  #driverFor(op: string): IoDriver | Error | undefined {
    let d = this.#byOp.get(op);
    if (d !== undefined) return d;
    const factory = factories.get(op);
    if (factory === undefined) return undefined;
    d = this.#drivers.get(factory);
    if (d === undefined) {
      let made: unknown;
      try {
        made = factory();
      } catch (error) {
        return error instanceof Error ? error : new Error(`BunReactor: the driver factory for I/O op "${op}" threw ${String(error)}`);
      }
      const m = made as Partial<IoDriver> | null;
      if (m === null || typeof m !== "object" || typeof m.submit !== "function" || typeof m.cancel !== "function" || typeof m.close !== "function") {
        return new TypeError(`BunReactor: the driver factory registered for I/O op "${op}" returned ${m === null ? "null" : typeof m === "object" ? "an object without all of submit, cancel and close" : typeof m}, not a driver { submit, cancel, close }`);
      }
      d = m as IoDriver;
      this.#drivers.set(factory, d);
    }
    this.#byOp.set(op, d);
    return d;
  }
}

function noop(): void {}

/**
 * Hand `driver` its share of a tick. A driver that throws fails its own share only, not the
 * other drivers' (a read on another socket goes on): each of its ops is withdrawn from it
 * first, since one it took before it threw (a read) would otherwise take data no task sees.
 */
function submitTo(driver: IoDriver, share: readonly Submission[], sink: CompletionSink): void {
  try {
    driver.submit(share, sink);
  } catch (error) {
    for (const t of share) {
      try {
        driver.cancel(t);
      } catch {
        // it failed already; its task gets the first error
      }
      sink.fail(t, error);
    }
  }
}
