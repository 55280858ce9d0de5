import { describe, expect, test } from "bun:test";
import { cancel, Condition, join, Lock, moveOnAfter, Semaphore, shield, sleep, spawn, SyncUsageError, timeout, wait, Event } from "../../src/index.ts";
import { virtual } from "../helpers.ts";

describe("Lock", () => {
  test("mutual exclusion and FIFO hand-off", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock("l");
      const order: string[] = [];
      let inside = 0, maxInside = 0;
      const ts = [];
      for (const name of ["a", "b", "c", "d"]) {
        ts.push(yield* spawn(function* () {
          yield* lock.with(function* () {
            inside++;
            maxInside = Math.max(maxInside, inside);
            order.push(name);
            yield* sleep(5);
            inside--;
          });
        }));
        yield* sleep(1); // arrival order a, b, c, d
      }
      for (const t of ts) yield* join(t);
      return { order, maxInside, locked: lock.locked };
    });
    expect(result).toEqual({ order: ["a", "b", "c", "d"], maxInside: 1, locked: false });
  });

  test("a newcomer cannot overtake queued waiters", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      const order: string[] = [];
      yield* lock.acquire();
      yield* spawn(function* () { yield* lock.acquire(); order.push("waiter"); lock.release(); });
      yield* sleep(1);
      lock.release(); // handed straight to "waiter"
      expect(lock.tryAcquire()).toBe(false);
      yield* lock.acquire();
      order.push("newcomer");
      lock.release();
      return order;
    });
    expect(result).toEqual(["waiter", "newcomer"]);
  });

  test("a waiter cancelled while queued leaves; the lock goes to the next", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const victim = yield* spawn(() => lock.acquire());
      const next = yield* spawn(function* () { yield* lock.acquire(); return "got it"; });
      yield* sleep(1);
      expect(lock.waiting).toBe(2);
      yield* cancel(victim);
      expect(lock.waiting).toBe(1);
      lock.release();
      return yield* join(next);
    });
    expect(result).toBe("got it");
  });

  test("a waiter handed the lock and cancelled at once does not keep it", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const victim = yield* spawn(function* () {
        yield* lock.acquire();
        try { yield* sleep(1000); } finally { lock.release(); }
      });
      yield* sleep(1);
      lock.release(); // hand-off to the victim...
      yield* cancel(victim); // ...cancelled before it ran
      return lock.locked;
    });
    expect(result).toBe(false);
  });

  test("release of an unheld lock is a SyncUsageError", () => {
    expect(() => new Lock("db").release()).toThrow(SyncUsageError);
  });

  test("with() releases when the body throws", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      try { yield* lock.with(function* () { throw new Error("x"); }); } catch {}
      return lock.locked;
    });
    expect(result).toBe(false);
  });
});

describe("Lock: its holder", () => {
  test("a task cannot release a lock another task holds: a SyncUsageError naming both, and the holder keeps it", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock("db");
      const owner = yield* spawn(function* owner() {
        yield* lock.acquire();
        yield* sleep(10);
        lock.release();
      });
      yield* sleep(1);
      let error: unknown;
      yield* join(yield* spawn(function* intruder() {
        try { lock.release(); } catch (e) { error = e; }
      }));
      const heldAfter = [lock.locked, lock.holder === owner];
      yield* join(owner);
      return { error, heldAfter, lockedAtEnd: lock.locked };
    });
    expect(result.error).toBeInstanceOf(SyncUsageError);
    expect((result.error as Error).message).toMatch(/^release of lock "db" by task "intruder" \(#\d+\): it is held by task "owner" \(#\d+\)$/);
    expect(result.heldAfter).toEqual([true, true]);
    expect(result.lockedAtEnd).toBe(false);
  });

  test("holder follows acquire and the hand-off to the oldest waiter", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      const seen: string[] = [];
      const name = () => lock.holder?.name ?? "-";
      const a = yield* spawn(function* a() { yield* lock.acquire(); seen.push(name()); yield* sleep(5); lock.release(); });
      const b = yield* spawn(function* b() { yield* sleep(1); yield* lock.acquire(); seen.push(name()); lock.release(); });
      yield* join(a);
      yield* join(b);
      seen.push(name());
      return seen;
    });
    expect(result).toEqual(["a", "b", "-"]);
  });

  test("a lock taken by a helper that has ended (timeout's work task) is the caller's to release", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      yield* timeout(100, () => lock.acquire());
      const helperEnded = lock.holder?.ended;
      lock.release();
      return { helperEnded, locked: lock.locked };
    });
    expect(result).toEqual({ helperEnded: true, locked: false });
  });

  test("a helper the holder spawned (shield's work) may release it", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      try {
        yield* sleep(1);
      } finally {
        yield* shield(function* () { yield* sleep(1); lock.release(); });
      }
      return lock.locked;
    });
    expect(result).toBe(false);
  });

  test("a timed Condition wait: moveOnAfter's work waits under the caller's lock", async () => {
    const { result } = await virtual(function* () {
      const cond = new Condition();
      let ready = false;
      yield* spawn(function* () {
        yield* sleep(5);
        yield* cond.lock.with(function* () { ready = true; cond.notify(); });
      });
      return yield* cond.lock.with(function* () {
        const r = yield* moveOnAfter(100, function* () { yield* cond.waitFor(() => ready); return "woken"; });
        return r ?? "timed out";
      });
    });
    expect(result).toBe("woken");
  });

  test("code outside any task may not release a lock a running task holds (found by review: a timer's release let a second task in)", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock("state");
      const done = new Event();
      let inside = 0;
      let most = 0;
      let error: unknown;
      const holder = function* holder() {
        yield* lock.with(function* () {
          inside++;
          most = Math.max(most, inside);
          yield* done.wait();
          inside--;
        });
      };
      const ts = [yield* spawn(holder), yield* spawn(holder)];
      yield* sleep(1); // the first holds the lock, the second waits for it
      yield* wait(new Promise<void>((resolve) => {
        setTimeout(() => {
          try {
            lock.release(); // a callback, while the first holder runs
          } catch (e) {
            error = e;
          }
          resolve();
        }, 0);
      }));
      yield* sleep(1);
      done.set();
      for (const t of ts) yield* join(t);
      return { most, error, locked: lock.locked };
    });
    expect(result.most).toBe(1);
    expect(result.error).toBeInstanceOf(SyncUsageError);
    expect((result.error as Error).message).toMatch(/^release of lock "state" by code outside any task \(a callback\): it is held by task "holder" \(#\d+\)$/);
    expect(result.locked).toBe(false);
  });

  test("code outside any task (an onEnd callback) may release it", async () => {
    const { result } = await virtual(function* () {
      const lock = new Lock();
      const t = yield* spawn(function* holder() { yield* lock.acquire(); });
      t.onEnd(() => lock.release()); // the task ended holding it: give it back
      yield* join(t);
      return lock.locked;
    });
    expect(result).toBe(false);
  });
});

describe("Semaphore", () => {
  test("at most n holders", async () => {
    const { result } = await virtual(function* () {
      const sem = new Semaphore(2, "pool");
      let inside = 0, max = 0;
      const ts = [];
      for (let i = 0; i < 6; i++) ts.push(yield* spawn(() => sem.with(function* () {
        inside++; max = Math.max(max, inside); yield* sleep(3); inside--;
      })));
      for (const t of ts) yield* join(t);
      return [max, sem.available];
    });
    expect(result).toEqual([2, 2]);
  });

  test("cancelled waiter does not consume a permit", async () => {
    const { result } = await virtual(function* () {
      const sem = new Semaphore(1);
      yield* sem.acquire();
      const v = yield* spawn(() => sem.acquire());
      yield* sleep(1);
      yield* cancel(v);
      sem.release();
      return sem.available;
    });
    expect(result).toBe(1);
  });

  test("bad permits, over-release", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(2).release()).toThrow(SyncUsageError);
  });
});

test("the holder acquiring its lock again is a SyncUsageError naming both (it would wait for itself for ever)", async () => {
  const { result } = await virtual(function* () {
    const lock = new Lock("accounts");
    let message = "";
    yield* lock.with(function* () {
      try {
        yield* lock.with(function* () {}); // nested in the same task
      } catch (error) {
        message = error instanceof SyncUsageError ? error.message : `other: ${String(error)}`;
      }
    });
    return { message, locked: lock.locked };
  });
  expect(result.message).toContain('acquire of lock "accounts" by task');
  expect(result.message).toContain("holds the lock already");
  expect(result.locked).toBe(false);
});

test("a task may wait for a lock its ended child or helper took, while another task releases it (any task may release a lock whose holder ended; a review's fix refused this and was reverted)", async () => {
  const { result, reactor } = await virtual(function* () {
    const lock = new Lock("baton");
    const taker = yield* spawn(function* taker() { yield* lock.acquire(); }); // ends holding the lock
    yield* join(taker);
    yield* spawn(function* releaser() { yield* sleep(10); lock.release(); });
    yield* lock.acquire(); // waits for the releaser, then takes it
    lock.release();
    yield* timeout(100, () => lock.acquire()); // a helper takes it and ends: the same
    yield* spawn(function* releaser() { yield* sleep(10); lock.release(); });
    yield* lock.acquire();
    lock.release();
    return lock.locked;
  });
  expect(result).toBe(false);
  expect(reactor.now()).toBe(20);
});
