/**
 * Scenario "channels": message passing and lock hand-off between tasks — channel ping-pong,
 * a 1,000-stage pipeline, and a contended lock — corun vs effection 4 queues and Effect 4
 * queues/semaphores. Run alone with `bun bench/scenarios/channels.ts [--quick]`.
 */
import { run, spawn, join, channel, Lock, type Channel, type Task } from "../../src/index.ts";
import * as effection from "effection";
import { Effect, Fiber, Queue, Semaphore } from "effect";
import type { PeerOptions, Scenario } from "../scenario.ts";
import { runStandalone } from "../harness/standalone.ts";

interface Sizes {
  /** Round trips in ping-pong. */
  rounds: number;
  /** Pipeline stages and messages pushed through them. */
  stages: number;
  messages: number;
  /** Lock: contending tasks and acquisitions each. */
  lockers: number;
  acquisitions: number;
}

function sizes(opts: PeerOptions): Sizes {
  if (opts.tiny) return { rounds: 200, stages: 50, messages: 20, lockers: 4, acquisitions: 50 };
  if (opts.quick) return { rounds: 20_000, stages: 1000, messages: 100, lockers: 10, acquisitions: 2_000 };
  return { rounds: 100_000, stages: 1000, messages: 1000, lockers: 10, acquisitions: 10_000 };
}

/** Time one async measurement; `ops` is how many operations it performed. */
async function timed(ops: number, body: () => Promise<unknown>): Promise<Record<string, number>> {
  const t0 = performance.now();
  await body();
  const ms = performance.now() - t0;
  return { ops_per_s: Math.round((ops / ms) * 1000), ms: Math.round(ms * 10) / 10, ops };
}

const BUF = 16; // pipeline channel capacity (all peers)

// ─── corun ─────────────────────────────────────────────────────────────────────
async function corunPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const s = sizes(opts);
  switch (opts.variant) {
    case "ping-pong":
      return timed(s.rounds * 2, () =>
        run(function* () {
          const ping = channel<number>(1), pong = channel<number>(1);
          const echo = yield* spawn(function* () {
            for (let i = 0; i < s.rounds; i++) yield* pong.send((yield* ping.recv()).value as number);
          });
          for (let i = 0; i < s.rounds; i++) {
            yield* ping.send(i);
            if ((yield* pong.recv()).value !== i) throw new Error("ping-pong: wrong value");
          }
          yield* join(echo);
        }),
      );
    case "pipeline":
      return timed(s.stages * s.messages, () =>
        run(function* () {
          const chans: Channel<number>[] = [];
          for (let i = 0; i <= s.stages; i++) chans.push(channel<number>(BUF));
          const tasks: Task<void>[] = [];
          for (let st = 0; st < s.stages; st++) {
            const inp = chans[st]!, out = chans[st + 1]!;
            tasks.push(yield* spawn(function* () {
              for (let m = 0; m < s.messages; m++) yield* out.send(((yield* inp.recv()).value as number) + 1);
            }));
          }
          const sink = yield* spawn(function* () {
            let sum = 0;
            for (let m = 0; m < s.messages; m++) sum += (yield* chans[s.stages]!.recv()).value as number;
            return sum;
          });
          for (let m = 0; m < s.messages; m++) yield* chans[0]!.send(m);
          const sum = yield* join(sink);
          if (sum !== (s.messages * (s.messages - 1)) / 2 + s.messages * s.stages) throw new Error("pipeline: wrong sum");
          for (const t of tasks) yield* join(t);
        }),
      );
    case "lock":
      return timed(s.lockers * s.acquisitions, () =>
        run(function* () {
          const lock = new Lock();
          let inside = 0;
          const tasks: Task<void>[] = [];
          for (let w = 0; w < s.lockers; w++) {
            tasks.push(yield* spawn(function* () {
              for (let i = 0; i < s.acquisitions; i++) {
                yield* lock.acquire();
                if (++inside !== 1) throw new Error("lock: not exclusive");
                yield; // hold it across a scheduling point: the others queue up
                inside--;
                lock.release();
              }
            }));
          }
          for (const t of tasks) yield* join(t);
        }),
      );
  }
  throw new Error(`channels: unknown variant ${String(opts.variant)}`);
}

// ─── effection 4 (unbounded queues; a one-token queue as the lock) ─────────────
async function effectionPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const s = sizes(opts);
  const { run: erun, spawn: espawn, createQueue, call } = effection;
  switch (opts.variant) {
    case "ping-pong":
      return timed(s.rounds * 2, () =>
        erun(function* () {
          const ping = createQueue<number, never>(), pong = createQueue<number, never>();
          const echo = yield* espawn(function* () {
            for (let i = 0; i < s.rounds; i++) pong.add((yield* ping.next()).value as number);
          });
          for (let i = 0; i < s.rounds; i++) {
            ping.add(i);
            if ((yield* pong.next()).value !== i) throw new Error("ping-pong: wrong value");
          }
          yield* echo;
        }),
      );
    case "pipeline":
      return timed(s.stages * s.messages, () =>
        erun(function* () {
          const qs = Array.from({ length: s.stages + 1 }, () => createQueue<number, never>());
          const tasks: effection.Task<void>[] = [];
          for (let st = 0; st < s.stages; st++) {
            const inp = qs[st]!, out = qs[st + 1]!;
            tasks.push(yield* espawn(function* () {
              for (let m = 0; m < s.messages; m++) out.add(((yield* inp.next()).value as number) + 1);
            }));
          }
          const sink = yield* espawn(function* () {
            let sum = 0;
            for (let m = 0; m < s.messages; m++) sum += (yield* qs[s.stages]!.next()).value as number;
            return sum;
          });
          for (let m = 0; m < s.messages; m++) qs[0]!.add(m);
          const sum = yield* sink;
          if (sum !== (s.messages * (s.messages - 1)) / 2 + s.messages * s.stages) throw new Error("pipeline: wrong sum");
          for (const t of tasks) yield* t;
        }),
      );
    case "lock":
      return timed(s.lockers * s.acquisitions, () =>
        erun(function* () {
          const token = createQueue<number, never>();
          token.add(1);
          let inside = 0;
          const tasks: effection.Task<void>[] = [];
          for (let w = 0; w < s.lockers; w++) {
            tasks.push(yield* espawn(function* () {
              for (let i = 0; i < s.acquisitions; i++) {
                yield* token.next();
                if (++inside !== 1) throw new Error("lock: not exclusive");
                yield* call(() => Promise.resolve()); // a scheduling point while holding it
                inside--;
                token.add(1);
              }
            }));
          }
          for (const t of tasks) yield* t;
        }),
      );
  }
  throw new Error(`channels: unknown variant ${String(opts.variant)}`);
}

// ─── Effect 4 (bounded queues, Semaphore) ──────────────────────────────────────
async function effectPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const s = sizes(opts);
  switch (opts.variant) {
    case "ping-pong":
      return timed(s.rounds * 2, () =>
        Effect.runPromise(Effect.gen(function* () {
          const ping = yield* Queue.bounded<number>(1), pong = yield* Queue.bounded<number>(1);
          const echo = yield* Effect.forkChild(Effect.gen(function* () {
            for (let i = 0; i < s.rounds; i++) yield* Queue.offer(pong, yield* Queue.take(ping));
          }));
          for (let i = 0; i < s.rounds; i++) {
            yield* Queue.offer(ping, i);
            if ((yield* Queue.take(pong)) !== i) throw new Error("ping-pong: wrong value");
          }
          yield* Fiber.join(echo);
        })),
      );
    case "pipeline":
      return timed(s.stages * s.messages, () =>
        Effect.runPromise(Effect.gen(function* () {
          const qs: Queue.Queue<number>[] = [];
          for (let i = 0; i <= s.stages; i++) qs.push(yield* Queue.bounded<number>(BUF));
          const fibers: Fiber.Fiber<void>[] = [];
          for (let st = 0; st < s.stages; st++) {
            const inp = qs[st]!, out = qs[st + 1]!;
            fibers.push(yield* Effect.forkChild(Effect.gen(function* () {
              for (let m = 0; m < s.messages; m++) yield* Queue.offer(out, (yield* Queue.take(inp)) + 1);
            })));
          }
          const sink = yield* Effect.forkChild(Effect.gen(function* () {
            let sum = 0;
            for (let m = 0; m < s.messages; m++) sum += yield* Queue.take(qs[s.stages]!);
            return sum;
          }));
          for (let m = 0; m < s.messages; m++) yield* Queue.offer(qs[0]!, m);
          const sum = yield* Fiber.join(sink);
          if (sum !== (s.messages * (s.messages - 1)) / 2 + s.messages * s.stages) throw new Error("pipeline: wrong sum");
          yield* Fiber.joinAll(fibers);
        })),
      );
    case "lock":
      return timed(s.lockers * s.acquisitions, () =>
        Effect.runPromise(Effect.gen(function* () {
          const sem = yield* Semaphore.make(1);
          let inside = 0;
          const critical = Effect.gen(function* () {
            if (++inside !== 1) throw new Error("lock: not exclusive");
            yield* Effect.yieldNow;
            inside--;
          });
          const guarded = Semaphore.withPermit(sem)(critical);
          const fibers: Fiber.Fiber<void>[] = [];
          for (let w = 0; w < s.lockers; w++) {
            fibers.push(yield* Effect.forkChild(Effect.gen(function* () {
              for (let i = 0; i < s.acquisitions; i++) yield* guarded;
            })));
          }
          yield* Fiber.joinAll(fibers);
        })),
      );
  }
  throw new Error(`channels: unknown variant ${String(opts.variant)}`);
}

/** The "channels" scenario. */
export const scenario: Scenario = {
  name: "channels",
  description: "message passing: channel ping-pong, a 1,000-stage pipeline, a contended lock (ops/s)",
  primary: { metric: "ops_per_s", better: "higher" },
  variants: () => ["ping-pong", "pipeline", "lock"],
  peers: {
    corun: corunPeer,
    effection: effectionPeer,
    effect: effectPeer,
  },
};

if (import.meta.main) await runStandalone(scenario);
