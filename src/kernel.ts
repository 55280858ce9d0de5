/**
 * The kernel: ready queue, submission queue, completion queue and the tick loop.
 * One tick = timers due → completions → one step per ready task (step.ts; within a budget) and
 * more rounds for the tasks those steps woke → submit this tick's suspending syscalls as one
 * batch, grouped by op → a few more rounds for tasks whose I/O completed at submission → arm
 * one host timer.
 * Imports no Bun API: the host is reached only through the Reactor interface.
 */
import { swapInlineHost, type InlineHost, type Syscall } from "./syscall.ts";
import { Flag, Resume, StateCode, Task } from "./task.ts";
import { TimerQueue, type Sleeper } from "./timers.ts";
import { SleepQueue } from "./sleep-queue.ts";
import { TaskList } from "./task-list.ts";
import type { Co } from "./types.ts";
import type { CompletionSink, Reactor, Ticket } from "./reactor/reactor.ts";
import * as handlers from "./handlers.ts";
import { foreignTicket, type IoTicket } from "./io-ticket.ts";
import { bornDuringDrain, forgetEndedAncestors, observe, type EndHooks } from "./lifecycle.ts";
import { completeInline } from "./inline.ts";
import { onlyPolling, runnableNames, step } from "./step.ts";
import { KernelStats } from "./kernel-stats.ts";
import { breakDeadlock } from "./deadlock.ts";
import { ticksEverywhere } from "./tick-count.ts";


/** Rounds a tick may add for tasks whose I/O completed at submission (phase 3b). */
export const EXTRA_ROUNDS = 4;
/** Rounds a tick may add for tasks other tasks woke during it (phase 2b). */
export const WAKE_ROUNDS = 64;

let nextKernelId = 1;
let nextTaskId = 1;

export class Kernel implements CompletionSink, InlineHost {
  readonly id = nextKernelId++;
  readonly reactor: Reactor;
  readonly budget: number;
  /** Tasks to step next tick, in order. The tick swaps it with `spare`, so stepping is a plain array walk. */
  ready: Task<unknown>[] = [];
  /** The emptied array of the last tick, reused. */
  spare: Task<unknown>[] = [];
  /**
   * Tasks a tick left over its budget (from `backlogAt` on): the next ticks step them first,
   * ahead of `ready`. Kept where they are, not copied: an over-budget tick costs the same
   * whatever the backlog's length, however many ticks it takes to clear.
   */
  backlog: Task<unknown>[] | undefined = undefined;
  backlogAt = 0;
  readonly timers = new TimerQueue<Task<unknown> & Sleeper>(); // Sleeper spelled out: Task.undo is @internal, so not in the declarations
  /** Sleeps yielded this tick, submitted at its end. */
  readonly sleeps = new SleepQueue();
  /** I/O submissions of this tick. */
  sqIo: IoTicket[] = [];
  /** Completion queue: the tasks whose I/O completed (ready, with the result), in order; the drain moves them to `ready`. */
  cq: Task<unknown>[] = [];
  /** The drained completion array, reused as the next one. */
  cqSpare: Task<unknown>[] = [];
  now = 0;
  tickScheduled = false;
  closed = false;
  armedDeadline: number | undefined = undefined;
  /** The alive tasks, oldest first. */
  readonly tasks = new TaskList();
  /** Failed tasks nobody has joined yet. */
  readonly unobserved = new Set<Task<unknown>>();
  /** Failed tasks nobody has joined beyond those `unobserved` keeps (see lifecycle MAX_UNOBSERVED). */
  uncounted = 0;
  /** The last of those (its Flag.Uncounted cleared if it was joined since). */
  lastUncounted: Task<unknown> | undefined = undefined;
  /** Errors thrown by `onEnd` callbacks: no task can catch them, so `run()` reports them. */
  readonly callbackErrors: unknown[] = [];
  hooks: EndHooks | undefined = undefined;
  /** Set once main has ended: a new task is cancelled before it starts, or when the task whose cleanup it helps ends (see newTask). */
  draining = false;
  /** The first task id given out after the drain began. */
  drainFrom = Infinity;
  /** The task whose generator is running right now (inside `gen.next`), if any. */
  running: Task<unknown> | undefined = undefined;
  /** Syscalls the running task has made in a row, inline or not, in this step (see SYNC_LIMIT). */
  sync = 0;
  /** A task gave up the CPU in this tick (step.ts `requeue`): it waits in `ready` for the next, so the wake-up rounds stop. */
  gaveUp = false;
  /** CompletionSink: rounds of steps run so far (each tick's phase 2, and every further round of it that stepped tasks). */
  rounds = 0;
  /** Rounds after phase 2 that stepped tasks in the last tick: woken by a hand-off (2b), or by I/O completed at submission (3b). */
  moreRounds = 0;
  /** True while the tick steps tasks (phases 2, 2b and 3b). */
  #stepping = false;

  readonly stats = new KernelStats();

  constructor(reactor: Reactor, budget: number) {
    this.reactor = reactor;
    this.budget = budget;
    reactor.attach(this);
    this.now = reactor.now();
  }

  /** Create a task and queue its first step (after the current one: in this tick's next round, or a later tick). */
  newTask<T>(gen: Co<T>, name: unknown, parent: Task<unknown> | undefined): Task<T> {
    // In a step, the tick's clock (read at its start); from outside (run(), scheduler.spawn()), now.
    const task = new Task<T>(nextTaskId++, name, gen, this, parent, this.#stepping ? this.now : this.reactor.now());
    // While run() winds down, only ended helpers born in the drain are dropped: which task a
    // helper is tied to reads the chain above them as spawned (see bornDuringDrain).
    if (parent !== undefined) forgetEndedAncestors(parent, this.draining ? this.drainFrom : 0);
    this.stats.spawned++;
    this.tasks.add(task as Task<unknown>);
    if (this.draining) bornDuringDrain(this, task as Task<unknown>, parent);
    this.ready.push(task as Task<unknown>);
    this.wake();
    return task;
  }

  /** Main has ended: from now on the tasks left are cancelled and new ones are helpers of their cleanup. */
  beginDrain(): void {
    this.draining = true;
    this.drainFrom = nextTaskId;
  }

  /** Make sure a tick will run. */
  wake(): void {
    if (!this.tickScheduled && !this.closed) {
      this.tickScheduled = true;
      this.reactor.schedule(this.tick, this.pollingOnly);
    }
  }

  /**
   * For the reactor, between ticks: only tasks that gave up the CPU wait to run (see step.ts
   * `onlyPolling`), and the last tick stepped no task after phase 2 (one woken by a hand-off or
   * by I/O was work, though it ran in that tick and left only pollers behind).
   */
  readonly pollingOnly = (): boolean => this.moreRounds === 0 && onlyPolling(this);

  /** Resume a suspended task if `gen` is still its current suspension (queued on `queue`). True if it was. */
  resume(task: Task<unknown>, gen: number, mode: Resume, value: unknown, queue = this.ready): boolean {
    if (task.waitGen !== gen || (task.flags & (Flag.StateMask | Flag.Undoing)) !== StateCode.waiting) return false;
    this.unsuspend(task, mode, value, queue);
    this.wake();
    return true;
  }

  /**
   * End a task's suspension (its undo already run or not needed) and queue it to resume with
   * `value`, or by throwing it. The one place a suspension is taken down: every wake-up path
   * (completion, waker, timer, cancel) comes through here.
   */
  unsuspend(task: Task<unknown>, mode: Resume, value: unknown, queue = this.ready): void {
    task.waitGen++;
    task.undo = undefined;
    task.waitingOn = undefined;
    // One write: state "ready", and Flag.Throw as `mode` says.
    task.flags = (task.flags & ~(Flag.StateMask | Flag.Throw)) | StateCode.ready | (mode === Resume.Throw ? Flag.Throw : 0);
    task.value = value;
    queue.push(task);
  }

  // CompletionSink: the reactor reports I/O results. The task takes its result at once (it is
  // ready from now on, queued in `cq` until the next tick's drain), so a cancel that reaches it
  // meanwhile is raised after it has the bytes or the connection, not instead (losing them).
  // Arrow properties: a driver may hand them on detached (`setTimeout(sink.complete, ...)`).
  readonly complete = (ticket: Ticket, value: unknown): void => {
    const t = ticket as IoTicket;
    if (t?.task?.owner !== this) throw foreignTicket(ticket, "complete");
    this.resume(t.task, t.gen, Resume.Next, value, this.cq);
  };
  readonly fail = (ticket: Ticket, error: unknown): void => {
    const t = ticket as IoTicket;
    if (t?.task?.owner !== this) throw foreignTicket(ticket, "fail");
    this.resume(t.task, t.gen, Resume.Throw, error, this.cq);
  };

  readonly onTimer = (): void => {
    this.armedDeadline = undefined;
    this.wake();
  };

  /** CompletionSink: the tasks waiting to run now, for a reactor's messages (see step.ts `runnableNames`). */
  readonly runnable = (): string => runnableNames(this);

  /** CompletionSink: the reactor sat idle; a deadlock, if that is what it is, is raised (deadlock.ts). */
  readonly stuck = (again = true): boolean => breakDeadlock(this, again);

  /** TaskOwner: the host clock now (not the tick's: a long tick makes that one stale). */
  clock(): number {
    return this.reactor.now();
  }

  /** TaskOwner: a task's failure was seen through its promise. */
  observed(task: Task<unknown>): void {
    observe(this, task);
  }

  /** InlineHost: complete a kernel-only `yield*` syscall of the running task in place (see inline.ts). */
  inline(d: Syscall<unknown> | object): unknown {
    return completeInline(this, d);
  }

  // Called during the tick's first phase: the tick itself steps the sleeper, no wake needed.
  readonly #wakeSleeper = (task: Task<unknown>): void => this.unsuspend(task, Resume.Next, undefined);

  // ─── The tick ───────────────────────────────────────────────────────────────
  readonly tick = (): void => {
    if (this.#stepping) {
      // Called from inside one of this kernel's own steps (a task ticking the reactor that
      // drives it): tell the task, instead of corrupting the queues. The running tick wakes
      // the next as it ends (scheduling one here too would ask the reactor twice).
      throw new Error("corun: a task ticked its own scheduler (drive a FakeReactor from outside the tasks it runs)");
    }
    // `tickScheduled` stays set while the tick runs, so the completions and wake-ups it causes
    // do not schedule another tick each: it takes them itself (phase 3b) or wakes once at its end.
    try {
      if (!this.closed) this.#tick();
    } finally {
      this.tickScheduled = false;
      if (this.ready.length > 0 || this.backlog !== undefined || this.cq.length > 0) this.wake();
    }
  };

  #tick(): void {
    const now = (this.now = this.reactor.now());
    this.stats.ticks++;
    ticksEverywhere.count++;
    this.gaveUp = false;

    // Phase 1: timers first (smol's rule), then the completion queue.
    if (this.timers.size > 0) this.timers.expire(now, this.#wakeSleeper);
    if (this.cq.length > 0) this.#drainCompletions();

    // Phase 2: one step for each task ready now (the backlog first), within the budget.
    const fresh = this.ready;
    this.ready = this.spare;
    let used = 0;
    let over = false;
    const backlog = this.backlog;
    if (backlog !== undefined) {
      const from = this.backlogAt;
      used = Math.min(backlog.length - from, this.budget);
      this.#stepAll(backlog, from, from + used);
      if (from + used < backlog.length) {
        this.backlogAt = from + used;
        over = true;
      } else {
        this.backlog = undefined;
        backlog.length = 0;
      }
    }
    if (over) {
      // The backlog goes on next tick; the tasks that were ready wait behind it, ahead of those
      // readied during this tick (a copy of this tick's wake-ups only: each was work done here).
      const woken = this.ready;
      for (let i = 0; i < woken.length; i++) fresh.push(woken[i]!);
      woken.length = 0;
      this.ready = fresh;
      this.spare = woken;
    } else {
      used += this.#stepWithin(fresh, this.budget - used);
      over = this.backlog !== undefined;
    }

    // Phase 2b: tasks woken by this tick's steps (a channel hand-off, a lock, a join, a spawn)
    // take their step in this tick too, in up to WAKE_ROUNDS more rounds within the budget,
    // instead of an event-loop turn each. No further round once a task has given up the CPU: it
    // lets timers and I/O in before it runs again, and every task readied and not yet stepped waits with it.
    this.moreRounds = 0;
    for (; this.moreRounds < WAKE_ROUNDS && !over && used < this.budget && this.ready.length > 0 && !this.closed && !this.gaveUp; this.moreRounds++) {
      const woken = this.ready;
      this.ready = this.spare;
      used += this.#stepWithin(woken, this.budget - used);
      over = this.backlog !== undefined;
    }

    // Phase 3: this tick's host syscalls as one batch, grouped by op: sleeps into the deadline
    // queue (each timed from its yield), I/O to the reactor in one call.
    this.#submit();

    // Phase 3b: operations the submission completed at once (a write the socket took whole, a
    // close): their tasks take one more step in this tick, and what they submit goes out as
    // another batch, instead of waiting an event-loop turn each (at most EXTRA_ROUNDS times,
    // within the budget; not at all in a tick that left ready tasks for the next).
    for (let round = 0; round < EXTRA_ROUNDS && !over && used < this.budget && this.cq.length > 0 && !this.closed; round++) {
      const mark = this.ready.length;
      this.#drainCompletions();
      if (this.ready.length === mark) break;
      const again = this.ready.splice(mark);
      const m = Math.min(again.length, this.budget - used);
      this.#stepAll(again, 0, m);
      used += m;
      if (m > 0) this.moreRounds++;
      for (let i = m; i < again.length; i++) this.ready.push(again[i]!); // over budget: next tick
      this.#submit();
    }

    // Phase 4: one host timer for the earliest deadline (the tick's end wakes another if work is ready).
    this.#armTimer();
    this.rounds += 1 + this.moreRounds;
  }

  /**
   * Step the ready tasks in `list` (taken off `ready`, which collects the tasks they wake), at
   * most `left` of them: the rest become the backlog, run first next tick. Returns the steps taken.
   */
  #stepWithin(list: Task<unknown>[], left: number): number {
    const n = Math.min(list.length, left);
    this.#stepAll(list, 0, n);
    if (n < list.length) {
      this.backlog = list;
      this.backlogAt = n;
      this.spare = [];
    } else {
      list.length = 0;
      this.spare = list;
    }
    return n;
  }

  /** Step `list[from..to)`, with this kernel answering inline syscalls (inline.ts); stamp the sleeps yielded. */
  #stepAll(list: Task<unknown>[], from: number, to: number): void {
    const outer = swapInlineHost(this);
    this.#stepping = true;
    try {
      for (let i = from; i < to; i++) {
        step(this, list[i]!);
        // Every 256 steps, a clock reading times the sleeps yielded since: late by at most
        // 256 steps, never early, instead of late by the rest of a long tick.
        if (((i - from) & 255) === 255 && this.sleeps.unstamped) this.sleeps.stamp(this.reactor.now());
      }
    } finally {
      this.#stepping = false;
      swapInlineHost(outer);
    }
    if (this.sleeps.unstamped) this.sleeps.stamp(this.reactor.now());
  }

  /** Hand the host syscalls yielded so far to the timer queue and the reactor, as one batch. */
  #submit(): void {
    // Counted as submitted: a sleep or an I/O op whose task was cancelled meanwhile is dropped.
    const batch = (this.sleeps.length > 0 ? this.sleeps.submit(this.timers) : 0) + (this.sqIo.length > 0 ? handlers.submitIo(this) : 0);
    if (batch > 0) this.stats.batch(batch);
  }

  #drainCompletions(): void {
    const cq = this.cq;
    this.cq = this.cqSpare; // completions that arrive meanwhile go to the other array
    const ready = this.ready;
    for (let i = 0; i < cq.length; i++) ready.push(cq[i]!);
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
      this.stats.timersArmed++;
      this.reactor.setTimer(next, this.onTimer);
    }
  }
}
