/**
 * FakeReactor and deadlocks: a run whose tasks all wait on each other (and on nothing from
 * outside) fails with a DeadlockError naming each wait, after `deadlockTimeout` real ms
 * (IDLE_CHECK_MS unless told), instead of hanging its test (found by review); waits that
 * outside code may still end are left alone. These tests take real time (QUICK ms or more each).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { run, spawn, join, sleep, wait, cancel, channel, shield, timeout, Event, Lock, Condition, DeadlockError, TaskError, type Co } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";
import { IDLE_CHECK_MS } from "../../src/reactor/fake.ts";

/** The idle period most tests give their reactor: the default's 2 s, 15 times over, was a third of the suite's time. */
const QUICK = 300;
const quick = (): FakeReactor => new FakeReactor({ deadlockTimeout: QUICK });

describe("a deadlock in virtual time", () => {
  test("tasks that all wait on each other fail the run with a DeadlockError naming every wait", async () => {
    const t0 = performance.now();
    const error = await run(
      function* () {
        const ch = channel<number>(0, "jobs");
        yield* spawn(function* () { yield* ch.recv(); }, { name: "consumer" });
        yield* ch.recv(); // nobody will ever send
      },
      { reactor: new FakeReactor() },
    ).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).waits).toEqual([
      expect.stringMatching(/^task "main" \(#\d+\) waits on recv\(channel "jobs"\)$/),
      expect.stringMatching(/^task "consumer" \(#\d+\) waits on recv\(channel "jobs"\)$/),
    ]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(IDLE_CHECK_MS - 50);
  }, 10_000);

  test("sleep(Infinity) with nothing that could cancel it is reported too", async () => {
    const forever = await run(function* () { yield* sleep(Infinity); }, { reactor: quick() }).then(() => "ended", (e: unknown) => e);
    expect(forever).toBeInstanceOf(DeadlockError);
    expect((forever as DeadlockError).message).toContain('task "main"');
    expect((forever as DeadlockError).message).toContain("sleep(Infinity)");
  }, 10_000);

  test("a sleep too long for the virtual clock (past 2^52 ms) waits until cancelled: the clock never jumps where 1 ms steps end early (found by review)", async () => {
    const clock = quick();
    const out = await run(
      function* () {
        const forever = yield* spawn(function* () { yield* sleep(Number.MAX_SAFE_INTEGER); return "woke"; }, { name: "forever" });
        const steps: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t = clock.now();
          yield* sleep(1);
          steps.push(clock.now() - t);
        }
        yield* forever; // waits until the deadlock check: the sleep has no timer to jump to
        return steps;
      },
      { reactor: clock },
    ).then((v) => v, (e: unknown) => e);
    expect(out).toBeInstanceOf(DeadlockError);
    expect((out as DeadlockError).waits[1]).toContain("sleep(9007199254740991)");
    expect(clock.now()).toBe(3);
  }, 10_000);

  test("a deadlock under a shield, or in a timed-out task's cleanup, is broken too: every task gets the one error (the oldest alone held it; found by review)", async () => {
    const jobs = channel<number>(0, "jobs");
    const shielded = await run(function* () { yield* shield(function* () { yield* jobs.recv(); }); }, { reactor: quick() }).then(() => "ended", (e: unknown) => e);
    expect(shielded).toBeInstanceOf(DeadlockError);
    const cleanup = await run(
      function* () {
        yield* timeout(10, function* () {
          try {
            yield* sleep(100);
          } finally {
            yield* jobs.recv();
          }
        });
      },
      { reactor: quick() },
    ).then(() => "ended", (e: unknown) => e);
    expect(cleanup).toBeInstanceOf(DeadlockError);
    const cancelling = await run(
      function* () {
        const child = yield* spawn(function* () {
          try {
            yield* sleep(Infinity);
          } finally {
            yield* jobs.recv();
          }
        });
        yield* sleep(1);
        yield* cancel(child);
      },
      { reactor: quick() },
    ).then(() => "ended", (e: unknown) => e);
    expect(cancelling).toBeInstanceOf(DeadlockError); // itself, not a TaskError around two of them
  }, 20_000);

  test("a Condition waiter whose lock was leaked by a task that ended is not retried for ever: the run rejects (found by review)", async () => {
    const lock = new Lock("L");
    const ready = new Condition(lock, "ready");
    const jobs = channel<number>(0, "jobs");
    const out = await run(
      function* () {
        yield* spawn(function* () { yield* lock.with(function* () { yield* ready.wait(); }); }, { name: "waiter" });
        yield* sleep(1);
        yield* lock.acquire(); // no try/finally: the DeadlockError leaks the lock
        yield* jobs.recv();
        lock.release();
      },
      { reactor: quick() },
    ).then(() => "resolved", (e: unknown) => e);
    // Main's DeadlockError, with the waiter's (a second check's, once the lock never came) riding along.
    expect(out).toBeInstanceOf(TaskError);
    expect((out as TaskError).cause).toBeInstanceOf(DeadlockError);
    expect((out as TaskError).message).toContain("and 1 other unjoined failure");
  }, 15_000);

  test("a task another run will wake is not deadlocked while that run is busy, without any promise (found by review)", async () => {
    const go = new Event("go");
    const waiting = run(function* () { yield* go.wait(); return "woken"; }, { reactor: quick() }).catch((e: unknown) => e);
    const busy = run(
      function* () {
        const t0 = performance.now();
        while (performance.now() - t0 < QUICK + 1000) yield; // ticks, on and on, in real time
        go.set();
        return "set";
      },
      { reactor: quick() },
    );
    expect(await Promise.all([waiting, busy])).toEqual(["woken", "set"]);
  }, 15_000);

  test("a task another run will wake after a long sleep is not deadlocked: that run has a timer (found by review)", async () => {
    const go = new Event("go");
    const waiting = run(function* () { yield* go.wait(); return "woken"; }, { reactor: quick() }).catch((e: unknown) => e);
    const sleeper = run(function* () {
      yield* sleep(2 * QUICK + 1000); // real time, no tick meanwhile
      go.set();
      return "set";
    });
    expect(await Promise.all([waiting, sleeper])).toEqual(["woken", "set"]);
  }, 15_000);

  test("two runs stuck on each other are both reported", async () => {
    const ping = channel<number>(0, "ping");
    const pong = channel<number>(0, "pong");
    const a = run(function* () { yield* ping.recv(); yield* pong.send(1); }, { reactor: quick() }).catch((e: unknown) => e);
    const b = run(function* () { yield* pong.recv(); yield* ping.send(1); }, { reactor: quick() }).catch((e: unknown) => e);
    const [ea, eb] = await Promise.all([a, b]);
    expect(ea).toBeInstanceOf(DeadlockError);
    expect(eb).toBeInstanceOf(DeadlockError);
  }, 15_000);

  test("a wait on a promise is not a deadlock, however long it takes: it may settle from outside", async () => {
    const late = await run(
      function* () {
        yield* spawn(function* () { yield* channel<number>(0, "idle").recv(); }); // waits on another task meanwhile
        return yield* wait(new Promise<string>((resolve) => setTimeout(() => resolve("late"), QUICK + 500)));
      },
      { reactor: quick() },
    ).then((v) => v, (e: unknown) => e);
    expect(late).toBe("late");
  }, 10_000);
});

describe("deadlockTimeout", () => {
  // A wait that only Promise code ends (here an Event set from a timer) looks like a deadlock to the check.
  function* wokenFromOutside(after: number) {
    const go = new Event("go");
    setTimeout(() => go.set(), after);
    yield* go.wait();
    return "woken";
  }

  test("sets how long the reactor sits idle before it reports: one Promise code wakes later is reported", async () => {
    const out = await run(() => wokenFromOutside(QUICK + 400), { reactor: quick() }).then((v) => v, (e: unknown) => e);
    expect(out).toBeInstanceOf(DeadlockError);
  }, 10_000);

  test("Infinity turns the check off: the same wait ends when the outside code wakes it, past the default's 2 s", async () => {
    expect(await run(() => wokenFromOutside(IDLE_CHECK_MS + 300), { reactor: new FakeReactor({ deadlockTimeout: Infinity }) })).toBe("woken");
  }, 10_000);

  test("anything but a number of ms from 1 to 2^31-1, or Infinity, is a RangeError naming it", () => {
    for (const bad of [0, -1, 0.5, NaN, 2 ** 31, -Infinity, "300", {}]) {
      expect(() => new FakeReactor({ deadlockTimeout: bad as never })).toThrow(/^new FakeReactor\(\{ deadlockTimeout \}\): deadlockTimeout must be a number of real ms from 1 to 2\^31-1, or Infinity/);
    }
    expect(() => new FakeReactor({ deadlockTimeout: "300" as never })).toThrow(/got string 300$/);
    expect(new FakeReactor({ deadlockTimeout: 1 }).closed).toBe(false);
  });
});

describe("work that never ends, in automatic mode (found by review: the run spun for ever and held up every later run's deadlock check)", () => {
  // The bound is two million rounds; a tenth of it gives the same verdicts in a tenth of the time.
  const bound = FakeReactor.stuckRounds;
  beforeAll(() => {
    FakeReactor.stuckRounds = 200_000;
  });
  afterAll(() => {
    FakeReactor.stuckRounds = bound;
  });

  function* pingPong(): Co<never> {
    const a = channel<number>();
    const b = channel<number>();
    yield* spawn(function* ponger() {
      for (;;) {
        const r = yield* a.recv();
        yield* b.send(r.value!);
      }
    });
    for (let i = 0; ; i++) {
      yield* a.send(i);
      yield* b.recv();
    }
  }

  test("a hand-off loop that never ends fails the run with the error advance() throws, naming what is runnable", async () => {
    const error = await run(pingPong, { reactor: new FakeReactor({ deadlockTimeout: QUICK }) }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/^Error: FakeReactor: \d+ rounds of task steps ran at virtual time 0 and work is still runnable that waits on nothing \(work that never ends, or a task polling for what never comes\?\): task "/);
  }, 20_000);

  test("so does a task polling for a flag nobody sets, with no deadline to jump to", async () => {
    const flag = false as boolean;
    const error = await run(function* () {
      while (!flag) yield;
    }, { reactor: new FakeReactor({ deadlockTimeout: QUICK }) }).catch((e: unknown) => e);
    expect(String(error)).toContain('ran at virtual time 0 and work is still runnable that waits on nothing (work that never ends, or a task polling for what never comes?): task "main"');
  }, 20_000);

  test("work that catches the error and goes on is no longer driven: a later run's deadlock is still reported", async () => {
    const runaway = new FakeReactor({ deadlockTimeout: QUICK });
    let caught = 0;
    void run(function* () {
      for (;;) {
        try {
          for (;;) yield;
        } catch {
          caught++;
        }
      }
    }, { reactor: runaway });
    while (caught < 2) await Bun.sleep(50); // it caught the error twice: the next bound stops it
    const input = channel<string>(1, "input");
    const error = await run(function* () {
      return yield* input.recv();
    }, { reactor: new FakeReactor({ deadlockTimeout: QUICK }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlockError);
    const ticks = runaway.ticksRun;
    await Bun.sleep(50);
    expect(runaway.ticksRun).toBe(ticks); // no longer driven
  }, 30_000);

  test("finite bursts of work separated by idle waits on outside promises are not work that never ends (found by review: the count ran on across them)", async () => {
    const bursts = 40, per = 6_000; // 6k hand-offs per burst (~6k rounds); 240k in all, past the bound, at virtual time 0
    const total = await run(function* () {
      let sum = 0;
      for (let b = 0; b < bursts; b++) {
        yield* wait(new Promise<void>((res) => setTimeout(res, 1))); // idle: nothing runnable, main waits on the host
        const ch = channel<number>();
        const c = yield* spawn(function* () {
          let s = 0;
          for (let i = 0; i < per; i++) s += (yield* ch.recv()).value!;
          return s;
        });
        for (let i = 0; i < per; i++) yield* ch.send(1);
        sum += yield* join(c);
      }
      return sum;
    }, { reactor: new FakeReactor() });
    expect(total).toBe(bursts * per);
  }, 20_000);

  test("a poll that an outside promise main waits on will end is not killed (found by review)", async () => {
    const n = await run(function* () {
      let flag = false;
      const p = new Promise<void>((res) => setTimeout(() => { flag = true; res(); }, 600)); // past the bound three times over
      const poller = yield* spawn(function* () { let k = 0; while (!flag) { k++; yield; } return k; });
      yield* wait(p); // main waits on the host: the deadlock check would never count this run as stuck
      return yield* join(poller);
    }, { reactor: new FakeReactor() });
    expect(n).toBeGreaterThan(0);
  }, 20_000);
});
