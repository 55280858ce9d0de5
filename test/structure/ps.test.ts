import { describe, expect, test } from "bun:test";
import { cancel, channel, Condition, Event, join, Lock, recvFrom, Scheduler, select, Semaphore, sleep, spawn, timeout, type TaskInfo } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";

describe("scheduler.ps()", () => {
  test("lists the alive tasks oldest first after most have ended (ended ones are swept out)", async () => {
    const s = new Scheduler({ reactor: new FakeReactor() });
    let names: string[] = [];
    let alive = -1;
    await s.run(function* main() {
      for (let i = 0; i < 300; i++) {
        // every third task lives on; the others end at once, in a scattered order
        yield* spawn(function* () { yield* sleep(i % 3 === 0 ? 1000 : (i * 7) % 50); }, { name: `t${i}` });
      }
      yield* sleep(100);
      alive = s.stats().tasksAlive;
      names = s.ps().map((t) => t.name);
    });
    expect(alive).toBe(101); // main and t0, t3, ..., t297
    expect(names).toEqual(["main", ...Array.from({ length: 100 }, (_, k) => `t${3 * k}`)]);
  });

  test("names what each task waits on: kernel syscalls and every primitive", async () => {
    const s = new Scheduler({ reactor: new FakeReactor() });
    let snap: TaskInfo[] = [];
    await s.run(function* () {
      const lock = new Lock("db");
      yield* lock.acquire();
      const ev = new Event("go");
      const sem = new Semaphore(1, "pool");
      yield* sem.acquire();
      const cond = new Condition(new Lock(), "items");
      const a = channel<number>(0, "a"), b = channel<number>(0, "b");
      const sleeper = yield* spawn(function* sleeper() { yield* sleep(100); });
      yield* spawn(function* joiner() { yield* join(sleeper); });
      yield* spawn(function* locker() { yield* lock.acquire(); });
      yield* spawn(function* waiter() { yield* ev.wait(); });
      yield* spawn(function* permit() { yield* sem.acquire(); });
      yield* spawn(function* conder() { yield* cond.lock.acquire(); yield* cond.wait(); });
      yield* spawn(function* selector() { yield* select([recvFrom(a), recvFrom(b)]); });
      yield* spawn(function* limited() { yield* timeout(500, function* work() { yield* sleep(1000); }); });
      const victim = yield* spawn(function* victim() { try { yield* sleep(1000); } finally { yield* sleep(7); } });
      yield* sleep(1);
      yield* spawn(function* canceller() { yield* cancel(victim); });
      yield* sleep(2);
      snap = s.ps();
    });
    const on = (name: string) => snap.find((t) => t.name === name)?.waitingOn;
    expect(on("sleeper")).toBe("sleep(100)");
    expect(on("joiner")).toMatch(/^join\(.*"sleeper"/);
    expect(on("locker")).toBe('lock(lock "db")');
    expect(on("waiter")).toBe('event(event "go")');
    expect(on("permit")).toBe('acquire(semaphore "pool")');
    expect(on("conder")).toBe('condition(condition "items")');
    expect(on("selector")).toMatch(/^select\(/);
    expect(on("limited")).toBe("timeout(children)");
    expect(on("work")).toBe("sleep(1000)");
    expect(on("canceller")).toMatch(/^cancel\(/);
    expect(on("victim")).toBe("sleep(7)");
    const main = snap.find((t) => t.name === "main")!;
    expect(main.state).toBe("running");
    expect(snap.find((t) => t.name === "work")!.path).toBe("main > limited > work");
  });
});
