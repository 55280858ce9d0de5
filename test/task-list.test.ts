/**
 * TaskList: alive tasks in creation order, ended ones swept out once they are the majority.
 */
import { describe, expect, test } from "bun:test";
import { TaskList } from "../src/task-list.ts";
import type { Task } from "../src/task.ts";

function fakeTask(id: number): Task<unknown> & { end(): void } {
  let ended = false;
  return { id, get ended() { return ended; }, end() { ended = true; } } as unknown as Task<unknown> & { end(): void };
}

describe("TaskList", () => {
  test("counts alive tasks and lists them oldest first, across sweeps", () => {
    const list = new TaskList();
    const tasks = Array.from({ length: 1_000 }, (_, i) => fakeTask(i));
    for (const t of tasks) list.add(t);
    // End all but every tenth, in a scattered order: several sweeps happen on the way.
    for (let k = 0; k < 1_000; k++) {
      const i = (k * 7919) % 1_000;
      if (i % 10 !== 0) {
        tasks[i]!.end();
        list.ended();
      }
    }
    expect(list.count).toBe(100);
    expect(list.alive().map((t) => t.id)).toEqual(Array.from({ length: 100 }, (_, k) => k * 10));
  });

  test("a task added after a sweep comes last", () => {
    const list = new TaskList();
    const tasks = Array.from({ length: 100 }, (_, i) => fakeTask(i));
    for (const t of tasks) list.add(t);
    for (const t of tasks.slice(0, 90)) {
      t.end();
      list.ended();
    }
    const late = fakeTask(100);
    list.add(late);
    expect(list.alive().map((t) => t.id)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
  });
});
