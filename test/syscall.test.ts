import { describe, expect, test } from "bun:test";
import { sleep, Syscall, current, spawn, join } from "../src/index.ts";
import { virtual } from "./helpers.ts";

describe("Syscall descriptor", () => {
  test("is its own one-shot iterator: yields itself, then returns what it is sent", () => {
    const d = sleep(5);
    const first = d.next();
    expect(first.done).toBe(false);
    expect(first.value).toBe(d);
    const second = d.next("result");
    expect(second.done).toBe(true);
    expect(second.value as unknown).toBe("result");
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
