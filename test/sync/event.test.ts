import { describe, expect, test } from "bun:test";
import { Cancelled, cancel, channel, Condition, DeadlockError, Event, group, interrupt, join, Lock, Semaphore, sleep, spawn, SyncUsageError, type Co } from "../../src/index.ts";
import { virtual, virtualError } from "../helpers.ts";

/**
 * A waiter on `cond` that logs an error other than Cancelled thrown at its wait, goes on (a
 * cancel held back is raised at its next yield), and logs if it is still running after that.
 */
function* loggingWaiter(cond: Condition, log: string[]): Co<void> {
  yield* cond.lock.acquire();
  try {
    try {
      yield* cond.wait();
    } catch (e) {
      if (e instanceof Cancelled) throw e;
      log.push(`caught ${(e as Error).message} holding the lock: ${cond.lock.locked}`);
    }
    yield* sleep(10); // a held-back cancel is raised here at the latest
    log.push("still running after cancel");
  } finally {
    cond.lock.release();
  }
}

describe("Event", () => {
  test("set wakes every waiter; wait returns at once when set; clear resets", async () => {
    const { result, reactor } = await virtual(function* () {
      const ev = new Event("ready");
      const woke: number[] = [];
      const ts = [];
      for (let i = 0; i < 3; i++) ts.push(yield* spawn(function* () { yield* ev.wait(); woke.push(i); }));
      yield* sleep(10);
      expect(woke).toEqual([]);
      ev.set();
      for (const t of ts) yield* join(t);
      yield* ev.wait(); // set: no wait
      ev.clear();
      expect(ev.isSet).toBe(false);
      return woke;
    });
    expect(result).toEqual([0, 1, 2]);
    expect(reactor.now()).toBe(10);
  });

  test("a cancelled waiter leaves", async () => {
    await virtual(function* () {
      const ev = new Event();
      const t = yield* spawn(() => ev.wait());
      yield* sleep(1);
      yield* cancel(t);
      expect(t.state).toBe("cancelled");
      ev.set();
    });
  });
});

describe("Condition", () => {
  test("wait by a task that does not hold the lock (another task does) is a SyncUsageError naming both", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition(new Lock(), "queue");
      const holder = yield* spawn(function* holder() { yield* cond.lock.acquire(); yield* sleep(10); cond.lock.release(); });
      yield* sleep(1);
      let error: unknown;
      yield* join(yield* spawn(function* stranger() {
        try { yield* cond.wait(); } catch (e) { error = e; }
      }));
      const still = cond.lock.holder === holder;
      yield* join(holder);
      return { error, still };
    });
    expect(result.error).toBeInstanceOf(SyncUsageError);
    expect((result.error as Error).message).toMatch(/^wait on condition "queue" by task "stranger" \(#\d+\): its lock is held by task "holder" \(#\d+\)$/);
    expect(result.still).toBe(true);
  });

  test("producer/consumer with waitFor and notify", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition(new Lock(), "items");
      const items: number[] = [];
      const got: number[] = [];
      const consumer = yield* spawn(function* () {
        for (let i = 0; i < 3; i++) {
          yield* cond.lock.with(function* () {
            yield* cond.waitFor(() => items.length > 0);
            got.push(items.shift()!);
          });
        }
      });
      for (let i = 0; i < 3; i++) {
        yield* sleep(5);
        yield* cond.lock.with(function* () { items.push(i); cond.notify(); });
      }
      yield* join(consumer);
      return got;
    });
    expect(result).toEqual([0, 1, 2]);
  });

  test("wait without the lock is a SyncUsageError", async () => {
    let err: unknown;
    await virtual(function* () {
      try { yield* new Condition().wait(); } catch (e) { err = e; }
    });
    expect(err).toBeInstanceOf(SyncUsageError);
  });

  test("cancelled while waiting: re-takes the lock before its finally, and releases it", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition();
      let heldInFinally = false;
      const t = yield* spawn(function* () {
        yield* cond.lock.acquire();
        try { yield* cond.wait(); } finally { heldInFinally = cond.lock.locked; cond.lock.release(); }
      });
      yield* sleep(1);
      expect(cond.lock.locked).toBe(false); // released while waiting
      yield* cancel(t);
      return [t.state, heldInFinally, cond.lock.locked, cond.waiting];
    });
    expect(result).toEqual(["cancelled", true, false, 0]);
  });

  test("notifyAll wakes all; notify(1) wakes the oldest", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition();
      const woke: string[] = [];
      for (const n of ["a", "b", "c"]) {
        yield* spawn(() => cond.lock.with(function* () { yield* cond.wait(); woke.push(n); }));
        yield* sleep(1);
      }
      cond.notify();
      yield* sleep(1);
      expect(woke).toEqual(["a"]);
      cond.notifyAll();
      yield* sleep(1);
      return woke;
    });
    expect(result).toEqual(["a", "b", "c"]);
  });

  test("cancelled while re-taking the lock after a notify: still holds it in finally, Cancelled propagates", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition();
      let heldInFinally = false;
      const t = yield* spawn(function* () {
        yield* cond.lock.acquire();
        try { yield* cond.wait(); } finally { heldInFinally = cond.lock.locked; cond.lock.release(); }
      });
      yield* sleep(1);
      yield* cond.lock.acquire(); // hold the lock, then notify: t wakes and queues for the lock
      cond.notify();
      yield* sleep(1);
      expect(cond.lock.waiting).toBe(1);
      const c = yield* spawn(function* () { yield* cancel(t); }); // t is cancelled while re-taking the lock
      yield* sleep(1);
      expect(t.ended).toBe(false); // it must get the lock first
      cond.lock.release();
      yield* join(c);
      return [t.state, heldInFinally, cond.lock.locked];
    });
    expect(result).toEqual(["cancelled", true, false]);
  });
});

describe("Condition notifications are never lost", () => {
  test("notify(0) wakes nobody and keeps every waiter", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition();
      const woke: number[] = [];
      const w = yield* spawn(() =>
        cond.lock.with(function* () {
          yield* cond.wait();
          woke.push(1);
        }),
      );
      yield* sleep(1);
      cond.notify(0);
      const after = cond.waiting;
      cond.notify(1);
      yield* sleep(1);
      return { after, woke, state: w.state };
    });
    expect(result).toEqual({ after: 1, woke: [1], state: "done" });
  });

  test("a notified waiter cancelled before it could re-take the lock passes the notification on", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition();
      const woke: string[] = [];
      const waiter = (name: string) =>
        spawn(() =>
          cond.lock.with(function* () {
            yield* cond.wait();
            woke.push(name);
          }),
        );
      const w1 = yield* waiter("w1");
      const w2 = yield* waiter("w2");
      yield* sleep(1);
      yield* cond.lock.acquire();
      yield* spawn(() =>
        cond.lock.with(function* () {
          yield* sleep(5);
        }),
      ); // next in line for the lock
      yield* sleep(1);
      cond.notify(1); // to w1
      cond.lock.release(); // the lock goes to the task in line, so w1 has to wait for it
      yield* cancel(w1); // ...and is cancelled while it does
      yield* sleep(20);
      return { w1: w1.state, w2: w2.state, woke, waiting: cond.waiting };
    });
    expect(result).toEqual({ w1: "cancelled", w2: "done", woke: ["w2"], waiting: 0 });
  });

  test("a cancel that arrives after an interrupt, while the waiter re-takes the lock, is raised after the interrupt (it was lost; found by review)", async () => {
    const log: string[] = [];
    const cond = new Condition();
    const { result } = await virtual(function* () {
      const t = yield* spawn(() => loggingWaiter(cond, log));
      yield* sleep(1); // t waits on the condition
      yield* cond.lock.acquire();
      cond.notify(); // t is woken and waits to re-take the lock, which main holds
      yield* sleep(1);
      yield* interrupt(t, new Error("deadline"));
      yield* sleep(1);
      const c = yield* spawn(function* canceller() { yield* cancel(t); });
      yield* sleep(1); // the cancel reaches t while it still waits for the lock
      cond.lock.release();
      yield* c;
      return t.state;
    });
    expect(log).toEqual(["caught deadline holding the lock: true"]);
    expect(result).toBe("cancelled");
  });

  test("new Condition(notALock) is a TypeError naming what it got (it failed later, wrongly saying the lock was not held; found by review)", () => {
    for (const bad of [42, "lock", new Semaphore(1), null]) {
      expect(() => new Condition(bad as unknown as Lock)).toThrow(/^new Condition\(lock\): lock must be a Lock/);
    }
    expect(() => new Condition(new Lock(), 5 as unknown as string)).toThrow(/^new Condition\(lock, name\): name must be a string/);
    expect(new Condition(undefined, "ok").name).toBe("ok");
  });

  test("a Lock, Semaphore, Event or channel named with no string, and group options of the wrong kind, are TypeErrors naming them (they were taken as they were; found by review)", async () => {
    expect(() => new Lock(5 as never)).toThrow(/^new Lock\(name\): name must be a string, got 5$/);
    expect(() => new Semaphore(2, {} as never)).toThrow(/^new Semaphore\(permits, name\): name must be a string, got \{\}$/);
    expect(() => new Event(null as never)).toThrow(/^new Event\(name\): name must be a string, got null$/);
    expect(() => channel(1, 7 as never)).toThrow(/^channel\(capacity, name\): name must be a string, got 7$/);
    expect([new Lock().name, new Semaphore(1, "s").name, new Event().name, channel(0, "c").name]).toEqual(["lock", "s", "event", "c"]);
    const { result } = await virtual(function* () {
      const out: string[] = [];
      for (const options of [{ name: 42 }, { forget: "yes" }, null, "g"]) {
        try { yield* group(function* () {}, options as never); out.push("accepted"); } catch (e) { out.push((e as Error).message); }
      }
      out.push(String(yield* group(function* () { return "ran"; }, { name: "ok", forget: false })));
      return out;
    });
    expect(result).toEqual([
      "group(body, { name }): name must be a string, got 42",
      'group(body, { forget }): forget must be true or false, got "yes"',
      "group(body, options): options must be an object such as { name, forget }, got null",
      'group(body, options): options must be an object such as { name, forget }, got "g"',
      "ran",
    ]);
  });

  test("waitFor with an async predicate, or one returning a promise, is a TypeError, not a wait that ends at once (a promise is truthy); with(asyncFn) is refused before it waits for a permit (found by review)", async () => {
    const cond = new Condition(new Lock(), "ready");
    const unhandled: unknown[] = [];
    const seen = (e: unknown): void => void unhandled.push(e);
    process.on("unhandledRejection", seen);
    try {
      const { result } = await virtual(function* () {
        const out: string[] = [];
        for (const predicate of [async () => false, () => Promise.reject(new Error("rejected")), function* ready() { return false; }, () => (function* () {})()]) {
          try { yield* cond.lock.with(() => cond.waitFor(predicate as never)); out.push("returned without waiting"); } catch (e) { out.push((e as Error).message); }
        }
        // Held by another task: an async body is refused at once, not after the wait for the lock.
        const holder = yield* spawn(() => cond.lock.with(() => sleep(1000)));
        yield* sleep(1);
        try { yield* cond.lock.with((async () => {}) as never); out.push("accepted"); } catch (e) { out.push((e as Error).message); }
        yield* cancel(holder);
        return out;
      });
      await Bun.sleep(5);
      expect(result[0]).toMatch(/^waitFor on condition "ready": predicate must be a plain function returning true or false, got an async function/);
      expect(result[1]).toBe('waitFor on condition "ready": predicate returned [object Promise], not true or false (it is called under the lock, and cannot wait)');
      expect(result[2]).toBe('waitFor on condition "ready": predicate must be a plain function returning true or false, got a generator function ready');
      expect(result[3]).toBe('waitFor on condition "ready": predicate returned a generator object, not true or false (it is called under the lock, and cannot wait)');
      expect(result[4]).toStartWith("lock.with: an anonymous function is an async function");
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", seen);
    }
  });

  test("waitFor(notAFunction) is a TypeError naming the condition", async () => {
    const cond = new Condition(new Lock(), "ready");
    const { result } = await virtual(function* () {
      yield* cond.lock.acquire();
      try {
        yield* cond.waitFor(42 as unknown as () => boolean);
      } catch (e) {
        return (e as Error).message;
      } finally {
        cond.lock.release();
      }
    });
    expect(result).toMatch(/^waitFor on condition "ready": predicate must be a plain function returning true or false, got 42/);
  });

  test("notify(n) with n no count is a RangeError naming it: 1.5 woke two waiters, NaN and -1 none (found by review)", async () => {
    const cond = new Condition(new Lock(), "ready");
    const { result } = await virtual(function* () {
      let woke = 0;
      const waiters = [];
      for (let i = 0; i < 3; i++) waiters.push(yield* spawn(() => cond.lock.with(function* () { yield* cond.wait(); woke++; })));
      yield* sleep(1);
      const errors: string[] = [];
      for (const bad of [1.5, NaN, -1, "2", null, -Infinity]) {
        try { cond.notify(bad as number); } catch (e) { errors.push(`${(e as Error).name}: ${(e as Error).message}`); }
      }
      yield* sleep(1);
      const afterBad = woke;
      cond.notify(0);
      yield* sleep(1);
      const afterZero = woke;
      cond.notify(2);
      yield* sleep(1);
      const afterTwo = woke;
      cond.notify(Infinity);
      for (const t of waiters) yield* join(t);
      return { errors, afterBad, afterZero, afterTwo, end: woke };
    });
    const got = (v: string): string => `RangeError: notify(n) on condition "ready": n must be an integer >= 0 or Infinity, got ${v}`;
    expect(result.errors).toEqual([got("1.5"), got("NaN"), got("-1"), got('"2"'), got("null"), got("-Infinity")]);
    expect([result.afterBad, result.afterZero, result.afterTwo, result.end]).toEqual([0, 0, 2, 3]);
  });
});

test("Condition: a waiter cancelled in its wait, then interrupted while it re-takes the lock, still ends cancelled (the interrupt replaced the cancel; found by review)", async () => {
  const log: string[] = [];
  const cond = new Condition();
  const { result } = await virtual(function* () {
    const t = yield* spawn(() => loggingWaiter(cond, log));
    yield* sleep(1);
    yield* cond.lock.acquire(); // main holds the lock
    const c = yield* spawn(function* canceller() { yield* cancel(t); });
    yield* sleep(1); // the cancel reaches t in its wait: t now waits to re-take the lock
    yield* interrupt(t, new Error("deadline"));
    yield* sleep(1);
    cond.lock.release();
    yield* c;
    return t.state;
  });
  expect(log).toEqual([]);
  expect(result).toBe("cancelled");
});

test("Condition: a deadlock that comes while a waiter re-takes the lock inside lock.with() reaches it as the DeadlockError, the one failure (found by review: with() released a lock it no longer held, and that SyncUsageError replaced it)", async () => {
  const cond = new Condition(undefined, "c");
  const never = channel<number>(0, "never");
  let waiterError: unknown;
  const { error } = await virtualError(function* () {
    const w = yield* spawn(function* () {
      try {
        yield* cond.lock.with(function* () {
          yield* cond.wait();
        });
      } catch (e) {
        waiterError = e;
        throw e;
      }
    }, { name: "W" });
    yield* sleep(1);
    yield* spawn(function* () {
      yield* cond.lock.with(function* () {
        cond.notify();
        yield* never.recv(); // holds the lock for ever
      });
    }, { name: "H" });
    yield* join(w);
  });
  expect(waiterError).toBeInstanceOf(DeadlockError);
  expect(error).toBeInstanceOf(DeadlockError);
});

test("lock.with(): a body that returns after giving its lock away still reports the release that is not its own; one that throws keeps its own error", async () => {
  const { result } = await virtual(function* () {
    const lock = new Lock("l");
    const out: string[] = [];
    for (const ends of ["returns", "throws"]) {
      try {
        yield* lock.with(function* () {
          lock.release(); // misuse: the lock is given back inside with()
          if (ends === "throws") throw new Error("body failed");
        });
        out.push("no error");
      } catch (e) {
        out.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    return out;
  });
  expect(result).toEqual(['SyncUsageError: release of lock "l": no permit is held', "Error: body failed"]);
});
