/**
 * Pipes read on the event loop, under load: a 10 MB FIFO transfer read byte for byte through
 * reads of every size, reads cancelled in flight and readAll() cut short; backpressure (a
 * slow reader holds a 50 MB writer back); a FIFO with no writer ever (close, cancel and the
 * run's end free its read; no descriptor is left; the process exits by itself).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const WRITER = (total: number) => `
import { openSync, writeSync, closeSync, writeFileSync } from "node:fs";
const fd = openSync(process.argv[2], "w");
let seed = 12345; const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
let i = 0;
while (i < ${total}) {
  const n = Math.min(${total} - i, 1 + Math.floor(rnd() * (rnd() < 0.5 ? 100 : 200000)));
  const b = Buffer.allocUnsafe(n); for (let k = 0; k < n; k++) b[k] = ((i + k) * 7 + 3) & 255;
  let off = 0; while (off < n) off += writeSync(fd, b, off, n - off);
  i += n; writeFileSync(process.argv[2] + ".sent", String(i));
}
closeSync(fd);
`;

test("10 MB through a FIFO, byte for byte: reads of every size, reads cut short by moveOnAfter, readAll() cut short", async () => {
  const N = 10 << 20;
  const r = await sh(
    (src, dir) => {
      require("node:fs").writeFileSync(dir + "/writer.ts", WRITER(N));
      return `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  let s = 7; const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let pos = 0, bad = -1, cut = 0;
  for (;;) {
    const r = rnd();
    let b;
    if (r < 0.3) b = yield* moveOnAfter(rnd() * 3, function* () { return yield* f.read(1 + Math.floor(rnd() * 70000)); });
    else if (r < 0.35) { b = yield* moveOnAfter(rnd() * 5, () => f.readAll()); if (b !== undefined && b.length === 0) b = null; }
    else b = yield* f.read(1 + Math.floor(rnd() * (r < 0.6 ? 10 : 100000)));
    if (b === undefined) { cut++; continue; }
    if (b === null) break;
    for (let k = 0; k < b.length; k++, pos++) if (bad < 0 && b[k] !== ((pos * 7 + 3) & 255)) bad = pos;
  }
  yield* f.close();
  return { pos, bad, someCut: cut > 0 };
});
console.log(JSON.stringify(out));
`;
    },
    'mkfifo "$D/fifo" && { "$BUN" "$D/writer.ts" "$D/fifo" & } && "$BUN" "$CHILD"; wait',
    20_000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: JSON.stringify({ pos: N, bad: -1, someCut: true }), err: "" });
}, 30_000);

test("backpressure: a reader taking 1 KiB every 10 ms holds back a writer of 50 MB (bounded memory)", async () => {
  const r = await sh(
    (src, dir) => {
      require("node:fs").writeFileSync(dir + "/writer.ts", WRITER(50 << 20));
      return `
import { run, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { readFileSync } from "node:fs";
const rss0 = process.memoryUsage().rss;
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  let got = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) { got += (yield* f.read(1024)).length; yield* sleep(10); }
  const sent = Number(readFileSync(${JSON.stringify(dir + "/fifo.sent")}, "utf8"));
  const grew = process.memoryUsage().rss - rss0;
  yield* f.close();
  return { held: sent - got < (1 << 20), grewUnder20MB: grew < 20e6 };
});
console.log(JSON.stringify(out));
`;
    },
    'mkfifo "$D/fifo" && { "$BUN" "$D/writer.ts" "$D/fifo" 2>/dev/null & } ; "$BUN" "$CHILD"',
    10_000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: JSON.stringify({ held: true, grewUnder20MB: true }), err: "" });
}, 15_000);

test("a FIFO with no writer ever: close, a cancel and the run's end free the read; no descriptor left; the process exits", async () => {
  const r = await sh(
    (src, dir) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { readdirSync } from "node:fs";
const fifo = ${JSON.stringify(dir + "/fifo")};
const fds = () => readdirSync("/proc/self/fd").length;
const f0 = fds();
const close = await run(function* () {
  const f = yield* open(fifo, "r");
  const r = yield* spawn(function* () { try { return String(yield* f.read()); } catch (e) { return e.code; } });
  yield* sleep(30);
  yield* f.close();
  return yield* join(r);
});
const cancelled = await run(function* () {
  const f = yield* open(fifo, "r");
  const b = yield* moveOnAfter(30, () => f.read());
  yield* f.close();
  return String(b);
});
await run(function* () {
  const f = yield* open(fifo, "r");
  yield* spawn(function* () { yield* f.read(); });
  yield* sleep(30);
});
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ close, cancelled, leaked: fds() - f0 }));
`,
    'mkfifo "$D/fifo" && "$BUN" "$CHILD"',
  );
  expect({ out: r.out, err: errLine(r.err), killed: r.killed }).toEqual({ out: JSON.stringify({ close: "ERR_SOCKET_CLOSED", cancelled: "undefined", leaked: 0 }), err: "", killed: false });
}, 10_000);
