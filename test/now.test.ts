import { expect, test } from "bun:test";
import { now, run, sleep, spawn, join, timeout } from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";

test("in virtual time, now() reads the virtual clock: exact across sleeps and in every task", async () => {
  const seen = await run(function* () {
    const t0 = yield* now();
    yield* sleep(250);
    const child = yield* spawn(function* () {
      yield* sleep(1000);
      return yield* now();
    });
    const mid = yield* now();
    yield* timeout(5000, () => sleep(10));
    return [t0, mid, yield* now(), yield* join(child)];
  }, { reactor: new FakeReactor({ start: 1_000 }) });
  expect(seen).toEqual([1_000, 1_250, 1_260, 2_250]);
});

test("on the real reactor, now() is performance.now(): it moves with real time", async () => {
  const [before, a, b, after] = await run(function* () {
    const before = performance.now();
    const a = yield* now();
    yield* sleep(20);
    const b = yield* now();
    return [before, a, b, performance.now()];
  });
  expect(a).toBeGreaterThanOrEqual(before!);
  expect(b! - a!).toBeGreaterThanOrEqual(15); // sleep(20) in real time (timer granularity aside)
  expect(after).toBeGreaterThanOrEqual(b!);
});
