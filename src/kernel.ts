/**
 * The kernel: the ready queue, submission queue, completion queue and timers of one run, how a
 * task is made, suspended and resumed, and the sink the reactor reports to. Its tick's phases
 * are in tick.ts. Imports no Bun API: the host is reached only through the Reactor interface.
 */
import type { InlineHost, Syscall } from "./syscall.ts";
import { Flag, Resume, StateCode, Task } from "./task.ts";
import { TimerQueue, type Sleeper } from "./timers.ts";
import { SleepQueue } from "./sleep-queue.ts";
import { TaskList } from "./task-list.ts";
import type { Co } from "./types.ts";
import type { CompletionSink, Reactor, Ticket } from "./reactor/reactor.ts";
import { foreignTicket, type IoTicket } from "./io-ticket.ts";
import { bornDuringDrain, forgetEndedAncestors, observe, type EndHooks } from "./lifecycle.ts";
import { completeInline } from "./inline.ts";
import { onlyPolling, runnableNames } from "./step.ts";
import { runTick } from "./tick.ts";
import { KernelStats } from "./kernel-stats.ts";
import { breakDeadlock, raiseRunaway } from "./deadlock.ts";
import type { TimedWake } from "./timed-wait.ts";


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
  /** Timed waits due in this tick, fired at its end (timed-wait.ts). */
  expiring: TimedWake[] = [];
  /** Sleeping tasks, and the timers of timed waits (timed-wait.ts). */
  readonly timers = new TimerQueue<(Task<unknown> & Sleeper) | TimedWake>(); // Sleeper spelled out: Task.undo is @internal, so not in the declarations
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
  /** True while the tick steps tasks (phases 2, 2b and 3b; see tick.ts). */
  stepping = false;

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
    const task = new Task<T>(nextTaskId++, name, gen, this, parent, this.stepping ? this.now : this.reactor.now());
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

  /** CompletionSink: a virtual clock gave up on work that never ends; `error` is raised (deadlock.ts). */
  readonly runaway = (error: Error): boolean => raiseRunaway(this, error);

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

  /** Called during the tick's first phase: the tick itself steps the sleeper, no wake needed. */
  readonly wakeSleeper = (s: Task<unknown> | TimedWake): void => {
    if (s instanceof Task) this.unsuspend(s, Resume.Next, undefined);
    else this.expiring.push(s); // fired at the tick's end (see timed-wait.ts armTimedWait)
  };

  // ─── The tick ───────────────────────────────────────────────────────────────
  readonly tick = (): void => {
    if (this.stepping) {
      // Called from inside one of this kernel's own steps (a task ticking the reactor that
      // drives it): tell the task, instead of corrupting the queues. The running tick wakes
      // the next as it ends (scheduling one here too would ask the reactor twice).
      throw new Error("corun: a task ticked its own scheduler (drive a FakeReactor from outside the tasks it runs)");
    }
    // `tickScheduled` stays set while the tick runs, so the completions and wake-ups it causes
    // do not schedule another tick each: it takes them itself (phase 3b) or wakes once at its end.
    try {
      if (!this.closed) runTick(this);
    } finally {
      this.tickScheduled = false;
      if (this.ready.length > 0 || this.backlog !== undefined || this.cq.length > 0) this.wake();
    }
  };

}
