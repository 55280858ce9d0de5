/**
 * The Scheduler's public surface: options refused with errors that name them, ps() telling
 * the truth about ages and waits, and nothing of a finished run kept by a Scheduler or a
 * FakeReactor held for their stats and clock.
 */
import { describe, expect, test } from "bun:test";
import { run, Scheduler, sleep, spawn, join, type SchedulerOptions } from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";
import { collectGarbage, leastKept } from "./helpers.ts";

describe("options", () => {
  test("bad ones are refused when the Scheduler is made, naming the option", () => {
    const make = (o: unknown) => () => new Scheduler(o as SchedulerOptions);
    expect(make(null)).toThrow(/options must be an object, got null/);
    expect(make(5)).toThrow(/options must be an object, got 5/);
    expect(make({ reactor: new FakeReactor(), name: 42 })).toThrow(/\{ name \}\): name must be a string, got 42/);
    expect(make({ reactor: {} })).toThrow(/is not a Reactor: it has no now, schedule, setTimer, clearTimer, attach, submit, cancel, close methods/);
    expect(make({ reactor: "fake" })).toThrow(/reactor must be a Reactor/);
  });

  test("run() rejects with the same errors", async () => {
    const main = function* () { return 1; };
    expect(await run(main, null as never).catch((e: Error) => e.message)).toContain("options must be an object");
    expect(await run(main, { reactor: new FakeReactor(), name: 7 as never }).catch((e: Error) => e.message)).toContain("name must be a string");
  });

  test("scheduler.run(main, options) is refused: its options belong to the constructor (a signal there was dropped unseen)", async () => {
    const s = new Scheduler({ reactor: new FakeReactor() });
    const ac = new AbortController();
    const message = await s.run(function* () { return 1; }, { signal: ac.signal } as never).catch((e: Error) => e.message);
    expect(message).toContain("Scheduler.run(main): takes no options");
    expect(message).toContain("new Scheduler({ ... })");
    expect(await s.run(function* () { return 2; })).toBe(2); // the refused call did not use the scheduler up
    expect(await new Scheduler({ reactor: new FakeReactor() }).run(function* () { return 3; }, undefined as never)).toBe(3); // nothing given, nothing lost
  });

  test("spawn names must be strings, inside a task and from outside", async () => {
    const s = new Scheduler({ reactor: new FakeReactor() });
    const out = await s.run(function* () {
      const inside = (() => { try { spawn(function* () {}, { name: 42 as never }); return "taken"; } catch (e) { return (e as Error).message; } })();
      const outside = [null, { name: 42 }].map((o) => { try { s.spawn(function* () {}, o as never); return "taken"; } catch (e) { return (e as Error).message; } });
      return [inside, ...outside];
    });
    expect(out).toEqual([
      "spawn(co, { name }): name must be a string, got 42",
      "Scheduler.spawn(co, options): options must be an object, got null",
      "Scheduler.spawn(co, { name }): name must be a string, got 42",
    ]);
  });

  test("FakeReactor refuses bad options too", () => {
    expect(() => new FakeReactor(null as never)).toThrow(/options must be an object/);
    expect(() => new FakeReactor({ auto: "false" as never })).toThrow(/auto must be true or false/);
    expect(() => new FakeReactor({ io: 5 as never })).toThrow(/io must be a function/);
    expect(() => new FakeReactor({ start: 2 ** 53 })).toThrow(/within ±2\^50/);
  });
});

describe("ps()", () => {
  test("a task's age counts from its spawn: from outside after an idle spell, and main from run()", () => {
    const fake = new FakeReactor({ auto: false });
    const s = new Scheduler({ reactor: fake });
    fake.advance(300); // setup between making the scheduler and running it
    void s.run(function* () { yield* sleep(1000); });
    expect(s.ps()[0]!.age).toBe(0);
    fake.advance(500); // main sleeps: no tick runs
    s.spawn(function* () { yield* sleep(1); }, { name: "fresh" });
    expect(s.ps().map((t) => [t.name, t.age])).toEqual([["main", 500], ["fresh", 0]]);
    fake.advance(1000);
  });

  test("a task waiting on a raw `yield promise` shows what it waits on", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = new Scheduler({ reactor: new FakeReactor() });
    const line = await s.run(function* () {
      const t = yield* spawn(function* () { yield gate; }, { name: "raw" });
      yield* sleep(1);
      const info = s.ps().find((i) => i.name === "raw");
      release();
      yield* join(t);
      return info;
    });
    expect([line?.state, line?.waitingOn]).toEqual(["waiting", "wait([object Promise])"]);
  });
});

describe("after a run", () => {
  /** Run 10 tasks each returning 1 MB on a scheduler; WeakRefs to what they returned. */
  async function results(s: Scheduler): Promise<WeakRef<object>[]> {
    const refs: WeakRef<object>[] = [];
    await s.run(function* () {
      const ts = [];
      for (let i = 0; i < 10; i++) {
        ts.push(yield* spawn(function* () {
          const big = new Uint8Array(1 << 20);
          refs.push(new WeakRef(big));
          yield* sleep(1);
          return big;
        }));
      }
      for (const t of ts) yield* join(t);
    });
    return refs;
  }

  test("a Scheduler or FakeReactor kept for stats() and now() keeps none of the run's tasks or results", async () => {
    const kept: Array<Scheduler | FakeReactor> = []; // every run's scheduler and clock stay reachable from here
    const least = await leastKept(async () => {
      const clock = new FakeReactor();
      const s = new Scheduler({ reactor: clock });
      kept.push(s, clock);
      const refs = await results(s);
      await collectGarbage(() => refs.some((r) => r.deref() !== undefined));
      expect({ spawned: s.stats().tasksSpawned, now: clock.now() }).toEqual({ spawned: 11, now: 1 });
      return refs.filter((r) => r.deref() !== undefined).length;
    });
    expect(least).toBe(0);
  });
});
