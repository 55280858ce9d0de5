import { test, expect } from "bun:test";
import { run, sleep, spawn, join } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";
import { Watchdog } from "../../src/http/watchdog.ts";
import { TickClock } from "../../src/http/tick-clock.ts";
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

/** A FakeReactor whose clock can jump ahead with no timer firing on the way: a busy event loop, late to every wake-up. */
class LateReactor extends FakeReactor {
  skew = 0;
  override now(): number {
    return super.now() + this.skew;
  }
  override setTimer(deadline: number, fire: () => void): void {
    super.setTimer(deadline - this.skew, fire);
  }
}

test("a deadline counts the time that passed, not the reaper's wake-ups (a busy loop wakes it late)", async () => {
  const reactor = new LateReactor();
  const result = await run(function* () {
    const wd = new Watchdog(10, "test");
    const d = wd.arm(100, () => {});
    yield* wd.start();
    yield* sleep(15); // the reaper has woken once or twice
    reactor.skew += 500; // 500 ms pass while the loop is busy: the reaper wakes once, late
    yield* sleep(1);
    yield* sleep(1);
    return { expired: d.expired, size: wd.size };
  }, { reactor });
  // Counting wake-ups, it would need ten more of them (100 ms) to fire.
  expect(result).toEqual({ expired: true, size: 0 });
});

test("after a late wake-up, a deadline armed then is measured from now: it does not fire early", async () => {
  const reactor = new LateReactor();
  const result = await run(function* () {
    const wd = new Watchdog(10, "test");
    const keep = wd.arm(10_000, () => {}); // keeps the reaper up
    yield* wd.start();
    yield* sleep(15);
    reactor.skew += 500;
    const d = wd.arm(100, () => {});
    const armedAt = reactor.now();
    let firedAt = -1;
    while (firedAt < 0) {
      yield* sleep(5);
      if (d.expired) firedAt = reactor.now();
    }
    wd.disarm(keep);
    return { waited: firedAt - armedAt };
  }, { reactor });
  expect(result.waited).toBeGreaterThanOrEqual(100);
  expect(result.waited).toBeLessThanOrEqual(100 + 30);
});

test("TickClock: a reaper that ends after its successor started (it was cancelled) does not stop the successor's clock", async () => {
  const { result } = await virtual(function* () {
    const clock = new TickClock(10);
    const first = yield* clock.start();
    yield* sleep(20);
    const second = yield* clock.start(); // the successor, while the first has not ended yet
    clock.stop(first); // the first ends: stale, ignored
    yield* sleep(35);
    const running = clock.tick; // still counting time: 2 + 3
    clock.stop(second);
    yield* sleep(50);
    return { running, stopped: clock.tick };
  });
  expect(result).toEqual({ running: 5, stopped: 5 });
});
