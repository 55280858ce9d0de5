/**
 * IoTicket: one I/O syscall in flight between the kernel and the reactor. It names the task and
 * the suspension (wait generation) it belongs to, so a late completion is recognised as stale.
 * Imports only types.
 */
import type { Syscall } from "./syscall.ts";
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
