/**
 * Seeded random stress on a FIFO: 3-4 tasks, random read sizes, random cut-short read and
 * readAll (moveOnAfter), a writer sending a seeded byte stream in random pieces. Checks: no
 * read gets more than it asked; the bytes tasks got, in delivery order, are the stream less
 * only what refused giveBacks dropped (as a subsequence, lengths adding up); bytesRead agrees.
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, dir: string, seed: number, tasks: number, readAllOdds: number) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open, File } from ${JSON.stringify(src + "/fs/file.ts")};
import { FileHandle } from ${JSON.stringify(src + "/reactor/file-handle.ts")};
import { openSync, writeSync, closeSync, constants } from "node:fs";
const path = ${JSON.stringify(dir + "/fifo")};
let seed = ${seed}; const rnd = (n) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
let s2 = ${seed} ^ 0x5bd1e995; const byte = () => ((s2 = (s2 * 1664525 + 1013904223) >>> 0) >>> 24);
const SENT = Buffer.alloc(6000); for (let i = 0; i < SENT.length; i++) SENT[i] = byte();
const log = []; let refused = 0, accepted = 0, over = 0, cuts = 0, allCuts = 0;
const gb = FileHandle.prototype.giveBack;
FileHandle.prototype.giveBack = function (bytes, mark, own) { const ok = this.served === mark + own && !this.closed; gb.call(this, bytes, mark, own); if (!ok) refused += bytes.length; else accepted++; };
// Every piece a read delivers is logged as it is delivered (a readAll's too, one per read): a
// readAll that completes may have had other tasks' reads between its pieces; one cut short has
// its pieces dropped from the log (given back and delivered again, or refused and counted).
let active = null; // the pieces list of the readAll being stepped now, if any
const origRead = File.prototype.read;
File.prototype.read = function (n) {
  const s = origRead.call(this, n);
  return (function* () { const v = yield* s; if (v !== null) { const e = { b: Buffer.from(v), dropped: false }; log.push(e); active?.push(e); } return v; })();
};
// Steps f.readAll() with \`active\` set to its own list (no step added: it yields what readAll yields).
function* tracked(mine) {
  const g = f.readAll();
  const step = (how, x) => { active = mine; try { return how === 0 ? g.next(x) : g.throw(x); } finally { active = null; } };
  let r = step(0, undefined);
  while (!r.done) { let x; try { x = yield r.value; } catch (e) { r = step(1, e); continue; } r = step(0, x); }
  return r.value;
}
let f;
await run(function* () {
  f = yield* open(path, "r");
  const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const writer = yield* spawn(function* () {
    let at = 0;
    while (at < SENT.length) { const n = 1 + rnd(120); writeSync(w, SENT.subarray(at, at + n)); at += n; yield* sleep(rnd(6)); }
    closeSync(w);
  });
  const ts = [];
  for (let k = 0; k < ${tasks}; k++) ts.push(yield* spawn(function* () {
    for (;;) {
      if (${readAllOdds} > 0 && rnd(${readAllOdds}) === 0) {
        const mine = [];
        const a = yield* moveOnAfter(1 + rnd(8), () => tracked(mine));
        if (a === undefined) { allCuts++; for (const e of mine) e.dropped = true; continue; }
        return;
      }
      const n = 1 + rnd(60);
      const b = yield* moveOnAfter(1 + rnd(6), () => f.read(n));
      if (b === undefined) { cuts++; continue; }
      if (b === null) return;
      if (b.length > n) over++;
    }
  }));
  yield* join(writer);
  for (const t of ts) yield* join(t);
  for (;;) { const b = yield* f.read(); if (b === null) break; }
  yield* f.close();
});
const got = Buffer.concat(log.filter((e) => !e.dropped).map((e) => e.b));
let j = 0; for (let i = 0; i < SENT.length && j < got.length; i++) if (SENT[i] === got[j]) j++;
const subseq = j === got.length;
let firstDiff = -1; for (let i = 0; i < got.length; i++) if (got[i] !== SENT[i]) { firstDiff = i; break; }
console.log("RESULT " + JSON.stringify({ same: got.equals(SENT), subseq, gotLen: got.length, sentLen: SENT.length, refused, accepted, over, cuts, allCuts, firstDiff, bytesRead: f.stats().bytesRead }));
`;

const cases: [number, number, number][] = [];
for (let s = 1; s <= 2; s++) cases.push([s * 7919, 3 + (s % 2), 0]); // reads only
for (let s = 1; s <= 4; s++) cases.push([s * 104729, 3 + (s % 2), 6]); // with readAlls
for (const [seed, tasks, odds] of cases) {
  test(`seed ${seed}, ${tasks} tasks, readAll odds 1/${odds}`, async () => {
    const r = await sh((src, dir) => SCRIPT(src, dir, seed, tasks, odds), 'mkfifo "$D/fifo" && "$BUN" "$CHILD"', 8000);
    expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
    const got = JSON.parse(r.out.replace(/^RESULT /, ""));
    expect(got.over).toBe(0);
    // Only refused giveBacks may drop bytes, and nothing is reordered or doubled.
    expect({ subseq: got.subseq, len: got.gotLen + got.refused }).toEqual({ subseq: true, len: got.sentLen });
    expect(got.bytesRead).toBe(got.gotLen + got.refused);
    if (odds === 0) expect(got.same).toBe(true);
  }, 12_000);
}
