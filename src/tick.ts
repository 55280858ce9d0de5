/**
 * One tick of a kernel: timers due → completions → one step per ready task (step.ts; within a
 * budget) and more rounds for the tasks those steps woke → submit this tick's suspending
 * syscalls as one batch, grouped by op → a few more rounds for tasks whose I/O completed at
 * submission → expire the timed waits due in the tick → arm one host timer. Imports no Bun API.
 */
import { swapInlineHost } from "./syscall.ts";
import type { Task } from "./task.ts";
import type { Kernel } from "./kernel.ts";
import * as handlers from "./handlers.ts";
import { step } from "./step.ts";
import { ticksEverywhere } from "./tick-count.ts";

/** Rounds a tick may add for tasks whose I/O completed at submission (phase 3b). */
export const EXTRA_ROUNDS = 4;
/** Rounds a tick may add for tasks other tasks woke during it (phase 2b). */
export const WAKE_ROUNDS = 64;

/** Run one tick of `k` (its `tick` calls this when the run is not closed). */
export function runTick(k: Kernel): void {
  const now = (k.now = k.reactor.now());
  k.stats.ticks++;
  ticksEverywhere.count++;
  k.gaveUp = false;

  // Phase 1: timers first (smol's rule), then the completion queue.
  if (k.timers.size > 0) k.timers.expire(now, k.wakeSleeper);
  if (k.cq.length > 0) drainCompletions(k);

  // Phase 2: one step for each task ready now (the backlog first), within the budget.
  const fresh = k.ready;
  k.ready = k.spare;
  let used = 0;
  let over = false;
  const backlog = k.backlog;
  if (backlog !== undefined) {
    const from = k.backlogAt;
    used = Math.min(backlog.length - from, k.budget);
    stepAll(k, backlog, from, from + used);
    if (from + used < backlog.length) {
      k.backlogAt = from + used;
      over = true;
    } else {
      k.backlog = undefined;
      backlog.length = 0;
    }
  }
  if (over) {
    // The backlog goes on next tick; the tasks that were ready wait behind it, ahead of those
    // readied during this tick (a copy of this tick's wake-ups only: each was work done here).
    const woken = k.ready;
    for (let i = 0; i < woken.length; i++) fresh.push(woken[i]!);
    woken.length = 0;
    k.ready = fresh;
    k.spare = woken;
  } else {
    used += stepWithin(k, fresh, k.budget - used);
    over = k.backlog !== undefined;
  }

  // Phase 2b: tasks woken by this tick's steps (a channel hand-off, a lock, a join, a spawn)
  // take their step in this tick too, in up to WAKE_ROUNDS more rounds within the budget,
  // instead of an event-loop turn each. No further round once a task has given up the CPU: it
  // lets timers and I/O in before it runs again, and every task readied and not yet stepped waits with it.
  k.moreRounds = 0;
  for (; k.moreRounds < WAKE_ROUNDS && !over && used < k.budget && k.ready.length > 0 && !k.closed && !k.gaveUp; k.moreRounds++) {
    const woken = k.ready;
    k.ready = k.spare;
    used += stepWithin(k, woken, k.budget - used);
    over = k.backlog !== undefined;
  }

  // Phase 3: this tick's host syscalls as one batch, grouped by op: sleeps into the deadline
  // queue (each timed from its yield), I/O to the reactor in one call.
  submit(k);

  // Phase 3b: operations the submission completed at once (a write the socket took whole, a
  // close): their tasks take one more step in this tick, and what they submit goes out as
  // another batch, instead of waiting an event-loop turn each (at most EXTRA_ROUNDS times,
  // within the budget; not at all in a tick that left ready tasks for the next).
  for (let round = 0; round < EXTRA_ROUNDS && !over && used < k.budget && k.cq.length > 0 && !k.closed; round++) {
    const mark = k.ready.length;
    drainCompletions(k);
    if (k.ready.length === mark) break;
    const again = k.ready.splice(mark);
    const m = Math.min(again.length, k.budget - used);
    stepAll(k, again, 0, m);
    used += m;
    if (m > 0) k.moreRounds++;
    for (let i = m; i < again.length; i++) k.ready.push(again[i]!); // over budget: next tick
    submit(k);
  }

  // Phase 4: timed waits due in this tick expire now, after every step it took (their tasks
  // run next tick); then one host timer for the earliest deadline (the tick's end wakes
  // another if work is ready).
  if (k.expiring.length > 0) expire(k);
  armTimer(k);
  k.rounds += 1 + k.moreRounds;
}

/**
 * Step the ready tasks in `list` (taken off `ready`, which collects the tasks they wake), at
 * most `left` of them: the rest become the backlog, run first next tick. Returns the steps taken.
 */
function stepWithin(k: Kernel, list: Task<unknown>[], left: number): number {
  const n = Math.min(list.length, left);
  stepAll(k, list, 0, n);
  if (n < list.length) {
    k.backlog = list;
    k.backlogAt = n;
    k.spare = [];
  } else {
    list.length = 0;
    k.spare = list;
  }
  return n;
}

/** Step `list[from..to)`, with `k` answering inline syscalls (inline.ts); stamp the sleeps yielded. */
function stepAll(k: Kernel, list: Task<unknown>[], from: number, to: number): void {
  const outer = swapInlineHost(k);
  k.stepping = true;
  try {
    for (let i = from; i < to; i++) {
      step(k, list[i]!);
      // Every 256 steps, a clock reading times the sleeps yielded since: late by at most
      // 256 steps, never early, instead of late by the rest of a long tick.
      if (((i - from) & 255) === 255 && k.sleeps.unstamped) k.sleeps.stamp(k.reactor.now());
    }
  } finally {
    k.stepping = false;
    swapInlineHost(outer);
  }
  if (k.sleeps.unstamped) k.sleeps.stamp(k.reactor.now());
}

/** Hand the host syscalls yielded so far to the timer queue and the reactor, as one batch. */
function submit(k: Kernel): void {
  // Counted as submitted: a sleep or an I/O op whose task was cancelled meanwhile is dropped.
  const batch = (k.sleeps.length > 0 ? k.sleeps.submit(k.timers) : 0) + (k.sqIo.length > 0 ? handlers.submitIo(k) : 0);
  if (batch > 0) k.stats.batch(batch);
}

function drainCompletions(k: Kernel): void {
  const cq = k.cq;
  k.cq = k.cqSpare; // completions that arrive meanwhile go to the other array
  const ready = k.ready;
  for (let i = 0; i < cq.length; i++) ready.push(cq[i]!);
  cq.length = 0;
  k.cqSpare = cq;
}

function armTimer(k: Kernel): void {
  const next = k.timers.next;
  if (next === undefined) {
    if (k.armedDeadline !== undefined) {
      k.reactor.clearTimer();
      k.armedDeadline = undefined;
    }
  } else if (k.armedDeadline === undefined || next < k.armedDeadline) {
    k.armedDeadline = next;
    k.stats.timersArmed++;
    k.reactor.setTimer(next, k.onTimer);
  }
}

/** Fire the timed waits that came due in this tick (those still waiting). */
function expire(k: Kernel): void {
  const due = k.expiring;
  k.expiring = [];
  for (let i = 0; i < due.length; i++) due[i]!.fire();
}
