/**
 * Model check of FileReads on a regular file: seeded random interleavings of reads, pool
 * completions (in any order, some failing), appends and cancels; every read must get the next
 * bytes of the file in issue order, once (written by review of the ordered reads).
 */
import { expect, test } from "bun:test";
import { FileReads, type ReadFn } from "../../src/reactor/file-reads.ts";
import { FileHandle } from "../../src/reactor/file-handle.ts";
import { rng } from "../helpers.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";


interface Rec { t: Ticket; idx: number; n: number; lenAtIssue: number; cancelled: boolean; results: (Buffer | null | string)[] }

function runModel(seed: number, steps: number, opts: { fail?: boolean; cancel?: boolean } = {}): string | undefined {
  const r = rng(seed);
  let file = Buffer.alloc(0);
  let nextByte = 0;
  const calls: { pos: number; len: number; buf: Buffer; off: number; done: (e: NodeJS.ErrnoException | null, got: number) => void }[] = [];
  const readFn: ReadFn = (_fd, buf, off, len, pos, done) => void calls.push({ pos: pos ?? 0, len, buf, off, done });
  const live = new Set<Ticket>();
  const reads = new FileReads(live, readFn);
  const h = new FileHandle("/virtual/file", "r", {});
  const recs: Rec[] = [];
  const byT = new Map<Ticket, Rec>();
  const trace: string[] = [];
  const sink: CompletionSink = {
    complete: (t, v) => void byT.get(t)!.results.push(v === null ? null : Buffer.from(v as Uint8Array)),
    fail: (t, e) => void byT.get(t)!.results.push(`!${(e as { code?: string }).code}`),
  };
  const finish = (i: number, fail: boolean) => {
    const c = calls.splice(i, 1)[0]!;
    if (fail) {
      trace.push(`fail call@${c.pos}+${c.len}`);
      return c.done(Object.assign(new Error("EIO"), { code: "EIO" }), 0);
    }
    const got = file.copy(c.buf, c.off, Math.min(c.pos, file.length), Math.min(c.pos + c.len, file.length));
    trace.push(`finish call@${c.pos}+${c.len} -> ${got}`);
    c.done(null, got);
  };
  for (let step = 0; step < steps; step++) {
    const k = r(10);
    if (k < 3) {
      const n = 1 + r(6);
      const t: Ticket = { op: "file.read", a: h, b: n, taskName: `R${recs.length}` };
      const rec: Rec = { t, idx: recs.length, n, lenAtIssue: file.length, cancelled: false, results: [] };
      recs.push(rec);
      byT.set(t, rec);
      trace.push(`read ${t.taskName} ${n}`);
      reads.read(h, t, sink);
    } else if (k < 7) {
      if (calls.length > 0) finish(r(calls.length), opts.fail !== false && r(12) === 0);
    } else if (k < 9) {
      const m = 1 + r(5);
      const add = Buffer.alloc(m);
      for (let i = 0; i < m; i++) add[i] = 65 + (nextByte++ % 26);
      file = Buffer.concat([file, add]);
      trace.push(`append ${m}`);
    } else if (opts.cancel !== false) {
      const open = recs.filter((x) => !x.cancelled && x.results.length === 0);
      if (open.length > 0) {
        const x = open[r(open.length)]!;
        x.cancelled = true;
        trace.push(`cancel ${x.t.taskName}`);
        live.delete(x.t);
        reads.cancel(x.t);
      }
    }
  }
  let guard = 0;
  while (calls.length > 0 && guard++ < 100000) finish(r(calls.length), false);
  const problems: string[] = [];
  let delivered = 0;
  for (const x of recs) {
    if (x.cancelled) {
      if (x.results.length > 0) problems.push(`${x.t.taskName} cancelled but completed ${x.results.length}x`);
      continue;
    }
    if (x.results.length !== 1) { problems.push(`${x.t.taskName} completed ${x.results.length}x`); continue; }
    const v = x.results[0]!;
    if (typeof v === "string") continue;
    if (v === null) {
      if (x.lenAtIssue > delivered) problems.push(`${x.t.taskName} got null at ${delivered} but the file held ${x.lenAtIssue} when it was issued`);
      continue;
    }
    const want = file.subarray(delivered, delivered + v.length);
    if (!want.equals(v)) problems.push(`${x.t.taskName} got "${v}" at ${delivered}, file there is "${file.subarray(delivered, delivered + v.length + 3)}"`);
    if (v.length < x.n && x.lenAtIssue >= delivered + x.n) problems.push(`${x.t.taskName} short (${v.length}/${x.n}) though the file held ${x.lenAtIssue} at issue`);
    delivered += v.length;
  }
  if (h.reads !== 0) problems.push(`h.reads = ${h.reads}`);
  if (h.inflight.length !== 0) problems.push(`h.inflight.length = ${h.inflight.length}`);
  if (h.pos !== delivered) problems.push(`h.pos = ${h.pos}, delivered ${delivered}`);
  // a last read takes the rest
  const t: Ticket = { op: "file.read", a: h, b: 1 << 16, taskName: "LAST" };
  const rec: Rec = { t, idx: recs.length, n: 1 << 16, lenAtIssue: file.length, cancelled: false, results: [] };
  byT.set(t, rec);
  reads.read(h, t, sink);
  while (calls.length > 0) finish(0, false);
  const rest = file.subarray(delivered);
  const got = rec.results[0];
  if (!(rest.length === 0 ? got === null : got instanceof Buffer && got.equals(rest))) problems.push(`LAST got ${String(got)}, rest is "${rest}"`);
  if (problems.length === 0) return undefined;
  return `seed ${seed}: ${problems.join("; ")}\n  ${trace.join("\n  ")}`;
}

test("FileReads model check: 4,000 seeded interleavings", () => {
  const bad: string[] = [];
  for (let seed = 1; seed <= 4000; seed++) {
    const p = runModel(seed, 20 + (seed % 60));
    if (p !== undefined) bad.push(p);
  }
  if (bad.length > 0) console.log(`${bad.length} failing; shortest:\n${bad.sort((a, b) => a.length - b.length)[0]}`);
  expect(bad).toEqual([]);
});
