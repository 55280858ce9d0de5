/**
 * Several readers with cancels (moveOnAfter) mid-read on one FIFO: the bytes tasks get, taken
 * in the order the reads completed, are the stream: nothing lost, twice or swapped.
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, dir: string, readers: number, withReadAll: boolean) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, writeSync, closeSync, constants } from "node:fs";
const path = ${JSON.stringify(dir + "/fifo")};
let seed = Number(process.env.SEED ?? 12345); const rnd = (n) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const sent = []; for (let i = 0; i < 1500; i++) sent.push(String(i % 10));
const SENT = sent.join("");
const log = [];
let cuts = 0, readAllCuts = 0;
await run(function* () {
  const f = yield* open(path, "r");
  const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const writer = yield* spawn(function* () {
    let at = 0;
    while (at < SENT.length) { const n = 1 + rnd(200); writeSync(w, SENT.slice(at, at + n)); at += n; yield* sleep(rnd(12)); }
    closeSync(w);
  });
  const ts = [];
  for (let k = 0; k < ${readers}; k++) ts.push(yield* spawn(function* () {
    for (;;) {
      ${withReadAll ? "if (k === 0 && rnd(4) === 0) { const a = yield* moveOnAfter(1 + rnd(4), () => f.readAll()); if (a === undefined) { readAllCuts++; continue; } if (a.length) log.push(new TextDecoder().decode(a)); return; }" : ""}
      const b = yield* moveOnAfter(1 + rnd(6), () => f.read(1 + rnd(50)));
      if (b === undefined) { cuts++; continue; }
      if (b === null) return;
      log.push(new TextDecoder().decode(b));
    }
  }));
  yield* join(writer);
  for (const t of ts) yield* join(t);
  for (;;) { const b = yield* f.read(); if (b === null) break; log.push("[drain]" + new TextDecoder().decode(b)); }
  yield* f.close();
});
const got = log.join("").replaceAll("[drain]", "");
let firstDiff = -1; for (let i = 0; i < Math.max(got.length, SENT.length); i++) if (got[i] !== SENT[i]) { firstDiff = i; break; }
console.log("RESULT " + JSON.stringify({ same: got === SENT, gotLen: got.length, sentLen: SENT.length, firstDiff, cuts, readAllCuts }));
`;

for (const [readers, withReadAll] of [[1, true], [3, false], [4, false]] as const) {
  test(`${readers} readers${withReadAll ? " (one readAll cut short)" : ""} with cancels: the stream, in completion order`, async () => {
    const r = await sh((src, dir) => SCRIPT(src, dir, readers, withReadAll), 'mkfifo "$D/fifo" && "$BUN" "$CHILD"', 10000);
    expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
    const got = JSON.parse(r.out.replace(/^RESULT /, ""));
    console.log(JSON.stringify(got));
    expect(got.same).toBe(true);
  }, 15_000);
}
