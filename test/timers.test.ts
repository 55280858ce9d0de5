import { describe, expect, test } from "bun:test";
import { TimerQueue } from "../src/testing.ts";
import { collectGarbage, leastKept } from "./helpers.ts";

type S = { undo: unknown; id: number };
const sleeper = (id: number): S => ({ undo: undefined, id });

describe("TimerQueue", () => {
  test("expires sleepers in deadline order and only those due", () => {
    const q = new TimerQueue<S>();
    for (const [id, d] of [[1, 30], [2, 10], [3, 20], [4, 10], [5, 50]] as const) q.add(sleeper(id), d);
    expect(q.size).toBe(5);
    expect(q.next).toBe(10);
    const woke: number[] = [];
    expect(q.expire(25, (s) => woke.push(s.id))).toBe(3);
    expect(woke).toEqual([2, 4, 3]);
    expect(q.next).toBe(30);
    expect(q.size).toBe(2);
  });

  test("sleepers with the same deadline share one bucket", () => {
    const q = new TimerQueue<S>();
    const b1 = q.add(sleeper(1), 100);
    const b2 = q.add(sleeper(2), 100);
    q.add(sleeper(3), 200);
    const b4 = q.add(sleeper(4), 100);
    expect(b1).toBe(b2);
    expect(b1).toBe(b4);
    expect(b1.live).toBe(3);
  });

  test("removed sleepers are skipped, and an emptied bucket no longer counts as next", () => {
    const q = new TimerQueue<S>();
    const a = sleeper(1);
    const b = q.add(a, 10);
    expect(a.undo).toBe(b);
    q.add(sleeper(2), 20);
    q.remove(a);
    expect(a.undo).toBeUndefined();
    q.remove(a); // not sleeping any more: nothing happens
    expect(q.size).toBe(1);
    expect(q.next).toBe(20);
    const woke: number[] = [];
    q.expire(100, (s) => woke.push(s.id));
    expect(woke).toEqual([2]);
    expect(q.next).toBeUndefined();
  });

  test("a sleeper whose undo no longer names its bucket is not woken", () => {
    const q = new TimerQueue<S>();
    const a = sleeper(1);
    q.add(a, 5);
    a.undo = "woken some other way";
    const woke: number[] = [];
    q.expire(5, (s) => woke.push(s.id));
    expect(woke).toEqual([]);
  });

  test("taken back and put to sleep again at the same deadline, a sleeper wakes once", () => {
    const q = new TimerQueue<S>();
    const a = sleeper(1);
    q.add(a, 5);
    q.remove(a);
    q.add(a, 5);
    const woke: number[] = [];
    expect(q.expire(5, (s) => woke.push(s.id))).toBe(1);
    expect(woke).toEqual([1]);
    expect(a.undo).toBeUndefined();
    expect(q.size).toBe(0);
  });

  test("heap order holds for many random deadlines", () => {
    const q = new TimerQueue<S>();
    const deadlines: number[] = [];
    let seed = 42;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const d = seed % 500;
      deadlines.push(d);
      q.add(sleeper(i), d);
    }
    const got: number[] = [];
    for (let now = 0; now < 500; now += 7) q.expire(now, (s) => got.push(deadlines[s.id]!));
    q.expire(1000, (s) => got.push(deadlines[s.id]!));
    expect(got).toEqual([...deadlines].sort((x, y) => x - y));
    expect(q.size).toBe(0);
  });

  test("clear() takes every sleeper out: a later remove() is a no-op and size stays 0", () => {
    const q = new TimerQueue<S>();
    const a = sleeper(1);
    q.add(a, 5);
    q.clear();
    expect(a.undo).toBeUndefined();
    q.remove(a);
    expect(q.size).toBe(0);
  });

  test("adding a sleeper that is already asleep moves it: it is counted and woken once, at the new deadline", () => {
    const q = new TimerQueue<S>();
    const a = sleeper(1);
    q.add(a, 5);
    q.add(a, 20);
    expect(q.size).toBe(1);
    expect(q.next).toBe(20);
    const woke: number[] = [];
    q.expire(10, (s) => woke.push(s.id));
    expect(woke).toEqual([]);
    q.expire(20, (s) => woke.push(s.id));
    expect(woke).toEqual([1]);
    expect(q.size).toBe(0);
  });
});

describe("TimerQueue lets go of what was taken back", () => {
  /** Add a sleeper at `deadline` and take it back at once; only a WeakRef to it is kept. */
  function addAndRemove(q: TimerQueue<S>, id: number, deadline: number): WeakRef<S> {
    const s = sleeper(id);
    q.add(s, deadline);
    q.remove(s);
    return new WeakRef(s);
  }

  test("a sleeper taken back long before its deadline is not kept until then", async () => {
    // Kept until their deadlines, all 101 would stay, in every try; a stale stack slot may keep
    // one or two of the last made now and then (one run of the full suite in many did).
    const least = await leastKept(async () => {
      const q = new TimerQueue<S>();
      q.add(sleeper(0), 60_000); // an earlier sleeper keeps the later buckets below the top
      const refs: WeakRef<S>[] = [];
      refs.push(addAndRemove(q, 101, 3_600_000)); // one sharing a deadline with nobody live
      for (let i = 1; i <= 100; i++) refs.push(addAndRemove(q, i, 3_600_000 + i)); // each its own deadline
      await collectGarbage(() => refs.some((r) => r.deref() !== undefined));
      expect([q.size, q.next]).toEqual([1, 60_000]);
      return refs.filter((r) => r.deref() !== undefined).length;
    });
    expect(least).toBe(0);
  });

  test("a bucket whose sleepers were mostly taken back drops them, at any size, and still wakes the rest", () => {
    for (const n of [3, 20, 200]) {
      const q = new TimerQueue<S>();
      const keep = sleeper(-1);
      const bucket = q.add(keep, 500);
      for (let i = 0; i < n; i++) addAndRemove(q, i, 500);
      // Entries taken back are dropped once they are half the bucket: a bucket under 64 entries
      // kept them all until its deadline (a long poll kept every early-answered request; found by review).
      expect(bucket.sleepers.length).toBeLessThanOrEqual(2);
      const woke: number[] = [];
      q.expire(500, (s) => woke.push(s.id));
      expect(woke).toEqual([-1]);
    }
  });

  test("many taken back and many live: deadlines still come in order", () => {
    const q = new TimerQueue<S>();
    const live: S[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = sleeper(i);
      q.add(s, 1000 + ((i * 7919) % 1000));
      if (i % 3 === 0) live.push(s);
      else q.remove(s);
    }
    const woke: number[] = [];
    q.expire(5000, (s) => woke.push(1000 + ((s.id * 7919) % 1000)));
    expect(woke.length).toBe(live.length);
    expect(woke).toEqual([...woke].sort((a, b) => a - b));
    expect(q.size).toBe(0);
  });

  test("a NaN deadline is refused", () => {
    expect(() => new TimerQueue<S>().add(sleeper(1), NaN)).toThrow(RangeError);
  });
});
