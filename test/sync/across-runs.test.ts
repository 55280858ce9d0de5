import { test, expect } from "bun:test";
import { run, sleep, spawn, channel, timeout, Lock, Semaphore, Event, Condition } from "../../src/index.ts";

// Two run()s in one process each have a scheduler of their own; the synchronisation objects are
// plain values, so tasks of both may share them (a wake-up from one run readies a task of the other).

test("a channel shared by two concurrent runs: sends in one reach receivers in the other, in order, and close ends them", async () => {
  const ch = channel<number>(2);
  const receiver = run(function* () {
    const got: number[] = [];
    for (;;) {
      const r = yield* ch.recv();
      if (r.done) return got;
      got.push(r.value);
    }
  });
  const sender = run(function* () {
    for (let i = 0; i < 50; i++) yield* ch.send(i);
    ch.close();
    return "sent";
  });
  expect(await Promise.all([receiver, sender])).toEqual([Array.from({ length: 50 }, (_, i) => i), "sent"]);
});

test("a Lock, a Semaphore, an Event and a Condition shared by two concurrent runs hand over across them", async () => {
  const lock = new Lock("shared");
  const permits = new Semaphore(1, "one");
  const go = new Event("go");
  const cond = new Condition(new Lock("cond"), "ready");
  const log: string[] = [];
  let ready = false;
  const a = run(function* () {
    yield* lock.acquire();
    yield* permits.acquire();
    log.push("a holds");
    yield* go.wait(); // set by b
    log.push("a woken");
    lock.release();
    permits.release();
    yield* cond.lock.with(function* () {
      ready = true;
      cond.notifyAll();
    });
  });
  const b = run(function* () {
    yield* sleep(5);
    go.set();
    yield* lock.with(function* () {
      log.push("b has the lock");
    });
    yield* permits.with(function* () {
      log.push("b has the permit");
    });
    yield* cond.lock.with(function* () {
      yield* cond.waitFor(() => ready);
    });
    log.push("b saw ready");
  });
  await Promise.all([a, b]);
  expect(log).toEqual(["a holds", "a woken", "b has the lock", "b has the permit", "b saw ready"]);
});

test("a run that ends cancels its own waiter on a shared channel, and the other run's sends still go to live receivers", async () => {
  const ch = channel<string>();
  const short = run(function* () {
    yield* spawn(function* () {
      yield* ch.recv(); // cancelled when this run's main ends
    });
    yield* sleep(5);
    return "short done";
  });
  expect(await short).toBe("short done");
  const pair = await Promise.all([
    run(function* () {
      return (yield* timeout(2000, () => ch.recv())).value;
    }),
    run(function* () {
      yield* ch.send("hello");
      return "sent";
    }),
  ]);
  expect(pair).toEqual(["hello", "sent"]); // not lost to the ended run's cancelled receiver
});
