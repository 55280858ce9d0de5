import { describe, expect, test } from "bun:test";
import { sleep, Syscall, current, spawn, join, Scheduler, type Co, type Task } from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";
import { virtual } from "./helpers.ts";

describe("Syscall descriptor", () => {
  test("iterates once: yields itself, then returns what it is sent", () => {
    const d = sleep(5);
    const it = d[Symbol.iterator]();
    const first = it.next();
    expect(first.done).toBe(false);
    expect(first.value).toBe(d);
    const second = it.next("result");
    expect(second.done).toBe(true);
    expect(second.value as unknown).toBe("result");
  });

  test("one descriptor shared by concurrent tasks makes each of them wait", async () => {
    const nap = sleep(10); // hoisted: an immutable value, safe to share
    const woke: number[] = [];
    const reactor = new FakeReactor();
    await new Scheduler({ reactor }).run(function* () {
      const tasks = [];
      for (let i = 0; i < 3; i++) {
        tasks.push(
          yield* spawn(function* () {
            yield* nap;
            woke.push(reactor.now());
            yield nap;
            woke.push(reactor.now());
          }),
        );
      }
      for (const t of tasks) yield* join(t);
    });
    expect(woke).toEqual([10, 10, 10, 20, 20, 20]);
  });

  test("a descriptor delegated through nested helpers returns the typed result", async () => {
    function* helper(): Co<Task<unknown>> {
      return yield* current();
    }
    const { result } = await virtual(function* () {
      const a = yield* current();
      const b = yield* helper();
      return a === b;
    });
    expect(result).toBe(true);
  });

  test("can be reused sequentially with yield*", async () => {
    const { reactor } = await virtual(function* () {
      const nap = sleep(10);
      yield* nap;
      yield* nap;
    });
    expect(reactor.now()).toBeGreaterThanOrEqual(20);
  });

  test("an error thrown at a yield* propagates to the caller", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () { throw new Error("x"); });
      try { yield* join(t); } catch (e) { return (e as Error).message; }
    });
    expect(result).toBe("x");
  });

  test("renders readably", () => {
    expect(String(sleep(5))).toBe("sleep(5)");
    expect(String(current())).toBe("current()");
    expect(sleep(1)).toBeInstanceOf(Syscall);
    expect(sleep(1).op).toBe("sleep");
  });
});
