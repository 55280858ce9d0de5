/**
 * IoTicket: one I/O syscall in flight between the kernel and the reactor. It names the task and
 * the suspension (wait generation) it belongs to, so a late completion is recognised as stale.
 * Imports only types, and the describer for its error.
 */
import { describe, type Syscall } from "./syscall.ts";
import type { Task } from "./task.ts";
import type { Ticket } from "./reactor/reactor.ts";

/** An I/O submission in flight: names its task and the suspension it belongs to. */
export class IoTicket implements Ticket {
  declare readonly op: string;
  declare readonly a: unknown;
  declare readonly b: unknown;
  declare readonly task: Task<unknown>;
  declare readonly gen: number;
  constructor(d: Syscall<unknown>, task: Task<unknown>) {
    this.op = d.op;
    this.a = d.a;
    this.b = d.b;
    this.task = task;
    this.gen = task.waitGen;
  }
  get taskName(): string {
    return this.task.name;
  }
}

/**
 * The error for a reactor (a FakeReactor's `io` handler, say) that completes or fails what is
 * not one of this scheduler's tickets: another run's (its task would be stepped by the wrong
 * scheduler, and its run hang), or no ticket at all.
 */
export function foreignTicket(ticket: unknown, call: "complete" | "fail"): TypeError {
  const t = ticket as Partial<IoTicket> | null | undefined;
  if (t === null || typeof t !== "object" || t.task === undefined || typeof t.op !== "string") {
    return new TypeError(`sink.${call}(ticket, …): expected a ticket the reactor was given, got ${describe(ticket)}`);
  }
  return new TypeError(`sink.${call}(ticket, …): the ticket of op "${t.op}" (task "${t.task.name}") belongs to another run's reactor: complete it through the sink its reactor was given`);
}
