import { describe, expect, test } from "bun:test";
import { Cancelled, cancel, Event, join, run, channel, interrupt, Lock, moveOnAfter, sleep, spawn, timeout, TimeoutError } from "../../src/index.ts";
import { Scheduler, type Co, type Task } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";
import { virtualError } from "../helpers.ts";

/** Run `main(scheduler)` in virtual time, so the body can read the scheduler's stats. */
async function virtual<T>(main: (s: Scheduler) => Co<T>) {
  const reactor = new FakeReactor();
  const scheduler = new Scheduler({ reactor });
  const result = await scheduler.run(() => main(scheduler));
  return { result, scheduler, reactor };
}

describe("timeout", () => {
  test("returns the result in time; leaves no timer armed", async () => {
    const { result, scheduler, reactor } = await virtual(function* (scheduler) {
      const v = yield* timeout(50, function* () { yield* sleep(10); return "ok"; });
      expect(scheduler.stats().sleepers).toBe(0);
      return v;
    });
    expect(result).toBe("ok");
    expect(reactor.now()).toBe(10);
  });

  test("work that catches its Cancelled and returns later has that value returned, as the README says (curio's and trio's rule)", async () => {
    const { result, reactor } = await virtual(function* () {
      const work = function* () {
        try {
          yield* sleep(1000);
        } catch (e) {
          if (!(e instanceof Cancelled)) throw e;
        }
        yield* sleep(100); // goes on after its cancel
        return "finished late";
      };
      return [yield* timeout(10, work), yield* moveOnAfter(10, work)];
    });
    expect(result).toEqual(["finished late", "finished late"]);
    expect(reactor.now()).toBe(220);
  });

  test("expiry cancels the work (its finally runs first) and throws TimeoutError", async () => {
    const log: string[] = [];
    const { error, reactor } = await virtualError(function* () {
      yield* timeout(10, function* work() {
        try { yield* sleep(1000); } finally { yield* sleep(2); log.push("cleaned"); }
      });
    });
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(/^task "main" \(#\d+\) timed out after 10 ms$/);
    expect(log).toEqual(["cleaned"]);
    expect(reactor.now()).toBe(12);
  });

  test("the work's own error passes through", async () => {
    const { error } = await virtualError(() => timeout(10, function* () { throw new Error("own"); }));
    expect((error as Error).message).toBe("own");
  });

  test("moveOnAfter returns undefined on expiry", async () => {
    const { result } = await virtual(function* () {
      const a = yield* moveOnAfter(10, function* () { yield* sleep(100); return "late"; });
      const b = yield* moveOnAfter(10, function* () { yield* sleep(1); return "early"; });
      return [a, b];
    });
    expect(result).toEqual([undefined, "early"]);
  });

  test("nested: inner expires first → inner TimeoutError, outer unaffected", async () => {
    const { result } = await virtual(function* () {
      return yield* timeout(100, function* () {
        try {
          yield* timeout(10, function* () { yield* sleep(1000); });
        } catch (e) {
          return e instanceof TimeoutError ? `inner ${(e as TimeoutError).ms}` : "other";
        }
      });
    });
    expect(result).toBe("inner 10");
  });

  test("nested: outer expires first → inner sees Cancelled (not a timeout), outer throws TimeoutError", async () => {
    let inner: unknown;
    const { error } = await virtualError(function* () {
      yield* timeout(10, function* () {
        try {
          yield* timeout(100, function* () { yield* sleep(1000); });
        } catch (e) {
          inner = e;
          throw e;
        }
      });
    });
    expect(inner).toBeInstanceOf(Cancelled);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).ms).toBe(10);
  });

  test("nested: both expire at the same instant → the outer one wins", async () => {
    const { error } = await virtualError(function* () {
      yield* timeout(10, function* () {
        yield* timeout(10, function* () { yield* sleep(1000); });
      });
    });
    expect(error).toBeInstanceOf(TimeoutError);
    // Which one? The outer was started first, by main.
    expect((error as TimeoutError).task.name).toBe("main");
  });

  test("cancelling the caller cancels the work and the timer", async () => {
    const log: string[] = [];
    const { result } = await virtual(function* (scheduler) {
      const t = yield* spawn(() => timeout(100, function* () { try { yield* sleep(1000); } finally { log.push("work ended"); } }));
      yield* sleep(5);
      yield* cancel(t);
      expect(scheduler.stats().sleepers).toBe(0);
      return t.state;
    });
    expect(result).toBe("cancelled");
    expect(log).toEqual(["work ended"]);
  });

  test("bad ms", async () => {
    const { error } = await virtualError(() => timeout(-1, function* () {}));
    expect(error).toBeInstanceOf(RangeError);
  });

  test("ms = Infinity: no timer at all", async () => {
    const { result } = await virtual(function* (scheduler) {
      const inf = yield* timeout(Infinity, function* () { yield* sleep(5); return scheduler.stats().sleepers; });
      const fin = yield* timeout(1000, function* () { yield* sleep(5); return scheduler.stats().sleepers; });
      return [inf, fin];
    });
    expect(result).toEqual([0, 1]); // after the work's sleep: only a finite limit's timer is left
  });
});

describe("work that finishes in the tick its deadline passes", () => {
  test("moveOnAfter returns a value the work received then, instead of losing it", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(0);
      yield* spawn(function* () {
        yield* sleep(10);
        ch.trySend(42); // in the tick the deadline passes
      });
      const got = yield* moveOnAfter(10, () => ch.recv());
      return { got, left: ch.tryRecv() };
    });
    expect(result.got).toEqual({ value: 42, done: false });
    expect(result.left).toBeUndefined();
  });

  test("timeout returns when the work acquired a lock then, so the caller knows it holds it", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      yield* spawn(function* () {
        yield* lock.acquire();
        yield* sleep(10);
        lock.release(); // at t=10
      });
      yield* sleep(1);
      let outcome = "acquired";
      try {
        yield* timeout(9, () => lock.acquire()); // deadline at t=10 too
        lock.release();
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        outcome = "timed out";
      }
      return { outcome, locked: lock.locked };
    });
    expect(result.locked).toBe(false);
  });
});


describe("work that fails in the tick its deadline passes", () => {
  test("timeout throws the work's own error, not a TimeoutError", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(0);
      yield* spawn(function* () {
        yield* sleep(10);
        ch.trySend(1); // wakes the work in the tick the timer expires
      });
      try {
        yield* timeout(10, function* () {
          yield* ch.recv();
          throw new Error("disk full");
        });
        return "no error";
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(result).toBe("Error: disk full");
  });
});

describe("the caller cancelled in the tick its work finished", () => {
  test("timeout returns the value the work received; the Cancelled comes at the caller's next yield", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(0);
      const kept: number[] = [];
      const caller = yield* spawn(function* () {
        const r = yield* timeout(1000, () => ch.recv());
        kept.push(r.value!);
        yield* sleep(1); // the Cancelled is raised here
        kept.push(-1);
      });
      yield* sleep(5);
      ch.trySend(42); // handed to the work task...
      yield* cancel(caller); // ...and its caller cancelled in the same tick
      return { kept, state: caller.state };
    });
    expect(result).toEqual({ kept: [42], state: "cancelled" });
  });

  test("a lock the work acquired is the caller's, which releases it in its finally", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock("db");
      yield* lock.acquire();
      const caller = yield* spawn(function* () {
        yield* timeout(1000, () => lock.acquire());
        try { yield* sleep(1); } finally { lock.release(); }
      });
      yield* sleep(5);
      lock.release(); // hands the lock to the work task
      yield* cancel(caller); // same tick
      yield* sleep(10);
      return { state: caller.state, locked: lock.locked };
    });
    expect(result).toEqual({ state: "cancelled", locked: false });
  });

  test("nested: the outer deadline passes in the tick the inner work gets the lock", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock("db");
      yield* spawn(function* () { yield* lock.acquire(); yield* sleep(10); lock.release(); });
      yield* sleep(1);
      let outcome = "";
      try {
        yield* timeout(9, function* () {
          yield* timeout(1000, () => lock.acquire());
          try { yield* sleep(100); } finally { lock.release(); }
        });
      } catch (e) {
        outcome = (e as Error).name;
      }
      return { outcome, locked: lock.locked };
    });
    expect(result).toEqual({ outcome: "TimeoutError", locked: false });
  });
});

test("a caller that returns what timeout gave it in its cancel's tick ends done with it, as with a plain recv", async () => {
  const { result } = await virtual(function* () {
    const ch = channel<number>(0);
    const t = yield* spawn(function* () {
      return yield* timeout(1000, function* () { return (yield* ch.recv()).value; });
    });
    yield* sleep(1);
    ch.trySend(42);
    yield* cancel(t);
    return { state: t.state, result: t.result };
  });
  expect(result).toEqual({ state: "done", result: 42 });
});

test("nested: the inner timeout's work returns the value handed to it in the outer deadline's tick", async () => {
  const { result } = await virtual(function* () {
    const ch = channel<number>(0);
    yield* spawn(function* () { yield* sleep(10); ch.trySend(42); });
    return yield* moveOnAfter(10, () => timeout(1000, function* () { return (yield* ch.recv()).value; }));
  });
  expect(result).toBe(42);
});

test("an interrupt then a cancel while timeout winds down: the interrupt is thrown, the Cancelled raised after it", async () => {
  const log: string[] = [];
  const { result } = await virtual(function* () {
    const x = yield* spawn(function* () {
      try {
        yield* timeout(1000, function* work() {
          try { yield* sleep(500); } finally { yield* sleep(50); } // a slow cleanup
        });
      } catch (e) {
        log.push(`caught ${e instanceof Cancelled ? "Cancelled" : (e as Error).message}`);
      }
      try {
        for (let i = 0; i < 100; i++) yield* sleep(100);
        log.push("ran to the end");
      } catch (e) {
        log.push(`then ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
        throw e;
      }
    });
    yield* sleep(1);
    yield* interrupt(x, new Error("deadline"));
    yield* sleep(1); // x now waits for the work's cleanup
    yield* cancel(x);
    return x.state;
  });
  expect(log).toEqual(["caught deadline", "then Cancelled"]);
  expect(result).toBe("cancelled");
});

test("a limit's deadline runs from the call, not from after the work's first step: a first step that takes the CPU past it counts (found by review; real time)", async () => {
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // a CPU-bound first step (parsing a large body, say)
    }
  };
  const work = function* (): Co<string> {
    busy(120);
    yield* sleep(20); // a checkpoint once the 50 ms deadline has passed: the limit expires there
    return "late result";
  };
  const out = await run(function* () {
    const moved = yield* moveOnAfter(50, work);
    try {
      return [moved, yield* timeout(50, work)];
    } catch (e) {
      return [moved, (e as Error).name];
    }
  });
  expect(out).toEqual([undefined, "TimeoutError"]);
});

test("an interrupt that reaches a caller in the tick its limited work finished: the result first, the error at the caller's next yield (as documented)", async () => {
  const { result } = await virtual(function* () {
    const log: string[] = [];
    const ev = new Event();
    const t = yield* spawn(function* () {
      const r = yield* moveOnAfter(100, () => ev.wait());
      log.push(`returned ${String(r)}`);
      try {
        yield;
      } catch (e) {
        log.push(`caught ${(e as Error).message} at the next yield`);
      }
      return "ok";
    });
    yield* sleep(5);
    ev.set(); // the work ends in this tick, and the interrupt comes in it too
    log.push(`interrupt ${yield* interrupt(t, new Error("int"))}`);
    log.push(`joined ${yield* join(t)}`);
    return log;
  });
  expect(result).toEqual(["interrupt true", "returned undefined", "caught int at the next yield", "joined ok"]);
});

describe("an interrupt in the deadline's tick (found by review: the caller was ready, not waiting, in that tick, so interrupt() refused it and its error was lost)", () => {
  test("with the work finishing in that tick too: the result first, the error at the caller's next yield", async () => {
    const { result } = await virtual(function* () {
      const log: string[] = [];
      const ev = new Event();
      let caller: Task<void> | undefined;
      yield* spawn(function* () {
        yield* sleep(10);
        ev.set(); // the work finishes in the deadline's tick...
        log.push(`interrupt ${yield* interrupt(caller!, new Error("int"))}`); // ...and the interrupt comes in it
      });
      caller = yield* spawn(function* () {
        log.push(`got ${yield* timeout(10, function* () { yield* ev.wait(); return "v"; })}`);
        try { yield* sleep(1); log.push("slept"); } catch (e) { log.push(`next yield: ${(e as Error).message}`); }
      });
      yield* join(caller);
      return log;
    });
    expect(result).toEqual(["interrupt true", "got v", "next yield: int"]);
  });

  test("with no result: the interrupt's error, not the TimeoutError", async () => {
    const { result } = await virtual(function* () {
      const log: string[] = [];
      let caller: Task<void> | undefined;
      yield* spawn(function* () { yield* sleep(10); log.push(`interrupt ${yield* interrupt(caller!, new Error("int"))}`); });
      caller = yield* spawn(function* () {
        try { yield* timeout(10, () => sleep(100)); } catch (e) { log.push(e instanceof TimeoutError ? "TimeoutError" : (e as Error).message); }
      });
      yield* join(caller);
      return log;
    });
    expect(result).toEqual(["interrupt true", "int"]);
  });
});
