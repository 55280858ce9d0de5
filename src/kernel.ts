/**
 * The kernel: ready queue, submission queue, completion queue and the tick loop.
 * One tick = timers due → completions → one step per ready task (within a budget) →
 * submit this tick's suspending syscalls as one batch, grouped by op → arm one host timer.
 * Imports no Bun API: the host is reached only through the Reactor interface.
 */
import { Op, Syscall, describe } from "./syscall.ts";
import { Flag, Resume, Task } from "./task.ts";
import { Cancelled } from "./errors.ts";
import { TimerQueue, type Bucket } from "./timers.ts";
import { isThenable } from "./syscalls.ts";
import type { Co } from "./types.ts";
import type { CompletionSink, Reactor, Ticket } from "./reactor/reactor.ts";
import * as handlers from "./handlers.ts";
import { IoTicket } from "./io-ticket.ts";
import { endTask, type EndHooks } from "./lifecycle.ts";

/** Steps a task may take through synchronous syscalls before it is put back in the queue. */
const SYNC_LIMIT = 10_000;

let nextKernelId = 1;
let nextTaskId = 1;

export class Kernel implements CompletionSink {
  readonly id = nextKernelId++;
  readonly reactor: Reactor;
  readonly budget: number;
  /** Tasks to step next tick, in order. The tick swaps it with `spare`, so stepping is a plain array walk. */
  ready: Task<unknown>[] = [];
  /** The emptied array of the last tick, reused. */
  spare: Task<unknown>[] = [];
  readonly timers = new TimerQueue<Task<unknown>>();
  /** Sleeps submitted this tick: the task and the wait generation it suspended with. */
  sqSleep: Task<unknown>[] = [];
  sqSleepGen: number[] = [];
  /** When each queued sleep started: the first clock reading after its yield (see #stampSleeps). */
  sqSleepAt: number[] = [];
  /** I/O submissions of this tick. */
  sqIo: IoTicket[] = [];
  /** Completion queue: ticket, is-error, value triples filled by the reactor. */
  cq: unknown[] = [];
  /** The drained completion array, reused as the next one. */
  cqSpare: unknown[] = [];
  now = 0;
  tickScheduled = false;
  closed = false;
  armedDeadline: number | undefined = undefined;
  /**
   * Tasks in creation order: every alive one, plus ended ones not swept out yet. An ended task
   * stays until more than half are ended, then one pass drops them all: O(1) amortised per
   * task and no per-task index field.
   */
  #tasks: Task<unknown>[] = [];
  /** How many tasks are alive (not ended). */
  aliveCount = 0;
  /** Failed tasks nobody has joined yet. */
  readonly unobserved = new Set<Task<unknown>>();
  hooks: EndHooks | undefined = undefined;
  /** Set once main has ended: new tasks are cancelled before they start. */
  draining = false;

  // stats
  ticks = 0;
  steps = 0;
  spawned = 0;
  readonly counts: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
  /** I/O syscalls by op name (a plain record: cheaper per op than a Map's get and set). */
  readonly ioCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  maxBatch = 0;
  batches = 0;
  batched = 0;
  timersArmed = 0;

  constructor(reactor: Reactor, budget: number) {
    this.reactor = reactor;
    this.budget = budget;
    reactor.attach(this);
    this.now = reactor.now();
  }

  /** Create a task and queue its first step for a later tick. */
  newTask<T>(gen: Co<T>, name: unknown, parent: Task<unknown> | undefined): Task<T> {
    const task = new Task<T>(nextTaskId++, name, gen, this, parent, this.now);
    this.spawned++;
    this.#tasks.push(task as Task<unknown>);
    this.aliveCount++;
    if (this.draining) {
      task.flags |= Flag.CancelRequested;
      task.flags |= Flag.Throw;
      task.value = new Cancelled(task as Task<unknown>);
    }
    this.ready.push(task as Task<unknown>);
    this.wake();
    return task;
  }

  /** A task ended: count it, and sweep the ended ones out once they are the majority. */
  taskEnded(): void {
    this.aliveCount--;
    const all = this.#tasks;
    if (all.length < 64 || this.aliveCount * 2 >= all.length) return;
    let n = 0;
    for (let i = 0; i < all.length; i++) if (!all[i]!.ended) all[n++] = all[i]!;
    all.length = n;
  }

  /** The alive tasks, oldest first. */
  aliveTasks(): Task<unknown>[] {
    return this.#tasks.filter((t) => !t.ended);
  }

  /** Make sure a tick will run. */
  wake(): void {
    if (!this.tickScheduled && !this.closed) {
      this.tickScheduled = true;
      this.reactor.schedule(this.tick);
    }
  }

  /** Resume a suspended task if `gen` is still its current suspension. True if it was. */
  resume(task: Task<unknown>, gen: number, mode: Resume, value: unknown): boolean {
    if (task.waitGen !== gen || task.state !== "waiting") return false;
    this.unsuspend(task, mode, value);
    this.wake();
    return true;
  }

  /**
   * End a task's suspension (its undo already run or not needed) and queue it to resume with
   * `value`, or by throwing it. The one place a suspension is taken down: every wake-up path
   * (completion, waker, timer, cancel) comes through here.
   */
  unsuspend(task: Task<unknown>, mode: Resume, value: unknown): void {
    task.waitGen++;
    task.undo = undefined;
    task.waitingOn = undefined;
    task.flags = mode === Resume.Throw ? task.flags | Flag.Throw : task.flags & ~Flag.Throw;
    task.value = value;
    task.state = "ready";
    this.ready.push(task);
  }

  // CompletionSink: the reactor reports I/O results; they are handled at the next tick.
  complete(ticket: Ticket, value: unknown): void {
    this.cq.push(ticket, false, value);
    this.wake();
  }
  fail(ticket: Ticket, error: unknown): void {
    this.cq.push(ticket, true, error);
    this.wake();
  }

  readonly onTimer = (): void => {
    this.armedDeadline = undefined;
    this.wake();
  };

  // Called during the tick's first phase: the tick itself steps the sleeper, no wake needed.
  readonly #wakeSleeper = (task: Task<unknown>): void => this.unsuspend(task, Resume.Next, undefined);

  // ─── The tick ───────────────────────────────────────────────────────────────
  readonly tick = (): void => {
    this.tickScheduled = false;
    if (this.closed) return;
    const now = (this.now = this.reactor.now());
    this.ticks++;

    // Phase 1: timers first (smol's rule), then the completion queue.
    if (this.timers.size > 0) this.timers.expire(now, this.#wakeSleeper);
    if (this.cq.length > 0) this.#drainCompletions();

    // Phase 2: one step for each task ready now; tasks readied during this phase wait a tick.
    const stepping = this.ready;
    this.ready = this.spare;
    let n = stepping.length;
    if (n > this.budget) n = this.budget;
    for (let i = 0; i < n; i++) {
      this.step(stepping[i]!);
      if ((i & 255) === 255) this.#stampSleeps();
    }
    this.#stampSleeps();
    if (n < stepping.length) {
      // Over budget: the rest run first next tick, ahead of the tasks readied during this one.
      this.ready = stepping.slice(n).concat(this.ready);
    }
    stepping.length = 0;
    this.spare = stepping;

    // Phase 3: this tick's host syscalls as one batch, grouped by op: sleeps into the deadline
    // queue (timed from now, the end of the tick: never early), I/O to the reactor in one call.
    const batch = this.sqSleep.length + this.sqIo.length;
    if (batch > 0) {
      this.batches++;
      this.batched += batch;
      if (batch > this.maxBatch) this.maxBatch = batch;
      if (this.sqSleep.length > 0) handlers.submitSleeps(this);
      if (this.sqIo.length > 0) handlers.submitIo(this);
    }

    // Phase 4: one host timer for the earliest deadline; another tick if work is ready.
    this.#armTimer();
    if (this.ready.length > 0) this.wake();
  };

  /**
   * Give the sleeps queued since the last reading the clock's time now. Read every 256 steps,
   * so a sleep starts at most 256 steps after its yield (late by that, never early) instead of
   * at the end of a long tick.
   */
  #stampSleeps(): void {
    const at = this.sqSleepAt;
    const queued = this.sqSleep.length;
    if (at.length === queued) return;
    const now = this.reactor.now();
    for (let j = at.length; j < queued; j++) at.push(now);
  }

  #drainCompletions(): void {
    const cq = this.cq;
    this.cq = this.cqSpare; // completions that arrive meanwhile go to the other array
    for (let i = 0; i < cq.length; i += 3) {
      const t = cq[i] as IoTicket;
      this.resume(t.task, t.gen, cq[i + 1] ? Resume.Throw : Resume.Next, cq[i + 2]);
    }
    cq.length = 0;
    this.cqSpare = cq;
  }

  #armTimer(): void {
    const next = this.timers.next;
    if (next === undefined) {
      if (this.armedDeadline !== undefined) {
        this.reactor.clearTimer();
        this.armedDeadline = undefined;
      }
    } else if (this.armedDeadline === undefined || next < this.armedDeadline) {
      this.armedDeadline = next;
      this.timersArmed++;
      this.reactor.setTimer(next, this.onTimer);
    }
  }

  // ─── One step: run a task until it suspends, yields, or ends ─────────────────
  step(task: Task<unknown>): void {
    this.steps++;
    task.state = "running";
    task.flags |= Flag.Started;
    const gen = task.gen;
    let mode: Resume = (task.flags & Flag.Throw) !== 0 ? Resume.Throw : Resume.Next;
    let value = task.value;
    task.flags &= ~Flag.Throw;
    task.value = undefined;
    for (let sync = 0; ; sync++) {
      let r: IteratorResult<unknown, unknown>;
      try {
        r = mode === Resume.Next ? gen.next(value) : gen.throw(value);
      } catch (error) {
        endTask(this, task, error, true);
        return;
      }
      if (r.done === true) {
        endTask(this, task, r.value, false);
        return;
      }
      const y = r.value;
      mode = Resume.Next;
      value = undefined;
      if ((task.flags & Flag.CancelPending) !== 0) {
        // A cancel that arrived while this task held a delivered value: raised at this yield.
        task.flags &= ~Flag.CancelPending;
        mode = Resume.Throw;
        value = new Cancelled(task);
        continue;
      }
      if (y === undefined) {
        task.state = "ready";
        this.ready.push(task);
        return;
      }
      if (y instanceof Syscall) {
        this.counts[y.code]!++;
        switch (y.code) {
          case Op.Current:
            value = task;
            break;
          case Op.Sleep:
            if ((y.a as number) <= 0) {
              task.state = "ready";
              this.ready.push(task);
              return;
            }
            task.state = "waiting";
            task.waitingOn = y;
            this.sqSleep.push(task);
            this.sqSleepGen.push(task.waitGen);
            return;
          case Op.Io:
            handlers.countIo(this, y.op);
            task.state = "waiting";
            task.waitingOn = y;
            this.sqIo.push(new IoTicket(y, task));
            return;
          default: {
            // spawn, join, cancel, wait, suspend: handled in place; they may suspend.
            const out = handlers.immediate(this, task, y);
            if (out === handlers.SUSPENDED) return;
            if (out instanceof handlers.Thrown) {
              mode = Resume.Throw;
              value = out.error;
            } else value = out;
          }
        }
      } else if (isThenable(y)) {
        handlers.waitFor(this, task, y, undefined);
        return;
      } else {
        mode = Resume.Throw;
        value = new TypeError(
          `${task} yielded ${describe(y)}, which is not a syscall, a promise or undefined (did you mean yield* ?)`,
        );
      }
      if (sync >= SYNC_LIMIT) {
        // Fairness: a long run of synchronous syscalls goes back to the queue.
        if (mode === Resume.Throw) task.flags |= Flag.Throw;
        task.value = value;
        task.state = "ready";
        this.ready.push(task);
        return;
      }
    }
  }

  /** Take back a cancelled suspension: run its undo, withdraw its I/O, or leave its timer bucket. */
  takeBack(undo: unknown): void {
    if (typeof undo === "function") (undo as () => void)();
    else if (undo instanceof IoTicket) this.reactor.cancel(undo);
    else this.timers.remove(undo as Bucket<Task<unknown>>);
  }
}
