/**
 * Scenario "io": 100 tasks each write 100 × 32 KiB to their own file in a temp dir (3.2 MB
 * each); reports MB/s; every file's size and content is verified, then the dir is removed.
 * Peers: corun's file API, async/await (fs/promises, Bun FileSink), Workers, effection, Effect, redux-saga.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join as pathJoin } from "node:path";
import * as effection from "effection";
import { Effect } from "effect";
import { runSaga } from "redux-saga";
import { all, call } from "redux-saga/effects";
import { run, spawn, join, open as corunOpen, type Co, type Task } from "../../src/index.ts";
import { roundTrip, startWorkers, stopWorkers } from "../lib/workers.ts";
import type { PeerOptions, Scenario } from "../scenario.ts";
import { scratchDir } from "../harness/child.ts";

/** The shape of one run: how many tasks (files), writes per file, bytes per write. */
export interface IoShape {
  tasks: number;
  writes: number;
  chunk: number;
}

function shapeOf(opts: PeerOptions): IoShape {
  return opts.tiny ? { tasks: 10, writes: 10, chunk: 32 * 1024 } : { tasks: 100, writes: 100, chunk: 32 * 1024 };
}

/**
 * The fill byte of write `i` of task `t`: every chunk differs from its neighbours.
 *
 * @example
 * ```ts
 * fillOf(1, 2); // 33
 * ```
 */
export function fillOf(t: number, i: number): number {
  return (t * 31 + i) & 255;
}

/**
 * 256 chunks, chunk k filled with byte k; shared by every writer (never mutated).
 *
 * @example
 * ```ts
 * makeChunks(32 * 1024)[7]![0]; // 7
 * ```
 */
export function makeChunks(size: number): Uint8Array[] {
  return Array.from({ length: 256 }, (_, k) => new Uint8Array(size).fill(k));
}

/** A peer's write phase: write every file of the shape into `dir` (`file(t)` names task t's file). */
type Writer = (shape: IoShape, file: (t: number) => string, chunks: Uint8Array[]) => Promise<void | Record<string, number>>;

/** Rounds per peer (median reported): noise on a shared 2-core machine is large. */
function roundsOf(opts: PeerOptions): number {
  return opts.tiny ? 1 : opts.quick ? 3 : 7;
}

/** Per round: make a temp dir, time `write`, verify every file, remove the dir. Reports MB/s. */
async function measure(opts: PeerOptions, write: Writer): Promise<Record<string, number>> {
  const shape = shapeOf(opts);
  const chunks = makeChunks(shape.chunk);
  const times: number[] = [];
  let extra: Record<string, number> = {};
  for (let round = 0; round < roundsOf(opts); round++) {
    // In the scratch dir the parent removes: a child killed at its timeout runs no finally.
    const dir = mkdtempSync(pathJoin(scratchDir(), "corun-bench-io-"));
    const file = (t: number): string => pathJoin(dir, `task-${t}.bin`);
    try {
      const t0 = performance.now();
      extra = (await write(shape, file, chunks)) ?? {};
      times.push(performance.now() - t0);
      await verify(shape, file, chunks);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1]!;
  const bytes = shape.tasks * shape.writes * shape.chunk;
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
  return { mb_per_s: mbps(median), best_mb_per_s: mbps(times[0]!), write_ms: median, rounds: times.length, files: shape.tasks, bytes, ...extra };
}

async function verify(shape: IoShape, file: (t: number) => string, chunks: Uint8Array[]): Promise<void> {
  for (let t = 0; t < shape.tasks; t++) {
    const data = await Bun.file(file(t)).bytes();
    const want = shape.writes * shape.chunk;
    if (data.length !== want) throw new Error(`io: ${file(t)} has ${data.length} bytes, expected ${want}`);
    for (let i = 0; i < shape.writes; i++) {
      const fill = fillOf(t, i);
      const part = Buffer.from(data.buffer, data.byteOffset + i * shape.chunk, shape.chunk);
      if (!part.equals(chunks[fill]!)) {
        throw new Error(`io: ${file(t)} write #${i} does not hold byte ${fill} throughout`);
      }
    }
  }
}

// corun's own file API: open(path, "w"), file.write, file.close (the file driver batches a tick's writes).
const corunWriter: Writer = (shape, file, chunks) =>
  run(function* () {
    let writeOps = 0;
    let hostWrites = 0;
    function* one(t: number): Co<void> {
      const f = yield* corunOpen(file(t), "w");
      try {
        for (let i = 0; i < shape.writes; i++) yield* f.write(chunks[fillOf(t, i)]!);
      } finally {
        yield* f.close();
        const st = f.stats();
        writeOps += st.writeOps;
        hostWrites += st.hostWrites;
      }
    }
    const tasks: Task<void>[] = [];
    for (let t = 0; t < shape.tasks; t++) tasks.push(yield* spawn(() => one(t)));
    for (const task of tasks) yield* join(task);
    // How many write() calls each sink write carried (the driver's per-tick coalescing).
    return { writes_per_host_write: hostWrites > 0 ? writeOps / hostWrites : 0 };
  });

const fsPromises: Writer = async (shape, file, chunks) => {
  const one = async (t: number): Promise<void> => {
    const fh = await open(file(t), "w");
    try {
      for (let i = 0; i < shape.writes; i++) await fh.write(chunks[fillOf(t, i)]!);
    } finally {
      await fh.close();
    }
  };
  await Promise.all(Array.from({ length: shape.tasks }, (_, t) => one(t)));
};

const fileSink: Writer = async (shape, file, chunks) => {
  const one = async (t: number): Promise<void> => {
    const w = Bun.file(file(t)).writer();
    for (let i = 0; i < shape.writes; i++) {
      const r = w.write(chunks[fillOf(t, i)]!);
      if (typeof r !== "number") await r;
    }
    await w.end();
  };
  await Promise.all(Array.from({ length: shape.tasks }, (_, t) => one(t)));
};

// One thread per file doing blocking writes: the thread model.
const WORKER_SOURCE = `
const fs = require("node:fs");
self.onmessage = (e) => {
  const { path, t, writes, chunk } = e.data;
  const fd = fs.openSync(path, "w");
  const bufs = new Map();
  for (let i = 0; i < writes; i++) {
    const fill = (t * 31 + i) & 255;
    let b = bufs.get(fill);
    if (!b) { b = new Uint8Array(chunk).fill(fill); bufs.set(fill, b); }
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off);
  }
  fs.closeSync(fd);
  postMessage(1);
};`;

const workers: Writer = async (shape, file) => {
  const ws = startWorkers(WORKER_SOURCE, shape.tasks);
  try {
    await roundTrip(ws, (t) => ({ path: file(t), t, writes: shape.writes, chunk: shape.chunk }));
  } finally {
    stopWorkers(ws);
  }
};

const effectionWriter: Writer = (shape, file, chunks) =>
  effection.run(function* () {
    const tasks: effection.Task<void>[] = [];
    for (let t = 0; t < shape.tasks; t++) {
      tasks.push(
        yield* effection.spawn(function* () {
          const fh: FileHandle = yield* effection.call(() => open(file(t), "w"));
          try {
            for (let i = 0; i < shape.writes; i++) yield* effection.call(() => fh.write(chunks[fillOf(t, i)]!));
          } finally {
            yield* effection.call(() => fh.close());
          }
        }),
      );
    }
    for (const task of tasks) yield* task;
  });

const effectWriter: Writer = (shape, file, chunks) => {
  const one = (t: number) =>
    Effect.acquireUseRelease(
      Effect.promise(() => open(file(t), "w")),
      (fh) =>
        Effect.gen(function* () {
          for (let i = 0; i < shape.writes; i++) yield* Effect.promise(() => fh.write(chunks[fillOf(t, i)]!));
        }),
      (fh) => Effect.promise(() => fh.close()),
    );
  const ids = Array.from({ length: shape.tasks }, (_, t) => t);
  return Effect.runPromise(Effect.forEach(ids, one, { concurrency: "unbounded", discard: true }));
};

const sagaWriter: Writer = (shape, file, chunks) => {
  function* one(t: number): Generator<unknown, void, unknown> {
    const fh = (yield call(() => open(file(t), "w"))) as FileHandle;
    try {
      for (let i = 0; i < shape.writes; i++) yield call(() => fh.write(chunks[fillOf(t, i)]!));
    } finally {
      yield call(() => fh.close());
    }
  }
  function* root(): Generator<unknown, void, unknown> {
    yield all(Array.from({ length: shape.tasks }, (_, t) => call(one, t)));
  }
  return runSaga({}, root).toPromise();
};

/** The "io" scenario. */
export const scenario: Scenario = {
  name: "io",
  description: "100 tasks each write 100 × 32 KiB to their own file (verified, then removed)",
  primary: { metric: "mb_per_s", better: "higher" },
  targets: [{ metric: "mb_per_s", vs: "best other", min: 0.9, label: "within 10 % of the fastest peer (≥ 0.9× the best of the others)" }],
  peers: {
    corun: (opts) => measure(opts, corunWriter),
    "async/await fs": (opts) => measure(opts, fsPromises),
    "async/await FileSink": (opts) => measure(opts, fileSink),
    workers: (opts) => measure(opts, workers),
    effection: (opts) => measure(opts, effectionWriter),
    effect: (opts) => measure(opts, effectWriter),
    "redux-saga": (opts) => measure(opts, sagaWriter),
  },
};
