/**
 * What a syscall handler gives back: the result, SUSPENDED (the task now waits), or a Thrown
 * error to raise in the task; and `handlerFailed`, for a handler that threw. Imports no Bun API.
 */
import { Flag, StateCode, type Task } from "./task.ts";
import { raiseAtNextYield } from "./lifecycle.ts";

/** Returned by `immediate` when the task is now suspended. */
export const SUSPENDED: unique symbol = Symbol("suspended");

/** Returned by `immediate` when the syscall's result is an error to throw into the task. */
export class Thrown {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * A handler threw `error` while `task` was running. If it had already suspended the task, the
 * suspension is taken back (later wake-ups for it are stale) and the error is thrown into the
 * task at once; if that suspension was already woken, the wake-up stands (a value handed over
 * is not lost) and the error is raised at the task's next yield.
 */
export function handlerFailed(task: Task<unknown>, error: unknown): unknown {
  const state = task.flags & Flag.StateMask;
  if (state === StateCode.ready) {
    raiseAtNextYield(task, error);
    return SUSPENDED;
  }
  if (state === StateCode.waiting) {
    task.waitGen++;
    task.state = "running";
    task.waitingOn = undefined;
    task.undo = undefined;
  }
  return new Thrown(error);
}

