/**
 * Property tests: random programs of spawn / cancel / sleep / send / recv / select / lock /
 * close / group / race / shield / moveOnAfter run in virtual time; invariants checked after run() ends.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  Cancelled, ChannelClosed, GroupError, Lock, Scheduler, cancel, channel, current, group, moveOnAfter,
  race, recvFrom, select, shield, sleep, spawn, type Channel, type Co, type Task,
} from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";

type Leaf =
  | { t: "sleep"; ms: number }
  | { t: "send"; ch: number }
  | { t: "recv"; ch: number }
  | { t: "select" }
  | { t: "lock"; ms: number }
  | { t: "cancel"; target: number }
  | { t: "close"; ch: number };
type Op =
  | Leaf
  | { t: "spawn"; body: Leaf[] }
  | { t: "timeout"; ms: number; body: Leaf[] }
  | { t: "group"; bodies: Leaf[][] }
  | { t: "race"; bodies: Leaf[][] }
  | { t: "shield"; body: Leaf[] };

const ms = fc.integer({ min: 0, max: 6 });
const ch = fc.integer({ min: 0, max: 1 });
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant("sleep" as const), ms }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant("send" as const), ch }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant("recv" as const), ch }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant("select" as const) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("lock" as const), ms }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant("cancel" as const), target: fc.integer({ min: 0, max: 9 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("close" as const), ch }), weight: 1 },
);
const leaves = fc.array(leaf, { maxLength: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: leaf, weight: 8 },
  { arbitrary: fc.record({ t: fc.constant("spawn" as const), body: leaves }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("timeout" as const), ms, body: leaves }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("group" as const), bodies: fc.array(leaves, { maxLength: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("race" as const), bodies: fc.array(leaves, { minLength: 1, maxLength: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant("shield" as const), body: leaves }), weight: 1 },
);
const program = fc.record({
  caps: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  workers: fc.array(fc.array(op, { maxLength: 8 }), { minLength: 1, maxLength: 6 }),
  mainSleep: fc.integer({ min: 0, max: 40 }),
});
type Program = typeof program extends fc.Arbitrary<infer P> ? P : never;

/** Everything the run observed, for the invariants. */
class World {
  readonly chans: Channel<number>[];
  readonly lock = new Lock("prop");
  readonly tasks: Task<unknown>[] = [];
  readonly sentOk: number[] = [];
  readonly sendFailed: number[] = [];
  readonly received: number[] = [];
  readonly finallies = new Map<number, number>();
  inside = 0;
  maxInside = 0;
  #value = 0;
  #body = 0;
  constructor(caps: [number, number]) {
    this.chans = caps.map((c, i) => channel<number>(c, `c${i}`));
  }
  nextValue(): number {
    return ++this.#value;
  }
  nextBody(): number {
    return ++this.#body;
  }
}

/** An error a random program may legitimately end a step with. */
function expected(e: unknown, me: Task<unknown>): boolean {
  if (e instanceof ChannelClosed) return true;
  // A Cancelled of another task: a cancelled child surfacing through moveOnAfter.
  if (e instanceof Cancelled && e.task !== me) return true;
  return e instanceof GroupError && e.errors.every((x) => expected(x, me));
}

function* leafOp(w: World, l: Leaf): Co<void> {
  switch (l.t) {
    case "sleep":
      return yield* sleep(l.ms);
    case "send": {
      const v = w.nextValue();
      try {
        yield* w.chans[l.ch]!.send(v);
      } catch (e) {
        w.sendFailed.push(v);
        throw e;
      }
      w.sentOk.push(v);
      return;
    }
    case "recv": {
      const r = yield* w.chans[l.ch]!.recv();
      if (!r.done) w.received.push(r.value);
      return;
    }
    case "select": {
      const r = yield* select([recvFrom(w.chans[0]!), recvFrom(w.chans[1]!)]);
      if (!r.done) w.received.push(r.value as number);
      return;
    }
    case "lock":
      return yield* w.lock.with(function* () {
        w.inside++;
        w.maxInside = Math.max(w.maxInside, w.inside);
        try {
          yield* sleep(l.ms);
        } finally {
          w.inside--;
        }
      });
    case "cancel": {
      const t = w.tasks[l.target];
      if (t) yield* cancel(t);
      return;
    }
    case "close":
      return w.chans[l.ch]!.close();
  }
}

/** Run a script; count its finally; swallow only the expected errors. */
function* script(w: World, ops: readonly Op[]): Co<void> {
  const id = w.nextBody();
  w.finallies.set(id, 0);
  const me = yield* current();
  try {
    for (const o of ops) {
      try {
        if (o.t === "spawn") w.tasks.push(yield* spawn(script(w, o.body)));
        else if (o.t === "timeout") yield* moveOnAfter(o.ms, script(w, o.body));
        else if (o.t === "group") {
          yield* group(function* (g) {
            for (const b of o.bodies) yield* g.spawn(script(w, b));
          });
        } else if (o.t === "race") yield* race(o.bodies.map((b) => script(w, b)));
        else if (o.t === "shield") yield* shield(script(w, o.body));
        else yield* leafOp(w, o);
      } catch (e) {
        if (!expected(e, me)) throw e;
      }
    }
  } finally {
    w.finallies.set(id, w.finallies.get(id)! + 1);
  }
}

async function runProgram(p: Program) {
  const w = new World(p.caps);
  const reactor = new FakeReactor();
  const s = new Scheduler({ reactor });
  await s.run(function* () {
    for (const ops of p.workers) w.tasks.push(yield* spawn(script(w, ops)));
    yield* sleep(p.mainSleep);
  });
  return { w, s, reactor };
}

function check(p: Program, r: Awaited<ReturnType<typeof runProgram>>): void {
  const { w, s, reactor } = r;
  // Every task ended (exactly once: a task's state is set once, and finally ran once).
  for (const t of w.tasks) expect(t.ended).toBe(true);
  for (const [, n] of w.finallies) expect(n).toBe(1);
  // The scheduler is empty: no live task, no armed timer, no sleeper.
  const st = s.stats();
  expect(st.tasksAlive).toBe(0);
  expect(st.hostTimersActive).toBe(0);
  expect(st.sleepers).toBe(0);
  expect(reactor.closed).toBe(true);
  // No value lost or duplicated: received + still buffered = successfully sent, exactly.
  const left: number[] = [];
  for (const c of w.chans) for (let x = c.tryRecv(); x !== undefined && !x.done; x = c.tryRecv()) left.push(x.value);
  const got = [...w.received, ...left].sort((a, b) => a - b);
  expect(got).toEqual([...w.sentOk].sort((a, b) => a - b));
  for (const v of w.sendFailed) expect(got.includes(v)).toBe(false);
  for (const c of w.chans) expect(c.recvq.size + c.sendq.size).toBe(0);
  // The lock was exclusive and is free.
  expect(w.maxInside).toBeLessThanOrEqual(1);
  expect(w.lock.locked).toBe(false);
  expect(w.lock.waiting).toBe(0);
  void p;
}

describe("random programs", () => {
  test("invariants: one end per task, one finally per body, no lost/duplicated value, empty scheduler", async () => {
    await fc.assert(
      fc.asyncProperty(program, async (p) => {
        check(p, await runProgram(p));
      }),
      { numRuns: 300, seed: 42 },
    );
  }, 30_000);

  test("the same program with a fresh seed each run", async () => {
    await fc.assert(
      fc.asyncProperty(program, async (p) => {
        check(p, await runProgram(p));
      }),
      { numRuns: 150 },
    );
  }, 30_000);
});
