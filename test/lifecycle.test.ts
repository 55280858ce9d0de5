import { describe, expect, test } from "bun:test";
import { all, cancel, current, group, interrupt, join, run, shield, sleep, spawn, suspend, timeout, wait, Cancelled, TaskError, type Co, type Task, type Waker } from "../src/index.ts";
import { Op, Syscall } from "../src/syscall.ts";
import { Scheduler } from "../src/scheduler.ts";
import { FakeReactor } from "../src/testing.ts";
import { collectGarbageIn, leastKept, virtual, virtualError } from "./helpers.ts";

describe("cancellation", () => {
  test("finally runs exactly once when cancelled during sleep", async () => {
    let finals = 0;
    await virtual(function* () {
      const t = yield* spawn(function* () {
        try { yield* sleep(10_000); } finally { finals++; }
      });
      yield* sleep(5);
      yield* cancel(t);
      yield* cancel(t); // twice is harmless
      expect(finals).toBe(1);
    });
    expect(finals).toBe(1);
  });

  test("a finally that yields completes its cleanup before cancel returns", async () => {
    const log: string[] = [];
    const { reactor } = await virtual(function* () {
      const t = yield* spawn(function* () {
        try {
          yield* sleep(10_000);
        } finally {
          log.push("cleanup start");
          yield* sleep(50);
          const c = yield* spawn(function* () { return "helper"; });
          log.push(yield* join(c));
          log.push("cleanup end");
        }
      });
      yield* sleep(1);
      yield* cancel(t);
      log.push("cancel returned");
    });
    expect(log).toEqual(["cleanup start", "helper", "cleanup end", "cancel returned"]);
    expect(reactor.now()).toBeGreaterThanOrEqual(51);
  });

  test("a second cancel while the first one's finally is yielding does not interrupt it", async () => {
    const log: string[] = [];
    await virtual(function* () {
      const t = yield* spawn(function* () {
        try { yield* sleep(10_000); } finally { yield* sleep(20); log.push("cleanup done"); }
      });
      yield* sleep(1);
      const c1 = yield* spawn(function* () { yield* cancel(t); log.push("c1"); });
      const c2 = yield* spawn(function* () { yield* sleep(5); yield* cancel(t); log.push("c2"); });
      yield* join(c1);
      yield* join(c2);
    });
    expect(log[0]).toBe("cleanup done");
    expect(log.sort()).toEqual(["c1", "c2", "cleanup done"]);
  });

  test("cancel during join: the joiner ends, the joined task keeps running", async () => {
    await virtual(function* () {
      const slow = yield* spawn(function* () { yield* sleep(100); return "slow"; });
      const joiner = yield* spawn(function* () { return yield* join(slow); });
      yield* sleep(10);
      yield* cancel(joiner);
      expect(joiner.state).toBe("cancelled");
      expect(slow.state).not.toBe("cancelled");
      expect(yield* join(slow)).toBe("slow");
    });
  });

  test("cancel during wait: a later settlement is ignored", async () => {
    let resolve!: (v: string) => void;
    const p = new Promise<string>((r) => (resolve = r));
    let after = "";
    await virtual(function* () {
      const t = yield* spawn(function* () {
        try { after = yield* wait(p); } catch (e) { after = e instanceof Cancelled ? "cancelled" : "other"; throw e; }
      });
      yield* sleep(1);
      yield* cancel(t);
      resolve("late");
      yield* sleep(1);
    });
    expect(after).toBe("cancelled");
  });

  test("nested tasks: cancelling a parent that cancels its children in finally", async () => {
    const ended: string[] = [];
    await virtual(function* () {
      const parent = yield* spawn(function* () {
        const kids = [];
        for (let i = 0; i < 3; i++) {
          kids.push(yield* spawn(function* () {
            try { yield* sleep(10_000); } finally { ended.push(`kid${i}`); }
          }));
        }
        try { yield* sleep(10_000); } finally {
          for (const k of kids) yield* cancel(k);
          ended.push("parent");
        }
      });
      yield* sleep(1);
      yield* cancel(parent);
    });
    expect(ended).toEqual(["kid0", "kid1", "kid2", "parent"]);
  });

  test("cancelling oneself raises Cancelled at that yield", async () => {
    await virtual(function* () {
      const t = yield* spawn(function* () {
        yield* cancel(yield* current());
        return "not reached";
      });
      yield* sleep(1);
      expect(t.state).toBe("cancelled");
    });
  });

  test("a task that catches Cancelled and returns ends done", async () => {
    await virtual(function* () {
      const t = yield* spawn(function* () {
        try { yield* sleep(1000); } catch (e) { if (e instanceof Cancelled) return "caught"; throw e; }
        return "slept";
      });
      yield* sleep(1);
      yield* cancel(t);
      expect(t.state).toBe("done");
      expect(yield* join(t)).toBe("caught");
    });
  });

  test("joining a cancelled task throws Cancelled", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () { yield* sleep(1000); });
      yield* sleep(1);
      yield* cancel(t);
      try { yield* join(t); return "no"; } catch (e) { return e instanceof Cancelled; }
    });
    expect(result).toBe(true);
  });

  test("when main ends, live tasks are cancelled and their finally blocks run", async () => {
    const log: string[] = [];
    const { scheduler, reactor } = await virtual(function* () {
      for (let i = 0; i < 3; i++) {
        yield* spawn(function* () {
          try { yield* sleep(60_000); } finally { yield* sleep(1); log.push(`t${i}`); }
        });
      }
      yield* sleep(1);
      return "main done";
    });
    expect(log).toEqual(["t0", "t1", "t2"]);
    expect(scheduler.stats().tasksAlive).toBe(0);
    expect(scheduler.stats().hostTimersActive).toBe(0);
    expect(reactor.closed).toBe(true);
  });

  test("a cancelled suspend's undo runs; the task leaves no waiter behind", async () => {
    const waiting = new Set<number>();
    await virtual(function* () {
      const t = yield* spawn(function* () {
        yield* suspend<void>(() => { waiting.add(1); return () => waiting.delete(1); });
      });
      yield* sleep(1);
      expect(waiting.size).toBe(1);
      yield* cancel(t);
      expect(waiting.size).toBe(0);
    });
  });
});

describe("errors", () => {
  test("a crash in one task does not stop the others", async () => {
    const { result } = await virtual(function* () {
      const bad = yield* spawn(function* () { throw new Error("crash"); });
      const good = yield* spawn(function* () { yield* sleep(10); return "fine"; });
      try { yield* join(bad); } catch { /* seen */ }
      return yield* join(good);
    });
    expect(result).toBe("fine");
  });

  test("an unjoined failure fails run() with a TaskError naming the task and its spawn chain", async () => {
    const { error } = await virtualError(function* () {
      yield* spawn(function* () {
        yield* spawn(function* () { throw new Error("deep"); }, { name: "leaf" });
        yield* sleep(100);
      }, { name: "branch" });
      yield* sleep(10);
    });
    expect(error).toBeInstanceOf(TaskError);
    const e = error as TaskError;
    expect(e.message).toContain('task "leaf"');
    expect(e.message).toContain("deep");
    expect(e.message).toContain("main > branch > leaf");
    expect((e.cause as Error).message).toBe("deep");
  });

  test("a failure that is joined later is not reported", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () { throw new Error("later"); });
      yield* sleep(50);
      try { yield* join(t); } catch (e) { return (e as Error).message; }
    });
    expect(result).toBe("later");
  });

  test("several unjoined failures are all listed", async () => {
    const { error } = await virtualError(function* () {
      for (let i = 0; i < 3; i++) yield* spawn(function* () { throw new Error(`f${i}`); });
      yield* sleep(1);
    });
    expect((error as TaskError).errors.map((e) => (e as Error).message)).toEqual(["f0", "f1", "f2"]);
  });

  test("a cancelled task is not reported as a failure", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () { yield* sleep(1000); });
      yield* sleep(1);
      yield* cancel(t);
      return "ok";
    });
    expect(result).toBe("ok");
  });

  test("main's own error wins; another task's failure nobody joined rides along", async () => {
    const { error } = await virtualError(function* () {
      yield* spawn(function* () { throw new Error("child"); });
      yield* sleep(1);
      throw new Error("main failed");
    });
    expect(error).toBeInstanceOf(TaskError);
    expect(((error as TaskError).cause as Error).message).toBe("main failed");
    expect((error as TaskError).errors.map((e) => (e as Error).message)).toEqual(["main failed", "child"]);
  });

  test("main's own error alone when nothing else failed", async () => {
    const { error } = await virtualError(function* () {
      yield* sleep(1);
      throw new Error("main failed");
    });
    expect((error as Error).message).toBe("main failed");
  });

  test("task.promise observes a failure (so run() does not also report it)", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () { throw new Error("seen by promise"); });
      const settled = t.promise.then(() => "resolved", (e: Error) => e.message);
      return yield* wait(settled);
    });
    expect(result).toBe("seen by promise");
  });

  test("a task that belongs to another scheduler cannot be joined or cancelled", async () => {
    let foreign: import("../src/index.ts").Task<unknown> | undefined;
    await virtual(function* () { foreign = yield* current(); });
    const { result } = await virtual(function* (): Co<string[]> {
      const out: string[] = [];
      try { yield* join(foreign!); } catch (e) { out.push((e as Error).message); }
      try { yield* cancel(foreign!); } catch (e) { out.push((e as Error).message); }
      return out;
    });
    expect(result).toHaveLength(2);
    for (const m of result) expect(m).toContain("another scheduler");
  });
});

describe("error provenance", () => {
  test("an error thrown out of a task carries its spawned-by chain (taskPath and stack)", async () => {
    const { result } = await virtual(function* () {
      const outer = yield* spawn(function* () {
        const inner = yield* spawn(function* () { yield* sleep(1); throw new Error("deep failure"); }, { name: "conn-7" });
        return yield* join(inner);
      }, { name: "server" });
      try { yield* join(outer); } catch (e) { return e as Error & { taskPath?: string }; }
    });
    expect(result!.message).toBe("deep failure");
    expect(result!.taskPath).toBe("main > server > conn-7");
    expect(result!.stack).toContain("in corun task main > server > conn-7");
    expect(Object.keys(result!)).not.toContain("taskPath");
  });
});

describe("cancellation never loses a delivered value", () => {
  test("a task resumed with a value and cancelled before it runs takes the value, then gets Cancelled at its next yield", async () => {
    let waker: Waker<string> | undefined;
    const got: string[] = [];
    let outcome = "";
    await virtual(function* () {
      const receiver = yield* spawn(function* () {
        const v = yield* suspend<string>((w) => { waker = w; });
        got.push(v);
        try { yield* sleep(10); outcome = "slept"; } catch (e) { outcome = e instanceof Cancelled ? "cancelled at next yield" : "other"; throw e; }
      });
      yield* sleep(1);
      expect(waker!.resume("precious")).toBe(true); // delivered: must not be lost
      yield* cancel(receiver);
      expect(receiver.state).toBe("cancelled");
    });
    expect(got).toEqual(["precious"]);
    expect(outcome).toBe("cancelled at next yield");
  });

  test("a running task that aborts the run's own signal is cancelled at its next yield", async () => {
    const ac = new AbortController();
    const log: string[] = [];
    const p = run(function* () {
      ac.abort(new Error("stopped from inside"));
      log.push("still running this step");
      try { yield* sleep(1000); } finally { log.push("finally"); }
    }, { signal: ac.signal });
    expect(p).rejects.toThrow("stopped from inside");
    await p.catch(() => {});
    expect(log).toEqual(["still running this step", "finally"]);
  });
});

describe("Task.onEnd", () => {
  test("runs once at the end, whatever the outcome, without observing a failure", async () => {
    const ended: string[] = [];
    const { error } = await virtualError(function* () {
      const ok = yield* spawn(function* () { yield* sleep(1); });
      const bad = yield* spawn(function* () { yield* sleep(2); throw new Error("unseen"); }, { name: "bad" });
      ok.onEnd(() => ended.push(`ok:${ok.state}`));
      bad.onEnd(() => ended.push(`bad:${bad.state}`));
      yield* sleep(5);
      ok.onEnd(() => ended.push("late registration runs at once"));
    });
    expect(ended).toEqual(["ok:done", "bad:failed", "late registration runs at once"]);
    expect((error as Error).message).toContain('task "bad"'); // still reported: onEnd is not a join
  });

  test("a callback that throws does not break the scheduler: the others run, and run() rejects naming the task", async () => {
    const ran: string[] = [];
    const outcome = virtualError(function* () {
      const t = yield* spawn(function* () { yield* sleep(1); return 1; }, { name: "watched" });
      t.onEnd(() => { throw new Error("callback broke"); });
      t.onEnd(() => ran.push("second callback"));
      yield* sleep(5);
      ran.push(`main went on: ${yield* t}`);
    });
    const hang = new Promise((resolve) => setTimeout(() => resolve({ error: new Error("hung") }), 2000));
    const { error } = (await Promise.race([outcome, hang])) as { error: Error };
    expect(error.message).toBe('an onEnd callback of task "watched" (#' + (error.message.match(/#(\d+)/)?.[1] ?? "?") + ") threw: callback broke");
    expect((error.cause as Error).message).toBe("callback broke");
    expect(ran).toEqual(["second callback", "main went on: 1"]);
  });

  test("when main fails too, run() rejects with a TaskError for main that keeps the callback's error", async () => {
    const { error } = await virtualError(function* () {
      const t = yield* spawn(function* () { return 1; }, { name: "watched" });
      t.onEnd(() => { throw new Error("callback broke"); });
      yield* sleep(5);
      throw new Error("main failed");
    });
    expect(error).toBeInstanceOf(TaskError);
    const errors = (error as TaskError).errors as Error[];
    expect(errors.map((e) => e.message)).toEqual(["main failed", 'an onEnd callback of task "watched" (#' + (errors[1]!.message.match(/#(\d+)/)?.[1] ?? "?") + ") threw: callback broke"]);
    expect((error as TaskError).cause).toBe(errors[0]);
  });
});

describe("a cancel of a task that gave up the CPU", () => {
  for (const [label, pause] of [
    ["a plain yield", function* (): Co<void> {
      yield;
    }],
    ["sleep(0)", function* (): Co<void> {
      yield* sleep(0);
    }],
  ] as const) {
    test(`is thrown at ${label}: none of its later code runs`, async () => {
      const log: string[] = [];
      const { result } = await virtual(function* () {
        const t = yield* spawn(function* () {
          yield* pause();
          log.push("ran on after the cancel");
        });
        yield; // t takes its first step and gives up the CPU
        const before = t.state;
        yield* cancel(t);
        return [before, t.state];
      });
      expect(result).toEqual(["ready", "cancelled"]);
      expect(log).toEqual([]);
    });
  }
});

describe("an undo that wakes its own task", () => {
  test("cancel: the waker's resume is refused, the task is queued once and its cleanup sleeps in full", async () => {
    const log: string[] = [];
    let resumed: boolean | undefined;
    const { result, reactor, scheduler } = await virtual(function* () {
      const t = yield* spawn(function* victim() {
        try {
          yield* suspend<string>((w) => () => { resumed = w.resume("late value"); });
        } catch (e) {
          log.push(`caught ${(e as Error).name}`);
          yield* sleep(1000);
          log.push("slept");
        }
      });
      yield* sleep(1);
      yield* cancel(t);
      return t.state;
    });
    expect(resumed).toBe(false);
    expect(log).toEqual(["caught Cancelled", "slept"]);
    expect(result).toBe("done"); // it caught the Cancelled and returned
    expect(reactor.now()).toBe(1001);
    expect(scheduler.stats().tasksAlive).toBe(0);
  });

  test("inside the undo the task still waits: its waker's pending is true", async () => {
    const seen: boolean[] = [];
    await virtual(function* () {
      const t = yield* spawn(function* () {
        yield* suspend((w) => () => { seen.push(w.pending); }, "custom");
      });
      yield* sleep(1);
      yield* cancel(t);
    });
    expect(seen).toEqual([true]);
  });

  test("interrupt: the waker's throw is refused; the interrupt's error is the one raised", async () => {
    let refused: boolean | undefined;
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* victim() {
        try {
          yield* suspend<string>((w) => () => { refused = w.throw(new Error("from undo")); });
        } catch (e) {
          yield* sleep(10);
          return (e as Error).message;
        }
      });
      yield* sleep(1);
      yield* interrupt(t, new Error("deadline"));
      return yield* join(t);
    });
    expect(refused).toBe(false);
    expect(result).toBe("deadline");
  });
});

describe("hand-made iterators as tasks", () => {
  test("next() returning no object fails the task with a TypeError (the tick goes on)", async () => {
    const { result } = await virtual(function* () {
      const it = { next: () => undefined, throw: (e: unknown) => { throw e; } };
      const t = yield* spawn(it as unknown as Co<void>, { name: "bad-iter" });
      try {
        yield* join(t);
        return "joined";
      } catch (e) {
        return `${(e as Error).name} ${t.state}`;
      }
    });
    expect(result).toBe("TypeError failed");
  });

  test("a result whose done getter throws fails the task with that error", async () => {
    const { result } = await virtual(function* () {
      const it = { next: () => ({ get done(): boolean { throw new Error("done getter"); }, value: 1 }), throw: (e: unknown) => { throw e; } };
      const t = yield* spawn(it as unknown as Co<void>);
      try {
        yield* join(t);
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(result).toBe("done getter");
  });

  test("a hand-made sleep descriptor without a number fails its task, not the scheduler", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* handmade() { yield new Syscall("sleep", Op.Sleep); });
      try {
        yield* join(t);
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(result).toMatch(/^task "handmade" \(#\d+\) yielded a sleep of undefined ms/);
  });

  test.each([
    ["a bigint", 10n, "10n"],
    ["a numeric string", "10", '"10"'],
  ])("a hand-made sleep of %s fails its task (found by review: a bigint threw out of the tick, \"10\" slept until now + \"10\")", async (_what, ms, shown) => {
    const { result, reactor } = await virtual(function* () {
      yield* sleep(5);
      const t = yield* spawn(function* handmade() { yield new Syscall("sleep", Op.Sleep, ms); });
      try {
        yield* join(t);
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(result).toStartWith(`task "handmade"`);
    expect(result).toContain(`yielded a sleep of ${shown} ms (a descriptor made by hand?)`);
    expect(reactor.now()).toBe(5);
  });
});

describe("thrown values no check can look at", () => {
  const revoked = (): object => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const trapped = (): Error => new Proxy(new Error("x"), { getOwnPropertyDescriptor: () => { throw new Error("trap"); } });

  test.each([
    ["a revoked Proxy", revoked],
    ["an Error Proxy whose descriptor trap throws", trapped],
  ])("a task that throws %s fails with it, and its joiner gets it (found by review: the tick threw and run() never settled)", async (_what, make) => {
    const thrown = make();
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () {
        yield* sleep(1);
        throw thrown;
      });
      try {
        yield* join(t);
        return "joined";
      } catch (e) {
        return e === thrown && t.state === "failed" ? "the same value, failed" : "another error";
      }
    });
    expect(result).toBe("the same value, failed");
  });

  test.each(["a joined task", "an all() child"])("%s throwing a Proxy that passes instanceof Cancelled but throws at every read fails with it (found by review: .task was read outside the guard)", async (where) => {
    const thrown = new Proxy({}, { getPrototypeOf: () => Cancelled.prototype, get: () => { throw new Error("no look"); } });
    const { error } = await virtualError(function* () {
      const bad = function* (): Co<void> {
        yield* sleep(1);
        throw thrown;
      };
      if (where === "a joined task") yield* join(yield* spawn(bad));
      else yield* all([bad]);
    });
    expect(error).toBe(thrown);
  });

  test("main failing with one, or waiting on a promise that rejects with one, rejects run() with it", async () => {
    const thrown = revoked();
    expect((await virtualError(function* () {
      yield* sleep(1);
      throw thrown;
    })).error).toBe(thrown);
    expect((await virtualError(function* () {
      yield* wait(Promise.reject(thrown));
    })).error).toBe(thrown);
  });
});

describe("an undo that cancels its own task", () => {
  test("an interrupt whose undo aborts the run's signal: the undo runs once, the interrupt is caught where the task waited, the cancel comes at the next yield (found by review: the undo ran twice and the cancel was lost)", async () => {
    const ac = new AbortController();
    const scheduler = new Scheduler({ reactor: new FakeReactor(), signal: ac.signal });
    const log: string[] = [];
    const outcome = scheduler.run(function* () {
      const me = yield* current();
      yield* spawn(function* () {
        yield* sleep(1);
        yield* interrupt(me, new Error("deadline"));
      });
      try {
        yield* suspend<void>(() => () => {
          log.push("undo");
          ac.abort(new Error("shutdown"));
        });
      } catch (e) {
        log.push(`caught ${(e as Error).message} in tick ${scheduler.stats().ticks}`);
      }
      try {
        yield;
        log.push("stepped again");
      } catch (e) {
        log.push(`${(e as Error).name} at the next yield, in tick ${scheduler.stats().ticks}`);
        throw e;
      }
    });
    await expect(outcome).rejects.toThrow("shutdown");
    expect(log).toEqual(["undo", "caught deadline in tick 2", "Cancelled at the next yield, in tick 2"]);
  });
});

describe("a wait taken back lets go of its task at once", () => {
  test("wait(p) on a long-lived promise: a task cancelled there is not kept until p settles, nor its parent's result (found by review)", async () => {
    const shutdown = Promise.withResolvers<void>(); // settles only when the server stops
    const refs: WeakRef<object>[] = [];
    const { result } = await virtual(function* () {
      for (let i = 0; i < 200; i++) {
        const req = yield* spawn(function* request() {
          const watcher = yield* spawn(function* watch() { yield* wait(shutdown.promise); });
          yield* sleep(1);
          const response = { payload: new Array(100).fill(i) };
          refs.push(new WeakRef(response));
          yield* cancel(watcher);
          return response;
        });
        yield* join(req);
      }
      for (let i = 0; i < 500; i++) yield* join(yield* spawn(function* other() { return i; })); // the task list sweeps its ended tasks
      yield* collectGarbageIn(() => refs.some((r) => r.deref() !== undefined));
      return refs.filter((r) => r.deref() !== undefined).length;
    });
    shutdown.resolve();
    // Before the fix all 200 stayed; the conservative collector may keep a few (up to 11 seen).
    expect(result).toBeLessThan(50);
  });
});

describe("cleanup while run() winds down", () => {
  test("a long cleanup (a timeout per step) keeps none of its ended helpers or what they returned", async () => {
    const least = await leastKept(async () => {
      const refs: WeakRef<object>[] = [];
      let kept = -1;
      await virtual(function* () {
        yield* spawn(function* cleaner() {
          try {
            yield* sleep(1e9);
          } finally {
            for (let i = 0; i < 5_000; i++) {
              yield* timeout(100, function* () {
                const result = { payload: new Array(100).fill(i) };
                if (refs.length < 10) refs.push(new WeakRef(result));
                return result;
              });
            }
            yield* collectGarbageIn(() => refs.some((r) => r.deref() !== undefined));
            kept = refs.filter((r) => r.deref() !== undefined).length;
          }
        });
        yield* sleep(10); // main returns: the drain begins
      });
      return kept;
    });
    expect(least).toBe(0);
  });

  test("a cleanup that keeps spawning its successor keeps no ended generation (the chain stays short)", async () => {
    let depth = 0;
    await virtual(function* () {
      yield* spawn(function* cleaner() {
        try {
          yield* sleep(1e9);
        } finally {
          let left = 2_000;
          function* generation(): Co<void> {
            if (--left > 0) yield* spawn(generation);
            else depth = (yield* current()).path.split(" > ").length;
          }
          yield* spawn(generation);
          while (left > 0) yield* sleep(1);
        }
      });
      yield* sleep(10); // main returns: the drain begins
    });
    expect(depth).toBeGreaterThan(0);
    expect(depth).toBeLessThanOrEqual(5); // main > cleaner > a few not yet dropped > the last
  });

  test("a helper's helper is tied to the helper once the pre-drain ancestor has ended, however the chain was spawned", async () => {
    const log: string[] = [];
    const { reactor } = await virtual(function* () {
      yield* spawn(function* X() {
        try {
          yield* spawn(function* A() {
            try { yield* sleep(1e9); } finally {
              yield* spawn(function* B() {
                try { yield* sleep(1e9); } finally {
                  yield* spawn(function* C() {
                    try { yield* sleep(500); log.push("C slept"); } catch (e) { log.push("C cancelled"); throw e; }
                  });
                  log.push("B ends");
                }
              });
              yield* sleep(5); // B starts and waits
              log.push("A ends");
            }
          });
          yield* sleep(1e9);
        } finally {
          yield* sleep(1000); // X cleans up slowly: C must not live on with it
          log.push("X ends");
        }
      });
      yield* sleep(10); // main returns: the drain begins
    });
    expect(log).toEqual(["A ends", "B ends", "X ends"]); // C cancelled before its first step
    expect(reactor.now()).toBeGreaterThanOrEqual(1000);
  });

  test("a finally may use shield and timeout (they spawn helpers): the helpers run", async () => {
    const log: string[] = [];
    await virtual(function* () {
      yield* spawn(function* worker() {
        try {
          yield* sleep(100_000);
        } finally {
          yield* shield(function* () { yield* sleep(5); log.push("shielded cleanup"); });
          yield* timeout(50, function* () { yield* sleep(5); log.push("cleanup under a timeout"); });
        }
      });
      yield* sleep(1);
    });
    expect(log).toEqual(["shielded cleanup", "cleanup under a timeout"]);
  });

  test("a group in cleanup waits for its members (spawned by its body, which ends first)", async () => {
    const log: string[] = [];
    await virtual(function* () {
      yield* spawn(function* p() {
        try {
          yield* sleep(1e9);
        } finally {
          yield* group(function* (g) {
            yield* g.spawn(function* flush() { yield* sleep(5); log.push("flushed"); });
          });
          log.push("group returned");
        }
      });
      yield* sleep(1);
    });
    expect(log).toEqual(["flushed", "group returned"]);
  });

  test("a helper's own cleanup may use shield once the task it helped has ended", async () => {
    const log: string[] = [];
    await virtual(function* () {
      yield* spawn(function* P() {
        try {
          yield* sleep(60_000);
        } finally {
          yield* spawn(function* H() {
            try {
              yield* sleep(60_000);
            } finally {
              yield* shield(function* flush() { yield* sleep(1); log.push("flushed"); });
              log.push("H cleanup done");
            }
          });
          yield* sleep(5); // H starts and waits; P then ends, so H is cancelled
        }
      });
      yield* sleep(1);
    });
    expect(log).toEqual(["flushed", "H cleanup done"]);
  });

  test("a helper spawned by a cleanup is cancelled when its spawner ends: run() still settles", async () => {
    const log: string[] = [];
    const { reactor } = await virtual(function* () {
      yield* spawn(function* worker() {
        try {
          yield* sleep(100_000);
        } finally {
          yield* spawn(function* forever() {
            try { for (;;) yield* sleep(10); } finally { log.push("helper cancelled"); }
          });
          yield* sleep(25);
          log.push("worker done");
        }
      });
      yield* sleep(1);
    });
    expect(log).toEqual(["worker done", "helper cancelled"]);
    expect(reactor.now()).toBe(26);
  });
});

test("joining and cancelling next to 65,535 live joiners stays cheap (the list is not rescanned at every join)", async () => {
  // The list sat at a power of two after each compaction, so every join scanned all 65,535
  // joiners: 20,000 rounds took over 10 s; now each round is O(1) amortised.
  const { result } = await virtual(function* () {
    const target = yield* spawn(function* longLived() { yield* sleep(3_600_000); });
    for (let i = 0; i < 65_535; i++) yield* spawn(function* () { try { yield* join(target); } catch { /* it was cancelled */ } });
    yield* sleep(1);
    for (let i = 0; i < 20_000; i++) {
      const j = yield* spawn(function* () { yield* join(target); });
      yield;
      yield* cancel(j);
    }
    yield* cancel(target);
    return "ok";
  });
  expect(result).toBe("ok");
}, 5_000);

test("a long-lived task joined by many waiters that are cancelled keeps only the live ones", async () => {
  const { result } = await virtual(function* () {
    const target = yield* spawn(function* longLived() { yield* sleep(3_600_000); });
    for (let i = 0; i < 1000; i++) {
      const j = yield* spawn(function* () { yield* join(target); });
      yield; // j waits in join(target)
      yield* cancel(j);
    }
    const kept = (target as unknown as { waiters?: unknown[] }).waiters?.length ?? 0;
    yield* cancel(target);
    return kept;
  });
  expect(result).toBeLessThan(32);
});

describe("failures nobody joins, in a long run", () => {
  test("run() keeps the first 1,000 and counts the rest (memory stays bounded)", async () => {
    const { error, scheduler } = await virtualError(function* () {
      for (let i = 0; i < 3000; i++) yield* spawn(function* worker() { throw new Error(`boom ${i}`); });
      yield* sleep(1);
    });
    const e = error as TaskError;
    expect(e).toBeInstanceOf(TaskError);
    expect(e.errors.length).toBe(1000);
    expect(e.uncounted).toBe(2000);
    expect(e.message).toMatch(/failed: boom 0 \(and 2999 other unjoined failures\)/);
    expect(scheduler.stats().tasksAlive).toBe(0);
  });

  test("when only failures past the bound are left unjoined, run() still rejects with a TaskError naming one", async () => {
    const { error } = await virtualError(function* () {
      const tasks: Task<unknown>[] = [];
      for (let i = 0; i < 1003; i++) tasks.push(yield* spawn(function* worker() { throw new Error(`boom ${i}`); }));
      yield* sleep(1);
      for (let i = 0; i < 1000; i++) {
        try { yield* join(tasks[i]!); } catch { /* seen */ }
      }
    });
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toMatch(/failed: boom 1002 \(and 2 other unjoined failures\)/);
  });

  test("a failure past the bound that is joined later is not reported", async () => {
    const { error } = await virtualError(function* () {
      const tasks: Task<unknown>[] = [];
      for (let i = 0; i < 1005; i++) tasks.push(yield* spawn(function* worker() { throw new Error(`boom ${i}`); }));
      yield* sleep(1);
      for (let i = 1000; i < 1005; i++) {
        try { yield* join(tasks[i]!); } catch { /* seen */ }
      }
    });
    expect((error as TaskError).uncounted).toBe(0);
    expect((error as TaskError).errors.length).toBe(1000);
  });
});

test("a task that keeps spawning its successor does not keep every ended generation alive", async () => {
  const least = await leastKept(async () => {
    const refs: WeakRef<object>[] = [];
    const out = await run(function* () {
      let left = 2_000;
      const last = Promise.withResolvers<{ kept: number; depth: number }>();
      function* generation(): Co<void> {
        const state = { payload: new Array(100).fill(left) };
        if (refs.length < 10) refs.push(new WeakRef(state));
        if (--left > 0) {
          yield* spawn(generation);
          yield* sleep(0);
          void state; // kept until this generation ends
          return;
        }
        // The last generation: the first ones ended long ago; is any still reachable from here?
        yield* collectGarbageIn(() => refs.some((r) => r.deref() !== undefined));
        last.resolve({ kept: refs.filter((r) => r.deref() !== undefined).length, depth: (yield* current()).path.split(" > ").length });
      }
      yield* spawn(generation);
      return yield* wait(last.promise);
    });
    expect(out.depth).toBeLessThanOrEqual(4); // main > a few not yet forgotten > the last
    return out.kept;
  });
  expect(least).toBe(0);
});
