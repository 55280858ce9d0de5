/**
 * TaskList: a scheduler's tasks in creation order, for `ps()` and for cancelling what is
 * left when `run()` ends. Ended tasks are swept out in one pass once they are the majority:
 * O(1) amortised per task, and no per-task index field. Imports only the Task type.
 */
import type { Task } from "./task.ts";

/**
 * The alive tasks of one kernel, oldest first.
 *
 * @example
 * ```ts
 * const list = new TaskList();
 * list.add(task);
 * list.ended();            // call once when a task ends
 * list.count;              // 0
 * list.alive();            // []
 * ```
 */
export class TaskList {
  /** Every alive task, plus ended ones not swept out yet. */
  #all: Task<unknown>[] = [];
  /** How many tasks are alive (not ended). */
  count = 0;

  /** A task was created. */
  add(task: Task<unknown>): void {
    this.#all.push(task);
    this.count++;
  }

  /** A task ended: count it, and sweep the ended ones out once they are the majority. */
  ended(): void {
    this.count--;
    const all = this.#all;
    if (all.length < 64 || this.count * 2 >= all.length) return;
    let n = 0;
    for (let i = 0; i < all.length; i++) if (!all[i]!.ended) all[n++] = all[i]!;
    all.length = n;
  }

  /** The run has ended: let go of the ended tasks still listed (and what they returned). */
  clear(): void {
    this.#all = [];
    this.count = 0;
  }

  /** The alive tasks, oldest first. */
  alive(): Task<unknown>[] {
    return this.#all.filter((t) => !t.ended);
  }
}
