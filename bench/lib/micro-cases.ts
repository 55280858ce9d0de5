/**
 * The micro-benchmark cases, as pairs: a corun operation and its baseline over the same
 * count (bare generator loop, async/await, Bun.sleep). Shared by the `micro` scenario (numbers
 * and ratios) and bench/micro.ts (full mitata output). Measures nothing itself.
 */
import { Scheduler, spawn, sleep, suspend, type Co, type Task, type Waker } from "../../src/index.ts";

/** A long-lived scheduler that runs one coroutine per benchmark iteration. */
export interface Host {
  /** Run `co` as a task on the host scheduler; resolves with its result. */
  run<T>(co: () => Co<T>): Promise<T>;
  /** End the host scheduler. */
  close(): Promise<void>;
}

/**
 * Start a host: one scheduler whose main task waits until `close()`, so iterations pay
 * neither scheduler creation nor shutdown.
 *
 * @example
 * ```ts
 * const host = startHost();
 * await host.run(function* () { yield; });
 * await host.close();
 * ```
 */
export function startHost(): Host {
  const scheduler = new Scheduler();
  let stop: Waker<void> | undefined;
  const done = scheduler.run(function* () {
    yield* suspend<void>((w) => {
      stop = w;
    }, "micro host");
  });
  return {
    run: <T>(co: () => Co<T>): Promise<T> => scheduler.spawn(co).promise,
    close: async (): Promise<void> => {
      while (stop === undefined) await Bun.sleep(0);
      stop.resume();
      await done;
    },
  };
}

/** One comparison: corun's side and the baseline's, each doing `ops` operations per call. */
export interface Pair {
  /** Short key used in metric names, e.g. `switch`. */
  key: string;
  /** What one operation is, for reports. */
  label: string;
  baselineLabel: string;
  /** Operations per call (divide a call's time by this for ns/op). */
  ops: number;
  /** Subtracted from a call's time before comparing (a sleep's own duration), ns. */
  idleNs: number;
  corun: () => unknown;
  baseline: () => unknown;
}

/** Sizes of the cases. */
export interface MicroSizes {
  /** Tasks (and generators) in the switch case. */
  switchTasks: number;
  /** Yields per task in the switch case. */
  switchRounds: number;
  /** Children per spawn+join batch. */
  spawnBatch: number;
  /** sleep(0) calls per iteration. */
  sleep0Count: number;
  /** Sleepers in the sleepers case, and their sleep in ms. */
  sleepers: number;
  sleepMs: number;
}

/** Default sizes (the brief's: 1,000 tasks, batches of 1,000, 100k sleepers). */
export const SIZES: MicroSizes = { switchTasks: 1000, switchRounds: 100, spawnBatch: 1000, sleep0Count: 1000, sleepers: 100_000, sleepMs: 10 };

/**
 * The four pairs: context switch, spawn+join, sleep(0), 100k sleepers.
 *
 * @example
 * ```ts
 * const host = startHost();
 * for (const p of makePairs(host, SIZES)) await p.corun();
 * ```
 */
export function makePairs(host: Host, z: MicroSizes): Pair[] {
  const { switchTasks: N, switchRounds: R } = z;

  function* yielder(): Co<void> {
    for (let r = 0; r < R; r++) yield;
  }
  function* bareGen(): Generator<undefined, void, unknown> {
    for (let r = 0; r < R; r++) yield;
  }
  const switches = (): Promise<void> =>
    host.run(function* () {
      const ts: Task<void>[] = new Array(N);
      for (let i = 0; i < N; i++) ts[i] = yield* spawn(yielder);
      for (let i = 0; i < N; i++) yield* ts[i]!;
    });
  const bareLoop = (): number => {
    const gens: Generator<undefined, void, unknown>[] = new Array(N);
    for (let i = 0; i < N; i++) gens[i] = bareGen();
    let steps = 0;
    for (let live = N; live > 0; ) {
      live = 0;
      for (let i = 0; i < N; i++) {
        steps++;
        if (gens[i]!.next().done !== true) live++;
      }
    }
    return steps;
  };

  const B = z.spawnBatch;
  function* child(): Co<number> {
    return 1;
  }
  const spawnJoin = (): Promise<number> =>
    host.run(function* () {
      const ts: Task<number>[] = new Array(B);
      for (let i = 0; i < B; i++) ts[i] = yield* spawn(child);
      let sum = 0;
      for (let i = 0; i < B; i++) sum += yield* ts[i]!;
      return sum;
    });
  const asyncChild = async (): Promise<number> => 1;
  const asyncAwait = async (): Promise<number> => {
    const ps: Promise<number>[] = new Array(B);
    for (let i = 0; i < B; i++) ps[i] = asyncChild();
    let sum = 0;
    for (let i = 0; i < B; i++) sum += await ps[i]!;
    return sum;
  };

  const S0 = z.sleep0Count;
  const sleep0 = (): Promise<void> =>
    host.run(function* () {
      for (let i = 0; i < S0; i++) yield* sleep(0);
    });
  const bunSleep0 = async (): Promise<void> => {
    for (let i = 0; i < S0; i++) await Bun.sleep(0);
  };

  const K = z.sleepers;
  const ms = z.sleepMs;
  function* sleeper(): Co<void> {
    yield* sleep(ms);
  }
  const sleepers = (): Promise<void> =>
    host.run(function* () {
      const ts: Task<void>[] = new Array(K);
      for (let i = 0; i < K; i++) ts[i] = yield* spawn(sleeper);
      for (let i = 0; i < K; i++) yield* ts[i]!;
    });
  const bunSleeper = async (): Promise<void> => {
    await Bun.sleep(ms);
  };
  const bunSleepers = async (): Promise<void> => {
    const ps: Promise<void>[] = new Array(K);
    for (let i = 0; i < K; i++) ps[i] = bunSleeper();
    await Promise.all(ps);
  };

  return [
    { key: "switch", label: `yield round trip (${N} tasks × ${R})`, baselineLabel: "bare generator.next() loop", ops: N * R, idleNs: 0, corun: switches, baseline: bareLoop },
    { key: "spawn_join", label: `spawn+join (batches of ${B})`, baselineLabel: "async call + await", ops: B, idleNs: 0, corun: spawnJoin, baseline: asyncAwait },
    { key: "sleep0", label: `sleep(0) (×${S0} in one task)`, baselineLabel: "await Bun.sleep(0)", ops: S0, idleNs: 0, corun: sleep0, baseline: bunSleep0 },
    { key: "sleepers", label: `${K} sleepers of ${ms} ms`, baselineLabel: `${K} × await Bun.sleep(${ms})`, ops: 1, idleNs: ms * 1e6, corun: sleepers, baseline: bunSleepers },
  ];
}
