import { describe, expect, test } from "bun:test";
import { all, any, channel, race, sleep, spawn, cancel, join, timeout, moveOnAfter, Task, Lock, type Co } from "../../src/index.ts";
import { virtual, virtualError } from "../helpers.ts";

function* after<T>(ms: number, v: T, log?: string[]): Co<T> {
  try {
    yield* sleep(ms);
    return v;
  } finally {
    log?.push(`end ${String(v)}`);
  }
}

describe("all", () => {
  test("results in order", async () => {
    const { result, reactor } = await virtual(() => all([after(20, 1), after(10, "two"), after(0, true)]));
    expect(result).toEqual([1, "two", true]);
    expect(reactor.now()).toBe(20);
  });

  test("first failure cancels the rest and is thrown as is", async () => {
    const log: string[] = [];
    const { error, scheduler } = await virtualError(function* () {
      yield* all([after(100, "a", log), function* () { yield* sleep(5); throw new Error("bad"); }, after(200, "c", log)]);
    });
    expect((error as Error).message).toBe("bad");
    expect(log.sort()).toEqual(["end a", "end c"]);
    expect(scheduler.stats().tasksAlive).toBe(0);
  });

  test("empty list", async () => {
    const { result } = await virtual(() => all([]));
    expect(result).toEqual([]);
  });
});

describe("race", () => {
  test("first to end wins; losers cancelled with their finally run", async () => {
    const log: string[] = [];
    const { result, reactor, scheduler } = await virtual(() => race([after(50, "slow", log), after(5, "fast", log)]));
    expect(result).toBe("fast");
    expect(log).toEqual(["end fast", "end slow"]);
    expect(reactor.now()).toBe(5);
    expect(scheduler.stats().sleepers).toBe(0);
  });

  test("a failure can win", async () => {
    const { error } = await virtualError(() => race([after(50, "slow"), function* () { yield* sleep(1); throw new Error("lost"); }]));
    expect((error as Error).message).toBe("lost");
  });

  test("empty race is a RangeError", async () => {
    const { error } = await virtualError(() => race([]));
    expect(error).toBeInstanceOf(RangeError);
  });

  test("cancelling the racer cancels every contestant", async () => {
    const log: string[] = [];
    const { result } = await virtual(function* () {
      const t = yield* spawn(() => race([after(100, "a", log), after(200, "b", log)]));
      yield* sleep(10);
      yield* cancel(t);
      return t.state;
    });
    expect(result).toBe("cancelled");
    expect(log.sort()).toEqual(["end a", "end b"]);
  });
});

describe("any", () => {
  test("first success wins", async () => {
    const { result } = await virtual(() => any([function* () { yield* sleep(1); throw new Error("down"); }, after(5, "up"), after(50, "late")]));
    expect(result).toBe("up");
  });

  test("all failed: AggregateError in order", async () => {
    const { error } = await virtualError(() => any([
      function* () { yield* sleep(5); throw new Error("one"); },
      function* () { yield* sleep(1); throw new Error("two"); },
    ]));
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e) => (e as Error).message)).toEqual(["one", "two"]);
  });
});

describe("a cancel that reaches the owner while it is being woken", () => {
  test("is kept through the shutdown's joins (race owner woken by a child, then cancelled)", async () => {
    // Found by the property test: the owner was woken by its last child, then cancelled
    // while ready; the kernel raises that cancel at its next yield — a join of an already
    // ended child — and it must not be taken for the child's outcome.
    const { channel, recvFrom, select } = await import("../../src/index.ts");
    const c0 = channel<number>(0), c1 = channel<number>(0);
    let w1!: import("../../src/index.ts").Task<unknown>;
    const { scheduler } = await virtual(function* () {
      w1 = yield* spawn(function* w1() {
        yield* race([function* () { c1.close(); }, function* () { yield* sleep(0); }]);
        yield* c0.recv(); // must never be reached
        throw new Error("the cancel was lost");
      });
      yield* spawn(function* w2() {
        yield* select([recvFrom(c0), recvFrom(c1)]);
        yield* race([function* () { yield* cancel(w1); }]);
      });
      yield* sleep(1);
    });
    expect(w1.state).toBe("cancelled");
    expect(scheduler.stats().tasksAlive).toBe(0);
  });
});

describe("the caller cancelled in the tick the outcome was decided", () => {
  test("race returns the winner's value; the Cancelled comes at the caller's next yield", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(0);
      const kept: unknown[] = [];
      const caller = yield* spawn(function* () {
        kept.push(yield* race([() => ch.recv(), function* () { yield* sleep(1000); }]));
        yield* sleep(1);
      });
      yield* sleep(5);
      ch.trySend(7);
      yield* cancel(caller);
      return { kept, state: caller.state };
    });
    expect(result).toEqual({ kept: [{ value: 7, done: false }], state: "cancelled" });
  });

  test("all returns every result when all had finished", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(0);
      const kept: unknown[] = [];
      const caller = yield* spawn(function* () {
        kept.push(yield* all([() => ch.recv(), function* () { return "b"; }]));
        yield* sleep(1);
      });
      yield* sleep(5);
      ch.trySend(7);
      yield* cancel(caller);
      return { kept, state: caller.state };
    });
    expect(result).toEqual({ kept: [[{ value: 7, done: false }, "b"]], state: "cancelled" });
  });
});

describe("race and any keep a value handed to a child in the tick their caller is cancelled", () => {
  for (const kind of ["race", "any"] as const) {
    test(kind, async () => {
      const { result } = await virtual(function* () {
        const ch = channel<number>(1);
        const got: number[] = [];
        const recv = function* () { return (yield* ch.recv()).value as number; };
        const t = yield* spawn(function* caller() {
          got.push(kind === "race" ? yield* race([recv]) : yield* any([recv]));
          yield* sleep(1);
        });
        yield* spawn(function* sender() { yield; yield* ch.send(7); });
        yield;
        yield* cancel(t);
        return { got, left: ch.tryRecv()?.value, state: t.state };
      });
      expect(result).toEqual({ got: [7], left: undefined, state: "cancelled" });
    });
  }
});

describe("a generator object runs in one task only", () => {
  function* work(): Co<string> {
    yield* sleep(10);
    return "w";
  }
  test("given twice (to spawn, a combinator, or a retried timeout) it is a TypeError, not a shared generator", async () => {
    const { result } = await virtual(function* () {
      const out: string[] = [];
      for (const use of [
        function* () { const g = work(); yield* spawn(g); yield* spawn(g); },
        function* () { const g = work(); yield* race([g, g]); },
        function* () { const g = work(); yield* all([g, g]); },
        function* () { const g = work(); try { yield* timeout(5, g); } catch { /* timed out: retry */ } yield* timeout(50, g); },
        function* () { const g = work(); yield* spawn(g); yield* new Lock("l").with(g); },
      ]) {
        try {
          yield* use();
          out.push("accepted");
        } catch (e) {
          out.push((e as Error).constructor.name);
        }
      }
      return out;
    });
    expect(result).toEqual(["TypeError", "TypeError", "TypeError", "TypeError", "TypeError"]);
  });
});

describe("a function returning one syscall or a task is a task body too", () => {
  test("timeout, race, all and spawn take () => sleep(...), () => ch.recv(), () => t", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(1);
      yield* ch.send(7);
      const got = yield* timeout(50, () => ch.recv()); // typed: RecvResult<number>
      let timedOut = "no";
      try {
        yield* timeout(10, () => sleep(100));
      } catch (e) {
        timedOut = (e as Error).name;
      }
      const t = yield* spawn(function* () { yield* sleep(5); return "t"; });
      const winner = yield* race([() => sleep(50), () => t]);
      const both = yield* all([() => t, () => sleep(1)]);
      const slept = yield* spawn(() => sleep(1)); // a Task (answered in place at the yield*)
      const named = yield* spawn(() => t, { name: "joiner" }); // a Task (the dispatch path)
      if (!(slept instanceof Task) || !(named instanceof Task)) return "not tasks";
      return { got: got.value, timedOut, winner, both, slept: yield* join(slept), named: yield* join(named) };
    });
    expect(result).toEqual({ got: 7, timedOut: "TimeoutError", winner: "t", both: ["t", undefined], slept: undefined, named: "t" });
  });

  test("anything else is a TypeError naming what the function returned", async () => {
    const { result } = await virtual(function* () {
      try {
        yield* timeout(10, (() => 42) as never);
        return "accepted";
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(result).toBe("timeout: expected a generator (a function returned 42); did you write function instead of function*?");
  });
});

test("types: a body returning a syscall or a task has that result in all/race/any", async () => {
  const { result } = await virtual(function* () {
    const t = yield* spawn(function* () { return 42; });
    const pick = (): ReturnType<typeof join<number>> | Task<number> => (t.ended ? join(t) : t);
    const [a] = yield* all([pick]);
    const b = yield* race([pick]);
    return a.toFixed(0) + b.toFixed(0); // compiles only if both are numbers
  });
  expect(result).toBe("4242");
});

test("a with() body or a combinator child that is an async generator, or returns no coroutine, is a TypeError naming it", async () => {
  const { result } = await virtual(function* () {
    const lock = new Lock("l");
    const out: string[] = [];
    for (const use of [
      () => lock.with((async function* agen() {}) as never),
      () => lock.with((() => 5) as never),
      () => all([(async function* bad() {}) as never]),
    ]) {
      try { yield* use(); out.push("accepted"); } catch (e) { out.push((e as Error).message); }
    }
    return out;
  });
  expect(result).toEqual([
    "lock.with: got an async generator (agen returned an async generator object); a corun task is a plain generator (function*, not async function*): wait for promises with yield* wait(p)",
    "lock.with: expected a generator (a function returned 5); did you write function instead of function*?",
    "all: got an async generator (bad returned an async generator object); a corun task is a plain generator (function*, not async function*): wait for promises with yield* wait(p)",
  ]);
});

describe("any under a time limit", () => {
  test("a child failure any had taken in is not reported when the time limit gives up on the rest (run() rejected with it; found by review)", async () => {
    const { result } = await virtual(function* () {
      const v = yield* moveOnAfter(50, () =>
        any([
          function* mirror1() { yield* sleep(1); throw new Error("mirror 1 down"); },
          function* mirror2() { yield* sleep(1000); return "mirror 2"; },
        ]),
      );
      return v ?? "gave up";
    });
    expect(result).toBe("gave up");
  });

  test("when every child had failed, or one fails in its cleanup after the cancel, run() still reports it", async () => {
    const allFailed = await virtualError(function* () {
      const owner = yield* spawn(function* () {
        return yield* any([function* m1() { yield* sleep(1); throw new Error("m1 down"); }]);
      });
      yield* sleep(1); // m1 fails in this tick: every child has failed; the cancel comes before any throws
      yield* cancel(owner);
    });
    expect(String((allFailed.error as Error).message)).toContain("m1 down");
    const inCleanup = await virtualError(function* () {
      return yield* moveOnAfter(50, () =>
        any([
          function* m1() { yield* sleep(1); throw new Error("m1 down"); },
          function* m2() { try { yield* sleep(1000); } finally { throw new Error("m2 cleanup failed"); } },
        ]),
      );
    });
    const text = String((inCleanup.error as Error).message);
    expect(text).toContain("m2 cleanup failed");
    expect(text).not.toContain("m1 down");
  });
});

test("all, race, any and timeout refuse a child that is no task body at the call, naming which (found by review: any() took it as a failed child and dropped the TypeError)", async () => {
  const { result } = await virtual(function* () {
    const good = function* mirror(): Co<string> {
      yield* sleep(5);
      return "ok";
    };
    const out: string[] = [];
    let started = 0;
    const counted = function* (): Co<string> {
      started++;
      return yield* good();
    };
    for (const use of [
      () => any([counted, 42 as never]),
      () => all([counted, counted, "oops" as never]),
      () => race([{} as never]),
      () => timeout(10, null as never),
    ]) {
      try {
        out.push(`returned ${String(yield* use())}`);
      } catch (e) {
        out.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    return { out, started };
  });
  expect(result.out).toEqual([
    "TypeError: any(coroutines[1]): expected a generator, a function returning one, a syscall or a task, got 42",
    'TypeError: all(coroutines[2]): expected a generator, a function returning one, a syscall or a task, got "oops"',
    "TypeError: race(coroutines[0]): expected a generator, a function returning one, a syscall or a task, got {}",
    "TypeError: timeout(co): expected a generator, a function returning one, a syscall or a task, got null",
  ]);
  expect(result.started).toBe(0); // refused before any child ran
});
