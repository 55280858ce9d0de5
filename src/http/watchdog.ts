/**
 * Watchdog: coarse deadlines for many connections at once (header-read and request timeouts)
 * without one timer or task per connection — one reaper task ticks every `granularity` ms and
 * fires the deadlines of that tick's bucket. Built on sleep and spawn only; no Bun API.
 */
import { join, sleep, spawn } from "../syscalls.ts";
import type { Co } from "../types.ts";
import { Cancelled } from "../errors.ts";
import { Flag, type Task } from "../task.ts";
import { TickClock } from "./tick-clock.ts";

/** How often a reaper that was cancelled with deadlines still armed looks whether any is left (ms). */
const WIND_DOWN_MS = 5;

/** A deadline armed on a watchdog; disarm it with `watchdog.disarm(entry)`. */
export interface Deadline {
  /** Set when the deadline passed (before `onExpire` ran). */
  expired: boolean;
  /** @internal set by `disarm`: a reaper already holding this deadline skips it. */
  disarmed: boolean;
  /** @internal the reaper tick it fires at. */
  at: number;
  /** @internal what to do when it passes (runs in the reaper task). */
  onExpire: () => Co<void> | void;
}

/**
 * A set of deadlines served by one reaper task. A deadline of `ms` fires between `ms` and
 * `ms + granularity` after it was armed (never early). The reaper starts on the first `arm`
 * and ends when no deadline is left, so an idle watchdog keeps no timer.
 */
export class Watchdog {
  readonly #granularity: number;
  readonly #name: string;
  readonly #clock: TickClock;
  /** The last tick whose deadlines were fired. */
  #fired = 0;
  #count = 0;
  readonly #reaper: OnDemandTask;
  readonly #buckets = new Map<number, Set<Deadline>>();
  /** Expiry actions started and not ended yet. */
  readonly #actions = new Set<Task<unknown>>();
  /** Expiry actions whose task was cancelled before its first step (the drain): the reaper starts them again. */
  readonly #orphans: Co<void>[] = [];

  constructor(granularity: number, name: string) {
    this.#granularity = granularity;
    this.#clock = new TickClock(granularity);
    this.#name = name;
    this.#reaper = new OnDemandTask(name);
  }

  /** Deadlines armed now. */
  get size(): number {
    return this.#count;
  }

  /**
   * Arm a deadline `ms` from now; `onExpire` runs in the reaper task (it may yield). Plain
   * (not a coroutine) so the hot path allocates no generator: call `yield* watchdog.start()`
   * after it while `running` is false.
   */
  arm(ms: number, onExpire: () => Co<void> | void): Deadline {
    const at = this.#clock.tick + Math.ceil(ms / this.#granularity) + 1;
    const d: Deadline = { expired: false, disarmed: false, at, onExpire };
    let bucket = this.#buckets.get(at);
    if (bucket === undefined) this.#buckets.set(at, (bucket = new Set()));
    bucket.add(d);
    this.#count++;
    return d;
  }

  /** True while the reaper task is alive. */
  get running(): boolean {
    return this.#reaper.running;
  }

  /** Start the reaper task if it is not running (it ends by itself when no deadline is left). */
  *start(): Co<void> {
    if (this.#count > 0) yield* this.#reaper.start(() => this.#reap());
  }

  /** Disarm a deadline (harmless if it already fired or was disarmed). */
  disarm(d: Deadline): void {
    d.disarmed = true;
    const bucket = this.#buckets.get(d.at);
    if (bucket !== undefined && bucket.delete(d)) {
      this.#count--;
      if (bucket.size === 0) this.#buckets.delete(d.at);
    }
  }

  *#reap(): Co<void> {
    const clock = this.#clock;
    const run = yield* clock.start();
    // A cancel (the run winding down, or the task whose cleanup started this reaper ending)
    // while deadlines are armed: they are another cleanup's, which waits on them, so the reaper
    // goes on firing them and ends once none is left, checking every WIND_DOWN_MS meanwhile.
    // It also ends only after the expiry actions it started: while run() winds down they are
    // its helpers, which would be cancelled, unstarted, if it ended first.
    let cancelled: Cancelled | undefined;
    /** Just cancelled: the tasks cancelled with it (in the same drain) disarm theirs in this tick, so look again after it first. */
    let fresh = false;
    try {
      while (this.#count > 0 || this.#actions.size > 0 || this.#orphans.length > 0) {
        try {
          if (this.#orphans.length > 0) {
            // Started again, each in a task of its own (then the reaper's helper: it runs).
            yield* this.#launch(this.#orphans.splice(0));
            continue;
          }
          if (this.#count === 0) {
            yield* this.#settle();
            continue;
          }
          const wait = cancelled === undefined ? this.#granularity : fresh ? 0 : Math.min(this.#granularity, WIND_DOWN_MS);
          fresh = false;
          yield* sleep(wait);
          // Every tick that passed (more than one if this wake-up came late: a busy event loop),
          // from the last one fired (a reaper cut short in its catching up left the rest to the next).
          const now = cancelled === undefined ? clock.advance() : clock.tick;
          while (this.#fired < now && this.#count > 0) yield* this.#fire(++this.#fired);
        } catch (error) {
          cancelled = firstCancel(error, cancelled);
          fresh = true;
        }
      }
    } finally {
      // Nothing left to fire up to now: a later reaper need not walk the idle ticks.
      if (this.#count === 0) this.#fired = Math.max(this.#fired, clock.tick);
      clock.stop(run); // unless a new reaper has started it again (this one was cancelled)
    }
  }

  /** Fire the deadlines due at `tick`. A cancel raised meanwhile is passed on once every one has fired. */
  *#fire(tick: number): Co<void> {
    const due = this.#buckets.get(tick);
    if (due === undefined) return;
    this.#buckets.delete(tick);
    this.#count -= due.size;
    const actions: Co<void>[] = [];
    for (const d of due) {
      if (d.disarmed) continue;
      d.expired = true;
      try {
        const r = d.onExpire();
        if (r !== undefined) actions.push(r);
      } catch {
        // a failing expiry action must not stop the reaper
      }
    }
    yield* this.#launch(actions);
  }

  /**
   * Start each action in a task of its own, so thousands of deadlines passing at once are
   * handled together, not one after another. A cancel held back for the reaper is raised at a
   * spawn instead of it: that one is made again, and the cancel passed on once all are started.
   * An action whose task the drain cancels before its first step is started again (`#orphans`).
   */
  *#launch(actions: Co<void>[]): Co<void> {
    let cancelled: Cancelled | undefined;
    for (let i = 0; i < actions.length; ) {
      const r = actions[i]!;
      try {
        const { task, began } = yield* spawnNoting(() => quietly(r), `${this.#name} expiry`);
        i++;
        const live = this.#actions;
        const orphans = this.#orphans;
        live.add(task);
        task.onEnd(() => {
          live.delete(task);
          if (!began.yes) orphans.push(r);
        });
      } catch (error) {
        cancelled = firstCancel(error, cancelled);
      }
    }
    if (cancelled !== undefined) throw cancelled;
  }

  /** Wait for one expiry action still running to end (its outcome is its own: quietly() keeps only a cancel). */
  *#settle(): Co<void> {
    const t = this.#actions.values().next().value;
    if (t === undefined) return;
    try {
      yield* join(t);
    } catch (error) {
      // The action's own Cancelled is no concern of the reaper's; the reaper's own is passed on.
      if (error instanceof Cancelled && error.task !== t) throw error;
    }
  }
}

/**
 * Spawn `body` as a task named `name`, with a record of whether its body began: a task the
 * drain cancels before its first step never runs it (its generator is thrown into unstarted).
 */
function* spawnNoting(body: () => Co<void>, name: string): Co<{ task: Task<unknown>; began: { yes: boolean } }> {
  const began = { yes: false };
  const task = yield* spawn(function* () {
    began.yes = true;
    yield* body();
  }, { name });
  return { task, began };
}

/** `error` if it is the first Cancelled of a task that goes on and passes it on later; anything else is rethrown. */
function firstCancel(error: unknown, held: Cancelled | undefined): Cancelled {
  if (!(error instanceof Cancelled) || held !== undefined) throw error;
  return error;
}

/** Run an expiry action, ignoring its failure (the socket it closes may be gone already). */
function* quietly(action: Co<void>): Co<void> {
  try {
    yield* action;
  } catch (error) {
    if (error instanceof Cancelled) throw error;
  }
}

/**
 * At most one background task at a time, started on demand (a reaper). `running` is read
 * from the task itself, not from a flag its body keeps: a task cancelled before its first step
 * (the end of a run) never runs that body.
 *
 * @example
 * ```ts
 * const reaper = new OnDemandTask("http-client-idle");
 * if (!reaper.running) yield* reaper.start(() => reap());
 * ```
 */
export class OnDemandTask {
  readonly #name: string;
  #task: Task<unknown> | undefined = undefined;
  /** Inside `start()`'s spawn (the spawner gets the task a step later if the spawn is not answered in place). */
  #starting = false;

  constructor(name: string) {
    this.#name = name;
  }

  /** True while the task is alive (or being started), unless it was cancelled before its first step: it will not run. */
  get running(): boolean {
    const t = this.#task;
    return this.#starting || (t !== undefined && !t.ended && (t.flags & (Flag.Started | Flag.CancelRequested)) !== Flag.CancelRequested);
  }

  /**
   * Start `body` as the task unless one is running, and let it take its first step: a task
   * cancelled before that (run() winding down in this very tick) never runs its body, so it is
   * started again (then it helps the caller's cleanup, and runs).
   */
  *start(body: () => Co<void>): Co<void> {
    // The caller's own cancel raised at the wait below (the same drain) is passed on only once
    // the task has begun: other cleanups may rely on it, having seen it running.
    let cancelled: Cancelled | undefined;
    for (let tries = 0; tries < 3 && !this.running; tries++) {
      let began: { yes: boolean };
      this.#starting = true;
      try {
        ({ task: this.#task, began } = yield* spawnNoting(body, this.#name));
      } finally {
        this.#starting = false; // started, or not at all (an error raised at that yield)
      }
      try {
        yield* sleep(0); // it was queued first: it steps before the caller goes on
      } catch (error) {
        cancelled = firstCancel(error, cancelled);
      }
      if (began.yes) break;
    }
    if (cancelled !== undefined) throw cancelled;
  }
}
