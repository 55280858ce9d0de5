/** Descriptors: many FIFO ends (a new stream each), reads returning null with no writer, close and run end. */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, dir: string, how: string) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, writeSync, closeSync, readdirSync, constants } from "node:fs";
const path = ${JSON.stringify(dir + "/fifo")};
const fds = () => readdirSync("/proc/self/fd").length;
const res = {};
let ended = 0;
process.on("exit", () => console.log("RESULT " + JSON.stringify({ ...res, exitMs: Math.round(performance.now() - ended) })));
res.base = fds();
await run(function* () {
  const f = yield* open(path, "r");
  let got = 0, nulls = 0;
  for (let i = 0; i < 150; i++) {
    const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(w, "x".repeat(10)); closeSync(w);
    for (;;) { const b = yield* f.read(); if (b === null) { nulls++; break; } got += b.length; }
    yield* f.read(); // null again at once: another new stream
  }
  res.got = got; res.nulls = nulls;
  yield* sleep(50);
  res.mid = fds();
  ${how === "close" ? "yield* f.close(); yield* sleep(50); res.afterClose = fds();" : ""}
  ${how === "runEndReading" ? "const w2 = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK); writeSync(w2, 'abc'); res.w2 = true; yield* spawn(function* () { yield* f.read(1); yield* f.read(); });  yield* sleep(20); globalThis.__w2 = w2;" : ""}
});
ended = performance.now();
await new Promise((r) => setTimeout(r, 100));
res.after = fds();
if (globalThis.__w2 !== undefined) setTimeout(() => closeSync(globalThis.__w2), 1000);
`;

for (const how of ["close", "runEnd", "runEndReading"]) {
  test(`150 FIFO ends then ${how}: no descriptor left`, async () => {
    const r = await sh((src, dir) => SCRIPT(src, dir, how), 'mkfifo "$D/fifo" && "$BUN" "$CHILD"', 8000);
    expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
    const got = JSON.parse(r.out.replace(/^RESULT /, ""));
    expect(got.got).toBe(1500);
    expect(got.mid - got.base).toBeLessThanOrEqual(2);
    expect(got.after).toBeLessThanOrEqual(got.base + (how === "runEndReading" ? 1 : 0));
  }, 12_000);
}
