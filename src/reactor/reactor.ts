/**
 * The narrow interface between the scheduler and the host: a clock, a way to run the next
 * tick, one host timer, and batched I/O submissions with completions. Imports only types.
 * `BunReactor` implements it on Bun; `FakeReactor` on a virtual clock for tests.
 */

/**
 * Identifies one suspended syscall; completions name it. Opaque to the reactor.
 *
 * @example
 * ```ts
 * import { run, io, type Ticket } from "corun";
 * import { FakeReactor } from "corun/testing";
 * const refuse = (t: Ticket) => new Error(`${t.op} refused for task "${t.taskName}"`);
 * const reactor = new FakeReactor({ io: (batch, sink) => batch.forEach((t) => sink.fail(t, refuse(t))) });
 * await run(() => io("read", "h"), { reactor }).catch((e: Error) => console.log(e.message)); // read refused for task "main"
 * ```
 */
export interface Ticket {
  readonly op: string;
  /** The descriptor's arguments. */
  readonly a: unknown;
  readonly b: unknown;
  /** The task's name, for error messages. */
  readonly taskName: string;
}

/**
 * What the scheduler gives the reactor to report back through.
 *
 * @example
 * ```ts
 * import { run, io, type CompletionSink, type Submission } from "corun";
 * import { FakeReactor } from "corun/testing";
 * const answer = (batch: readonly Submission[], sink: CompletionSink) => { for (const t of batch) sink.complete(t, `${t.op}:${String(t.a)}`); };
 * console.log(await run(() => io<string>("read", "h"), { reactor: new FakeReactor({ io: answer }) })); // read:h
 * ```
 */
export interface CompletionSink {
  /** The I/O behind `ticket` finished with `value`. Queued; handled next tick. */
  complete(ticket: Ticket, value: unknown): void;
  /** The I/O behind `ticket` failed. Queued; handled next tick. */
  fail(ticket: Ticket, error: unknown): void;
  /** For a reactor's error messages: the tasks waiting to run now, named (a few, then how many more). */
  runnable?(): string;
  /**
   * A virtual-time reactor sat idle a while (no tick, no timer), or the host's event loop
   * emptied: if every task waits on another and on nothing from outside, the scheduler raises
   * a deadlock and returns true. `again: false` (the real reactor): not when the same tasks
   * wait on the same things as at the last one raised (they caught it and waited again).
   */
  stuck?(again?: boolean): boolean;
  /**
   * A virtual-time reactor driving itself ran work that never ends at one virtual time (see
   * `FakeReactor`): unless a task waits on a promise or I/O (which may yet end the work from
   * outside: then false), `error` is raised in main (at its wait, or at its next yield), or,
   * once main has ended, in every live task, so that `run()` ends with it instead of spinning.
   */
  runaway?(error: Error): boolean;
  /**
   * Rounds of task steps run so far: one per tick, plus one for each further round in which
   * a tick stepped tasks woken during it (by a hand-off, or by I/O that completed at once).
   * A virtual clock reads it before and after its ticks and bounds by it the work it runs at
   * one time (a tick may hold up to 69 rounds): a sink that wraps another must forward it
   * live (`get rounds() { return inner.rounds; }`), not copy it.
   */
  readonly rounds?: number;
}

/**
 * A submission: one suspending I/O syscall, dispatched with the rest of its tick.
 *
 * @example
 * ```ts
 * import type { Submission } from "corun";
 * const opsOf = (batch: readonly Submission[]) => batch.map((s) => s.op); // e.g. ["tcp.read", "tcp.write"]
 * ```
 */
export type Submission = Ticket;

/**
 * The host a scheduler runs on. One scheduler owns one reactor.
 *
 * @example
 * ```ts
 * import { Scheduler } from "corun";
 * import { FakeReactor } from "corun/testing";
 * const s = new Scheduler({ reactor: new FakeReactor() }); // virtual time
 * ```
 */
export interface Reactor {
  /** True for a virtual clock, whose timers fire only as it is driven (a FakeReactor). */
  readonly virtual?: boolean;
  /** The clock, in milliseconds (any origin, monotonic). */
  now(): number;
  /**
   * Run `tick` once, on a later turn of the event loop. The scheduler never asks twice before
   * it ran. `pollingOnly()`, asked between ticks, is true while the only tasks it has to run
   * gave up the CPU with nothing handed to them (a plain `yield`, `sleep(0)`) and the last tick
   * stepped no task woken during it: a virtual clock may then let time pass. A real reactor ignores it.
   */
  schedule(tick: () => void, pollingOnly?: () => boolean): void;
  /** Arm the one host timer to call `fire` at `deadline` (replacing any armed one). */
  setTimer(deadline: number, fire: () => void): void;
  /** Disarm the host timer. */
  clearTimer(): void;
  /** Connect the scheduler's completion sink (called once, before any submit; a reactor serves one Scheduler, once: throw if asked again). */
  attach(sink: CompletionSink): void;
  /** Start this tick's I/O submissions, as one batch. */
  submit(batch: readonly Submission[]): void;
  /** Take back a submission whose task was cancelled: its completion must not be delivered. */
  cancel(ticket: Ticket): void;
  /**
   * Release every host resource (timers, sockets, listeners, files). Idempotent. Returns a
   * promise when some of it finishes later (file writes in flight); it rejects with an error
   * no task has seen (a buffered file write that failed), and `run()` reports it.
   */
  close(): void | Promise<void>;
}
