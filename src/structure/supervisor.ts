/**
 * Internal engine of group/all/race/any/timeout: starts children in wrappers that report
 * how each ended, lets the owner wait until a policy says "stop" (or all ended), then
 * cancels the rest concurrently and waits for them. Built on spawn/join/cancel/suspend only.
 */
import { current, spawn, spawnAdopted, suspend } from "../syscalls.ts";
import { bodyOf, claimSource } from "../task-body.ts";
import { Syscall, asyncBodyError, describe } from "../syscall.ts";
import { Task } from "../task.ts";
import { keep, type Held } from "./held.ts";
import { reap, settle } from "./settle.ts";
import { UsageError, isCancelOf } from "../errors.ts";
import { cancelRaised } from "../lifecycle.ts";
import type { Co, TaskBody, Waker } from "../types.ts";
import { suspendFor } from "../timed-wait.ts";

/** What a supervisor's timed wait resumes with when its deadline passes. */
const EXPIRED: unique symbol = Symbol("expired");

/** How a child ended. `cancelled`: by someone other than this supervisor. */
export type Ending = "done" | "failed" | "cancelled";

/** Whether child `index`'s own failure is the outcome of the set (`cancelled`: the owner was cancelled while it waited). */
export type OutcomeRule = (index: number, cancelled: boolean) => boolean;

/** Decides, as each child ends, whether the owner should stop waiting now. */
export type Policy = (index: number, ending: Ending) => boolean;


/**
 * @internal A task body given to a supervised set (a group's spawn): a function, a generator
 * (or other iterator), a syscall or a task; anything else is a TypeError naming it.
 */
export function checkTaskBody(co: unknown, op: string, arg = "co"): void {
  const refused = asyncBodyError(co, `${op}(${arg})`);
  if (refused !== undefined) throw refused;
  if (co instanceof Syscall || co instanceof Task || typeof co === "function") return;
  if (co !== null && typeof co === "object" && typeof (co as Iterator<unknown>).next === "function" && !(Symbol.asyncIterator in co)) return;
  const hint = co !== null && typeof co === "object" && Symbol.asyncIterator in co ? " (an async generator: a corun task is a plain generator)" : "";
  throw new TypeError(`${op}(${arg}): expected a generator, a function returning one, a syscall or a task, got ${describe(co)}${hint}`);
}

/** @internal */
export class Supervisor {
  readonly label: string;
  readonly tasks: Task<unknown>[] = [];
  readonly endings: Ending[] = [];
  /** Children that failed (not cancelled), in the order they failed. */
  readonly failures: { task: Task<unknown>; error: unknown }[] = [];
  /** The child whose ending made the policy stop, or -1. */
  decider = -1;
  /** The wait's deadline passed before the policy stopped it (see `wait(due)`). */
  expired = false;
  /** The first child to end done, or -1 (a winner for race/any when none decided before a cancel). */
  firstDone = -1;
  /** Children that failed while being cancelled here (their cleanup threw): not part of the outcome. */
  readonly windDown = new Set<number>();
  /** Children this supervisor has sent a cancel (a failure after it is a cleanup's: `windDown`). */
  readonly #cancelSent = new WeakSet<Task<unknown>>();
  /**
   * With `runAll(…, rule)`: the first child whose failure, on its own (not in a cleanup after
   * a cancel from here was raised in it), `rule` says is the outcome, or -1. Joined, so
   * observed: the caller throws it, and anything held (the owner's cancel) is raised at its
   * next yield, as it would be had the cancel come a moment later.
   */
  lateFailure = -1;
  /** Children that failed on their own while the set still waited (before its shutdown). */
  readonly #failedOpen = new Set<Task<unknown>>();
  #policy: Policy;
  /** Each child's slot, by index: compaction (see `forget`) renumbers them. */
  readonly #slots: Slot[] = [];
  /** Children started so far (for names: indexes change once ended children are forgotten). */
  #started = 0;
  /** Ended children not to keep (done or cancelled by another task; never the first), with `forget`. */
  #forgettable = 0;
  readonly #forget: boolean;
  #live = 0;
  #open = true;
  #stopping = false;
  #waker: Waker<unknown> | undefined = undefined;
  /** The scheduler its members run on (that of the task that started the first). */
  #scheduler: object | undefined = undefined;
  readonly #waitD: Syscall<unknown>;
  readonly #setup: (w: Waker<unknown>) => () => void;

  /** `forget`: children that end done or cancelled (but the first) are dropped from `tasks` (a long-lived group). */
  constructor(label: string, policy: Policy, forget = false) {
    this.label = label;
    this.#policy = policy;
    this.#forget = forget;
    const setup = (w: Waker<unknown>) => {
      this.#waker = w;
      return () => void (this.#waker = undefined);
    };
    this.#setup = setup;
    this.#waitD = suspend(setup, label, "children");
  }

  /** Children not yet ended. */
  get live(): number {
    return this.#live;
  }

  /**
   * Start `source` as the next child. It becomes a member as the kernel creates it
   * (`spawnAdopted`), not when the spawner gets it back: a spawn not answered in place reaches
   * the spawner a tick later, and the child may run, end or need cancelling before that.
   */
  *start<T>(source: TaskBody<T>, name?: string): Co<Task<T>> {
    const me = yield* current();
    if (!this.#open) {
      const now = this.#live > 0 ? "is winding down (its children are being cancelled)" : "has ended";
      throw new UsageError(me, `${this.label}.spawn`, `the ${this.label} ${now}; it takes no new tasks`);
    }
    // Every member runs on the scheduler of the first: one of another could be neither joined nor cancelled.
    if (this.#scheduler === undefined) this.#scheduler = me.owner;
    else if (me.owner !== this.#scheduler) throw new UsageError(me, `${this.label}.spawn`, `the ${this.label} belongs to another scheduler`);
    claimSource(source, `${this.label}.spawn`);
    const slot: Slot = { index: -1 };
    const gen = wrap(this, source);
    const given = name ?? ((typeof source === "function" && source.name) || undefined);
    const adopt = (task: Task<unknown>): void => {
      slot.index = this.tasks.length;
      if (given === undefined) task._name = `${this.label}[${this.#started}]`;
      this.#started++;
      this.tasks.push(task);
      this.endings.push("done");
      this.#slots.push(slot);
      this.#live++;
      // Its ending as the kernel records it: an error raised after the body returned (one left
      // for its next yield) makes it failed, whatever the body returned.
      task.onEnd(() => this.ended(slot.index, task.state === "done", task.value));
    };
    return (yield* spawnAdopted(gen, given, adopt)) as Task<T>;
  }

  /** @internal called as a child ends (its `onEnd`: in its last step, or as it is cancelled before its first). */
  ended(index: number, ok: boolean, value: unknown): void {
    this.#live--;
    const task = this.tasks[index]!;
    let ending: Ending = "done";
    if (!ok) {
      ending = isCancelOf(value, task) ? "cancelled" : "failed";
      if (ending === "failed") {
        this.failures.push({ task, error: value });
        if (!this.#stopping) this.#failedOpen.add(task);
        // A failure after a cancel from here was raised in it is its cleanup's; one before (the
        // cancel still waiting for its next yield, or not sent yet) is its own.
        if (this.#stopping && this.#cancelSent.has(task) && cancelRaised(task)) this.windDown.add(index);
      }
    }
    this.endings[index] = ending;
    if (ending === "done" && this.firstDone < 0 && !this.#forget) this.firstDone = index;
    if (!this.#stopping && this.decider < 0 && this.#policy(index, ending)) this.decider = index;
    if (this.decider >= 0 || this.#live === 0) this.#waker?.resume(undefined);
    else if (this.#forget && !this.#stopping && ending !== "failed" && index > 0 && ++this.#forgettable > 32 && this.#forgettable * 2 > this.tasks.length) this.#compact();
  }

  /** Drop the forgettable ended children, renumbering the others (their slots follow). */
  #compact(): void {
    let n = 0;
    for (let i = 0; i < this.tasks.length; i++) {
      if (i > 0 && this.tasks[i]!.ended && this.endings[i] !== "failed") continue;
      this.tasks[n] = this.tasks[i]!;
      this.endings[n] = this.endings[i]!;
      this.#slots[n] = this.#slots[i]!;
      this.#slots[n]!.index = n;
      n++;
    }
    this.tasks.length = n;
    this.endings.length = n;
    this.#slots.length = n;
    this.#forgettable = 0;
  }

  /**
   * The whole life of a supervised set: start `children` (coroutine, optional name), wait as
   * the policy says, shut down. Returns what was thrown into the owner meanwhile (its own
   * cancel, an interrupt), the first one, or undefined: the caller rethrows it, or, if the
   * outcome was complete when it came, returns the outcome and has it raised at its next yield
   * (`finish`). The frame shared by all/race/any and timeout. `absorbs` (any): a child's own
   * failure while the set waited was taken in by the policy, so it is observed whatever the
   * owner leaves with, unless every child had failed (that is the outcome, an AggregateError).
   */
  *runAll(children: readonly (readonly [TaskBody<unknown>, string?])[], failureIsOutcome?: OutcomeRule, absorbs = false, due = Infinity): Co<Held> {
    let cancelled: unknown = undefined;
    let wasCancelled = false;
    try {
      for (const [co, name] of children) yield* this.start(co, name);
      yield* this.wait(due);
    } catch (error) {
      wasCancelled = true;
      cancelled = error;
    }
    // The outcome (the decider's error, or failures the policy swallows) is the caller's; a
    // child that failed while being cancelled is left for run() to report, and so is every
    // failure when the owner leaves with a cancel or another error of its own, but with
    // `failureIsOutcome`: then every child's own failure is joined (observed) as it would be
    // without the cancel: the outcome's (`lateFailure`) is thrown, the others go with it.
    const absorbed = absorbs && this.tasks.some((t) => !this.#failedOpen.has(t)) ? this.#failedOpen : undefined;
    const late = yield* this.shutdown((i, held) => {
      if (absorbed?.has(this.tasks[i]!)) return true;
      if (failureIsOutcome !== undefined && this.#failedOnItsOwn(i)) {
        if (this.lateFailure < 0 && failureIsOutcome(i, wasCancelled)) this.lateFailure = i;
        return true;
      }
      return !wasCancelled && held === undefined && !this.windDown.has(i);
    }, failureIsOutcome !== undefined);
    return wasCancelled ? keep(late, cancelled, true) : late;
  }

  /** Child `i` has ended failed, not in a cleanup after a cancel from here. */
  #failedOnItsOwn(i: number): boolean {
    return this.endings[i] === "failed" && this.tasks[i]!.ended && !this.windDown.has(i);
  }

  /**
   * Wait until the policy stops or every child has ended, or until `due` on the owner's clock
   * (then `expired` is set). Throws the owner's Cancelled. The deadline is one timer in the
   * kernel's deadline queue (a timed wait), not a task.
   */
  *wait(due = Infinity): Co<void> {
    while (this.decider < 0 && this.#live > 0) {
      if (due === Infinity) {
        yield this.#waitD;
        continue;
      }
      const left = due - (yield* current()).owner.clock();
      // Expired only at the end of the deadline's tick: work that finishes in it (a sender handed
      // it a value, a lock was released to it) keeps its result (see timed-wait.ts).
      if ((yield suspendFor(this.#setup, Math.max(0, left), EXPIRED, this.label, "children")) === EXPIRED) {
        this.expired = true;
        return;
      }
    }
  }

  /**
   * Close, cancel every live child (all at once), wait until all have ended, and observe the
   * failures the caller reports (`reports(index, held)`): the others stay unobserved, so `run()`
   * reports them (a race loser whose cleanup threw is not lost). Anything thrown into the
   * owner meanwhile (its own cancel, an interrupt) is held back, the first one, and returned:
   * the owner never leaves while a child still runs. `ownJoined`: a reported child's own
   * failure is joined even when something is thrown into the owner at its join.
   */
  *shutdown(reports: (index: number, held: Held) => boolean, ownJoined = false): Co<Held> {
    this.#open = false;
    this.#stopping = true;
    let held: Held = undefined;
    const live = this.tasks.filter((t) => !t.ended);
    const reapers: Task<unknown>[] = [];
    const direct: Task<unknown>[] = [];
    if (live.length > 1) {
      for (const t of live) {
        // Something thrown into the owner is raised at its next yield, before the spawn
        // happens: once (a cancel or an interrupt is raised once), so try once more; then
        // cancel that child from here instead.
        for (let attempt = 0; ; attempt++) {
          try {
            reapers.push(yield* spawn(reap(t, this.#cancelSent), { name: `cancel ${t.name}` }));
            break;
          } catch (error) {
            held = keep(held, error);
            if (attempt > 0) {
              direct.push(t);
              break;
            }
          }
        }
      }
    }
    const sent = this.#cancelSent;
    for (const t of live.length > 1 ? reapers : live) held = yield* settle(t, live.length > 1 ? "join" : "cancel", held, sent);
    for (const t of direct) held = yield* settle(t, "cancel", held, sent);
    // Wait for every child (also those whose reaper was itself cancelled, as in run()'s final
    // drain); join, and so observe, only those whose failure the caller reports.
    for (let i = 0; i < this.tasks.length; i++) {
      const join = reports(i, held);
      // An own failure (with `failureIsOutcome`) is joined even if something is thrown into the owner meanwhile.
      held = yield* settle(this.tasks[i]!, join ? "join" : "cancel", held, sent, join && ownJoined && this.#failedOnItsOwn(i));
    }
    return held;
  }
}

/** A child's index among the supervisor's tasks, set when the kernel creates it. */
interface Slot {
  index: number;
}

/** A child's body: `source`'s generator, made in the child's first step (and checked). */
function* wrap<T>(sup: Supervisor, source: TaskBody<T>): Co<T> {
  // A coroutine, or one syscall (`() => conn.read()`) or task (`() => t`), which `yield*` makes.
  return yield* bodyOf(source, sup.label, false); // start() claimed it
}
