/**
 * Scenario "concurrent": N tasks each sleep S ms then bump a counter (the original corun's
 * demo). Reports overhead = wall − S and the harness adds peak RSS. Peers: corun, async/await
 * with Bun.sleep, one Bun Worker per task (capped), effection 4, Effect 4, redux-saga. Every
 * peer defines its task function once and starts it N times, as the async/await peer does.
 * "bare generators" is a reference, not a runtime: the least any generator-per-task design
 * pays (one generator per task, one host timer, no scheduler, no error handling).
 */
import { run, spawn, sleep, type Co, type Task } from "../../src/index.ts";
import * as effection from "effection";
import { Effect, Fiber } from "effect";
import { runSaga, type Task as SagaTask } from "redux-saga";
import { delay, fork, join as sagaJoin } from "redux-saga/effects";
import { WORKER_CAP, roundTrip, startWorkers, stopWorkers } from "../lib/workers.ts";
import type { PeerOptions, Scenario } from "../scenario.ts";

/** The reference peer's name (see `bareGeneratorsPeer`). */
const BARE = "bare generators";

interface Size {
  n: number;
  sleepMs: number;
}

const SIZES: Record<string, Size> = {
  tiny: { n: 200, sleepMs: 10 },
  "10k-100ms": { n: 10_000, sleepMs: 100 },
  "10k-1s": { n: 10_000, sleepMs: 1000 },
  "100k": { n: 100_000, sleepMs: 10 },
  "1m": { n: 1_000_000, sleepMs: 10 },
};

function sizeOf(opts: PeerOptions): Size {
  const s = opts.variant === undefined ? undefined : SIZES[opts.variant];
  if (s === undefined) throw new Error(`concurrent: unknown size variant ${JSON.stringify(opts.variant)}`);
  return s;
}

/** Time `body`, check the counter reached `expect`, and return the common metrics. */
async function measure(size: Size, tasks: number, body: (bump: () => void) => Promise<unknown>): Promise<Record<string, number>> {
  let counter = 0;
  const bump = (): void => {
    counter++;
  };
  const t0 = performance.now();
  await body(bump);
  const wall = performance.now() - t0;
  if (counter !== tasks) throw new Error(`concurrent: counter is ${counter}, expected ${tasks}`);
  return { overhead_ms: wall - size.sleepMs, tasks, n: size.n, sleep_ms: size.sleepMs };
}

async function corunPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  return measure(size, size.n, (bump) =>
    run(function* () {
      function* one(): Co<void> {
        yield* sleep(size.sleepMs);
        bump();
      }
      const tasks: Task<void>[] = new Array(size.n);
      for (let i = 0; i < size.n; i++) tasks[i] = yield* spawn(one);
      for (const t of tasks) yield* t;
    }),
  );
}

async function asyncPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  return measure(size, size.n, async (bump) => {
    const one = async (): Promise<void> => {
      await Bun.sleep(size.sleepMs);
      bump();
    };
    const all: Promise<void>[] = new Array(size.n);
    for (let i = 0; i < size.n; i++) all[i] = one();
    await Promise.all(all);
  });
}

/**
 * The floor for a runtime built on one generator per task: each generator is started, yields
 * once, and one host timer resumes them all. No task record, queue, cancellation or errors.
 */
async function bareGeneratorsPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  return measure(size, size.n, (bump) =>
    new Promise<void>((resolve, reject) => {
      function* one(): Generator<undefined, void, unknown> {
        yield;
        bump();
      }
      const gens: Generator<undefined, void, unknown>[] = new Array(size.n);
      for (let i = 0; i < size.n; i++) {
        const g = one();
        g.next();
        gens[i] = g;
      }
      setTimeout(() => {
        try {
          for (const g of gens) g.next();
          resolve();
        } catch (error) {
          reject(error);
        }
      }, size.sleepMs);
    }),
  );
}

const WORKER_SOURCE = `self.onmessage = (e) => { setTimeout(() => postMessage(1), e.data); };`;

async function workersPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  const count = Math.min(size.n, WORKER_CAP);
  const m = await measure(size, count, async (bump) => {
    const workers = startWorkers(WORKER_SOURCE, count);
    try {
      const replies = await roundTrip<number>(workers, () => size.sleepMs);
      for (let i = 0; i < replies.length; i++) bump();
    } finally {
      stopWorkers(workers);
    }
  });
  return { ...m, worker_cap: WORKER_CAP };
}

async function effectionPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  return measure(size, size.n, (bump) =>
    effection.run(function* () {
      function* one(): effection.Operation<void> {
        yield* effection.sleep(size.sleepMs);
        bump();
      }
      const tasks: effection.Task<void>[] = new Array(size.n);
      for (let i = 0; i < size.n; i++) tasks[i] = yield* effection.spawn(one);
      for (const t of tasks) yield* t;
    }),
  );
}

async function effectPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  return measure(size, size.n, (bump) => {
    const one = Effect.sleep(size.sleepMs).pipe(Effect.andThen(Effect.sync(bump)));
    const program = Effect.gen(function* () {
      const fibers: Fiber.Fiber<void>[] = new Array(size.n);
      for (let i = 0; i < size.n; i++) fibers[i] = yield* Effect.forkChild(one);
      yield* Fiber.joinAll(fibers);
    });
    return Effect.runPromise(program);
  });
}

async function sagaPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const size = sizeOf(opts);
  return measure(size, size.n, (bump) => {
    function* one(): Generator<unknown, void, unknown> {
      yield delay(size.sleepMs);
      bump();
    }
    function* root(): Generator<unknown, void, unknown> {
      const tasks: SagaTask[] = new Array(size.n);
      for (let i = 0; i < size.n; i++) tasks[i] = (yield fork(one)) as SagaTask;
      yield sagaJoin(tasks);
    }
    return runSaga({}, root).toPromise();
  });
}

/** The "concurrent" scenario. */
export const scenario: Scenario = {
  name: "concurrent",
  description: "N tasks each sleep S ms then increment a counter; overhead = wall − S",
  primary: { metric: "overhead_ms", better: "lower" },
  variants: (opts) => (opts.tiny ? ["tiny"] : opts.quick ? ["10k-100ms", "100k"] : ["10k-1s", "100k", "1m"]),
  note: (metrics, peer) =>
    peer === BARE
      ? "reference, not a runtime: the floor of one generator per task (one host timer, no scheduler)"
      : metrics.tasks !== undefined && metrics.n !== undefined && metrics.tasks < metrics.n
      ? `capped: ran ${metrics.tasks} of ${metrics.n} tasks (one Worker each)`
      : "",
  // The targets, at 100k and 1M: ratios to each peer in the same run.
  targets: [
    { metric: "overhead_ms", vs: "async/await", max: 0.5, variants: ["100k", "1m"], label: "overhead ≤ 0.5× async/await" },
    { metric: "overhead_ms", vs: "effection", max: 0.1, variants: ["100k", "1m"], label: "overhead ≤ 0.1× effection" },
    { metric: "overhead_ms", vs: "effect", max: 0.1, variants: ["100k", "1m"], label: "overhead ≤ 0.1× Effect" },
    { metric: "overhead_ms", vs: "redux-saga", max: 0.1, variants: ["100k", "1m"], label: "overhead ≤ 0.1× redux-saga" },
    { metric: "peak_rss_mb", vs: "async/await", max: 0.7, variants: ["100k", "1m"], label: "peak RSS ≤ 0.7× async/await" },
  ],
  skip: (peer, variant) =>
    peer === "effection" && variant === "1m"
      ? "not run: at 100k it takes seconds and about 1.5 GB; at 1M a trial run passed 120 s without finishing"
      : undefined,
  peers: {
    corun: corunPeer,
    "async/await": asyncPeer,
    workers: workersPeer,
    effection: effectionPeer,
    effect: effectPeer,
    "redux-saga": sagaPeer,
    [BARE]: bareGeneratorsPeer,
  },
};
