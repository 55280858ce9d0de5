/**
 * FileReads serving real File reads and readAlls on a FakeReactor (its io handler, cancels
 * forwarded), under moveOnAfter, seeded: a give-back that completes another task's read from
 * inside a task's step reaches that task once, and the stream stays in order.
 */
import { expect, test } from "bun:test";
import { run, spawn, join, sleep, moveOnAfter, current } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";
import { File } from "../../src/fs/file.ts";
import { FileReads } from "../../src/reactor/file-reads.ts";
import { FileHandle } from "../../src/reactor/file-handle.ts";
import type { PipeSource } from "../../src/reactor/file-pipe.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";
import { rng } from "../helpers.ts";

const stats = { gives: 0, accepted: 0, servedInGive: 0 };
async function once(seed: number): Promise<string | undefined> {
  const r = rng(seed);
  const stream: number[] = [];
  for (let i = 0; i < 300; i++) stream.push(i % 251);
  let at = 0;
  let pending: ((b: Uint8Array | null) => void) | undefined;
  const src = (): PipeSource => ({
    read: () => new Promise((res) => { pending = res; }),
    cancel: () => { const p = pending; pending = undefined; p?.(null); },
  });
  const live = new Set<Ticket>();
  const reads = new FileReads(live, undefined, src);
  const h = new FileHandle("/virtual/fifo", "r", {});
  h.positional = false; h.streamed = true; h.fd = 99;
  const errors: string[] = [];
  const completed = new Map<unknown, unknown[]>(); // per task, what the driver completed
  const received = new Map<unknown, unknown[]>(); // per task, what its read() returned
  const log: { task: unknown; bytes: number[]; seq: number }[] = [];
  let seq = 0;
  const show = (v: unknown) => (v === null ? "null" : Array.from(v as Uint8Array).join(","));
  let wrapped: CompletionSink;
  class Fake extends FakeReactor {
    override cancel(t: Ticket): void { super.cancel(t); if (t.op === "file.read") { live.delete(t); reads.cancel(t); } }
  }
  const reactor = new Fake({
    deadlockTimeout: Infinity,
    io: (batch, sink) => {
      wrapped ??= {
        complete: (t, v) => {
          const name = t.taskName;
          const key = (t as unknown as { task: unknown }).task; (completed.get(key) ?? completed.set(key, []).get(key)!).push(show(v));
          if (v !== null) log.push({ task: key, bytes: Array.from(v as Uint8Array), seq: seq++ });
          if (v !== null && (v as Uint8Array).length > (t.b as number)) errors.push(`${name} got more than ${t.b}`);
          sink.complete(t, v);
        },
        fail: (t, e) => { errors.push(`fail ${t.taskName} ${String(e)}`); sink.fail(t, e); },
      };
      for (const t of batch) reads.read(t.a as FileHandle, t, wrapped);
    },
  });
  const origGive = h.giveBack.bind(h);
  let giving: { name: unknown; start: number } | undefined;
  const starts = new Map<unknown, number>();
  h.giveBack = (bytes, mark, own) => {
    const before = h.served, keptBefore = h.kept?.length ?? 0, L = log.length;
    origGive(bytes, mark, own);
    const accepted = h.served !== before || (h.kept?.length ?? 0) !== keptBefore || log.length !== L;
    stats.gives++; if (accepted) stats.accepted++; if (log.length !== L) stats.servedInGive++;
    if (accepted && giving) {
      const g = giving;
      for (let i = log.length - 1; i >= 0; i--) if (log[i]!.task === g.name && log[i]!.seq >= g.start && log[i]!.seq < seq - (log.length - L)) log.splice(i, 1);
    }
  };
  class LF extends File {
    me: unknown;
    constructor(readonly who: string) { super(h); }
    // @ts-expect-error review: a generator stands in for the Syscall (readAll uses it through yield*)
    override *read(n?: number): Generator<any, Uint8Array | null, any> {
      const me = this.me ?? (yield* current());
      let v: Uint8Array | null;
      try { v = yield* super.read(n); } catch (e) { giving = starts.has(me) ? { name: me, start: starts.get(me)! } : undefined; throw e; }
      (received.get(me) ?? received.set(me, []).get(me)!).push(show(v));
      return v;
    }
    override *readAll(): Generator<any, Uint8Array, any> {
      this.me = yield* current();
      starts.set(this.me, seq);
      return yield* super.readAll();
    }
  }
  // readAll's give-back happens inside super.readAll's catch: record its start seq beforehand.
  await run(function* () {
    const tasks = [];
    tasks.push(yield* spawn(function* () {
      while (at < stream.length) {
        yield* sleep(r(6));
        if (pending === undefined) continue;
        const n = Math.min(stream.length - at, 1 + r(9));
        const p = pending; pending = undefined;
        p(Buffer.from(stream.slice(at, at + n))); at += n;
      }
    }, { name: "writer" }));
    for (let i = 0; i < 40; i++) {
      yield* sleep(r(seed % 2 ? 5 : 40));
      const name = `T${i}`;
      const f = new LF(name);
      if (r(2) === 0) {
        tasks.push(yield* spawn(function* () {
          yield* moveOnAfter(r(30), () => f.readAll());
        }, { name }));
      } else {
        tasks.push(yield* spawn(function* () { yield* moveOnAfter(r(30), function* () { for (;;) yield* f.read(1 + r(8)); }); }, { name }));
      }
    }
    for (const t of tasks.slice(1)) yield* join(t);
    // drain: one reader while the writer supplies the rest
    const f = new LF("drain");
    yield* moveOnAfter(20_000, function* () { for (;;) yield* f.read(1 + r(8)); });
    yield* join(tasks[0]!);
  }, { reactor });
  for (const [key, c] of completed) {
    const got = received.get(key) ?? [];
    if (JSON.stringify(got) !== JSON.stringify(c)) errors.push(`${(key as { name: string }).name}: driver completed ${JSON.stringify(c)}, task received ${JSON.stringify(got)}`);
  }
  const flat = log.flatMap((e) => e.bytes);
  const same = flat.length === stream.length && flat.every((x, i) => x === stream[i]);
  if (!same) {
    let i = 0; while (i < flat.length && flat[i] === stream[i]) i++;
    errors.push(`stream differs at ${i} (delivered ${flat.length} of ${stream.length}, kept ${h.kept?.length ?? 0}): ${flat.slice(i, i + 8)} vs ${stream.slice(i, i + 8)}`);
  }
  return errors.length ? `seed ${seed}: ${errors.join("; ")}` : undefined;
}

test("kernel + FileReads on a fake pipe: completions reach their tasks once, stream in order", async () => {
  const bad: string[] = [];
  for (let seed = 1; seed <= 150 && bad.length < 3; seed++) { const e = await once(seed); if (e) bad.push(e); }
  expect(bad).toEqual([]);
  // The runs did exercise it: give-backs accepted, some completing another task's read from inside a step.
  expect(stats.accepted).toBeGreaterThan(0);
  expect(stats.servedInGive).toBeGreaterThan(0);
}, 120_000);
