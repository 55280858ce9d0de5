import { test, expect } from "bun:test";
import { run, sleep, spawn, join } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";
import { Watchdog } from "../../src/http/watchdog.ts";
import { virtual } from "../helpers.ts";

test("deadlines fire no earlier than armed and within one granularity after; disarmed ones never", async () => {
  const reactor = new FakeReactor();
  const result = await run(function* () {
    const wd = new Watchdog(10, "test");
    const fired: [string, number][] = [];
    const at = (name: string) => () => void fired.push([name, reactor.now()]);
    const a = wd.arm(25, at("a"));
    const b = wd.arm(50, at("b"));
    wd.arm(5, at("c"));
    yield* wd.start();
    wd.disarm(b);
    yield* sleep(100);
    const late = wd.arm(30, at("d"));
    if (!wd.running) yield* wd.start();
    yield* sleep(100);
    return { fired, a: a.expired, b: b.expired, late: late.expired, running: wd.running, size: wd.size };
  }, { reactor });
  const times = Object.fromEntries(result.fired);
  expect(Object.keys(times).sort()).toEqual(["a", "c", "d"]);
  expect(times.a).toBeGreaterThanOrEqual(25);
  expect(times.a).toBeLessThanOrEqual(25 + 20);
  expect(times.c).toBeGreaterThanOrEqual(5);
  expect(times.d! - 100).toBeGreaterThanOrEqual(30);
  expect(result).toMatchObject({ a: true, b: false, late: true, running: false, size: 0 });
});

test("an expiry action that yields runs in its own task; many expire together", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "test");
    let done = 0;
    for (let i = 0; i < 1000; i++) {
      wd.arm(20, function* () {
        yield* sleep(50);
        done++;
      });
    }
    yield* wd.start();
    yield* sleep(100); // 1000 actions of 50 ms each, concurrently: all done by now
    const failing = wd.arm(10, function* () {
      yield* sleep(1);
      throw new Error("ignored");
    });
    yield* wd.start();
    const t = yield* spawn(function* () { yield* sleep(50); });
    yield* join(t);
    return { done, failing: failing.expired };
  });
  expect(result).toEqual({ done: 1000, failing: true });
});
