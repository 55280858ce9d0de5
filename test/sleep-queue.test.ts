/**
 * SleepQueue: this tick's sleeps, each timed from the clock reading after its yield.
 */
import { describe, expect, test } from "bun:test";
import { MAX_DEADLINE, SleepQueue } from "../src/sleep-queue.ts";
import { TimerQueue } from "../src/timers.ts";
import { sleep } from "../src/syscalls.ts";
import type { Task } from "../src/task.ts";

function sleeper(ms: number): Task<unknown> {
  return { waitGen: 0, waitingOn: sleep(ms), undo: undefined } as unknown as Task<unknown>;
}

describe("SleepQueue", () => {
  test("each sleep is due at the stamp after its push plus its ms, rounded up", () => {
    const q = new SleepQueue();
    const timers = new TimerQueue<Task<unknown>>();
    const a = sleeper(10), b = sleeper(10), c = sleeper(5);
    q.push(a);
    q.stamp(100.2); // a started by 100.2
    q.push(b);
    q.push(c);
    expect(q.unstamped).toBe(true);
    q.stamp(103.5); // b and c started by 103.5
    expect(q.unstamped).toBe(false);
    q.submit(timers);
    expect(q.length).toBe(0);
    expect(a.undo).toBeDefined(); // its bucket, for a cancel to leave
    const due: [Task<unknown>, number][] = [];
    for (const t of [109, 110, 111, 114]) timers.expire(t, (s) => due.push([s, t]));
    expect(due).toEqual([[c, 109], [a, 111], [b, 114]]);
    expect(a.undo).toBeUndefined(); // woken: out of its bucket
  });

  test("a sleep due past MAX_DEADLINE gets no timer: it waits until cancelled, as sleep(Infinity) (found by review)", () => {
    const q = new SleepQueue();
    const timers = new TimerQueue<Task<unknown>>();
    const far = sleeper(Number.MAX_SAFE_INTEGER), edge = sleeper(MAX_DEADLINE - 1000);
    q.push(far);
    q.push(edge);
    q.stamp(1000);
    q.submit(timers);
    expect(timers.size).toBe(1);
    expect(timers.next).toBe(MAX_DEADLINE);
    expect(far.undo).toBeUndefined();
  });

  test("a sleep cancelled before the end of its tick is not submitted", () => {
    const q = new SleepQueue();
    const timers = new TimerQueue<Task<unknown>>();
    const t = sleeper(1);
    q.push(t);
    q.stamp(0);
    (t as { waitGen: number }).waitGen++; // cancelled: a newer wait generation
    q.submit(timers);
    expect(timers.size).toBe(0);
  });
});
