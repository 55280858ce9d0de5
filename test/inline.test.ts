/**
 * Syscalls completed inline (src/inline.ts): `yield* spawn`, `yield* current()` and joins of
 * ended tasks are answered at the `yield*` without suspending the generator, with the same
 * results, errors, cancellation points and fairness as when they are yielded.
 */
import { describe, expect, test } from "bun:test";
import { cancel, current, join, run, sleep, spawn, Cancelled, Scheduler, Syscall, type Co, type Task } from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";
import { virtual } from "./helpers.ts";

/** A coroutine object that counts how often the scheduler resumes it. */
function counted<T>(gen: Co<T>): { co: Co<T>; resumes: () => number } {
  let n = 0;
  const co = {
    next: (v: unknown) => (n++, gen.next(v)),
    throw: (e: unknown) => (n++, gen.throw(e)),
    return: (v: T) => gen.return(v),
    [Symbol.iterator]() {
      return co;
    },
  } as unknown as Co<T>;
  return { co, resumes: () => n };
}

describe("inline syscalls", () => {
  test("yield* spawn, current and a join of an ended task do not suspend the generator", async () => {
    const c = counted(
      (function* (): Co<number> {
        const a = yield* spawn(function* () { return 1; });
        const b = yield* spawn(function* () { return 2; });
        yield* sleep(1); // the one real suspension: a and b end meanwhile
        const me = yield* current();
        expect(me.name).toBe("main");
        return (yield* a) + (yield* join(b));
      })(),
    );
    const { result, scheduler } = await virtual(() => c.co, {});
    expect(result).toBe(3);
    expect(c.resumes()).toBe(2); // the first step, and the wake-up after the sleep
    expect(scheduler.stats().syscalls).toMatchObject({ spawn: 2, current: 1, join: 2, sleep: 1 });
  });

  test("the raw forms are still yielded to the kernel, with the same results", async () => {
    const c = counted(
      (function* (): Co<unknown> {
        const a = (yield spawn(function* () { return 1; })) as Task<number>;
        yield sleep(1);
        return [(yield current()) !== undefined, yield join(a)];
      })(),
    );
    const { result } = await virtual(() => c.co);
    expect(result).toEqual([true, 1]);
    expect(c.resumes()).toBe(5);
  });

  test("an error is raised at the yield*, where the task can catch it", async () => {
    const { result } = await virtual(function* () {
      const out: string[] = [];
      try { yield* spawn((() => 42) as never); } catch (e) { out.push((e as Error).constructor.name); }
      const bad = yield* spawn(function* () { throw new Error("child broke"); });
      yield* sleep(1);
      try { yield* bad; } catch (e) { out.push((e as Error).message); }
      return out;
    });
    // run() resolved: the joined failure counts as observed.
    expect(result).toEqual(["TypeError", "child broke"]);
  });

  test("a pending cancel is raised at the next yield*, even a kernel-only one, which then does nothing", async () => {
    const ac = new AbortController();
    let spawned = 0;
    const s = new Scheduler({ reactor: new FakeReactor(), signal: ac.signal });
    let outcome = "";
    const p = s.run(function* () {
      ac.abort(new Error("stop"));
      try {
        yield* spawn(function* () { spawned++; });
        outcome = "not cancelled";
      } catch (e) {
        outcome = e instanceof Cancelled ? "cancelled at the spawn" : String(e);
        throw e;
      }
    });
    expect(p).rejects.toThrow("stop");
    await p.catch(() => {});
    expect(outcome).toBe("cancelled at the spawn");
    expect(spawned).toBe(0);
    expect(s.stats().tasksSpawned).toBe(1); // main only
  });

  test("a long run of inline syscalls still goes back to the queue every 10,000 (others run meanwhile)", async () => {
    const { result } = await virtual(function* () {
      let ticksSeen = 0;
      const other = yield* spawn(function* () {
        for (;;) {
          ticksSeen++;
          yield;
        }
      });
      yield; // let `other` start
      const before = ticksSeen;
      for (let i = 0; i < 35_000; i++) yield* current();
      const after = ticksSeen;
      yield* cancel(other);
      return after - before;
    });
    expect(result).toBeGreaterThanOrEqual(3);
  });

  test("a scheduler ticked from inside another's task answers for its own tasks only", async () => {
    const { result } = await virtual(function* () {
      const outer = yield* current();
      const fake = new FakeReactor({ auto: false });
      const inner = new Scheduler({ reactor: fake });
      let innerSawItself = false;
      const done = inner.run(function* () {
        const me = yield* current();
        innerSawItself = me !== outer && me.name === "main";
        const t = yield* spawn(function* () { return 5; });
        yield* sleep(0);
        return yield* t;
      });
      for (let i = 0; i < 5; i++) fake.tick(); // the inner kernel steps its tasks right here
      const stillOuter = (yield* current()) === outer;
      const v = yield* (function* () { return (yield done) as number; })();
      return [innerSawItself, stillOuter, v];
    });
    expect(result).toEqual([true, true, 5]);
  });

  test("a generator driven by hand inside a task: raw yields reach the driver, yield* of a kernel-only syscall acts for the task", async () => {
    const { result, scheduler } = await virtual(function* () {
      function* sub(): Co<unknown[]> {
        const raw = yield spawn(function* () {}); // the driver sees this descriptor
        const me = yield* current(); // answered for the running task
        return [raw, me.name];
      }
      const g = sub();
      const first = g.next();
      const second = g.next("from the driver");
      return [first.value instanceof Syscall ? String(first.value) : "?", second];
    });
    expect(result[0]).toContain("spawn(");
    expect(result[1]).toEqual({ done: true, value: ["from the driver", "main"] });
    expect(scheduler.stats().tasksSpawned).toBe(1); // the raw spawn was never submitted
  });

  test("outside any task, yield* hands every descriptor to whoever drives the generator", () => {
    function* sub(): Co<unknown> {
      return yield* current();
    }
    const r = sub().next();
    expect(r.done).toBe(false);
    expect(String(r.value)).toBe("current()");
  });
});
