/**
 * Bytes given back by a cut-short readAll on a real FIFO (writer in the child, timed): a read
 * waiting or under way gets them at once, a give-back is accepted unless another task read
 * since, and the bytes tasks get stay in the stream's order (found by review).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const PRE = (src: string, dir: string) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, writeSync, closeSync, constants } from "node:fs";
const path = ${JSON.stringify(dir + "/fifo")};
const dec = (b) => (b === null ? null : b === undefined ? "cut" : new TextDecoder().decode(b));
const t0 = performance.now(); const ms = () => Math.round(performance.now() - t0);
const writer = (steps) => function* () { const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK); for (const [at, s] of steps) { yield* sleep(Math.max(0, at - ms())); if (s === null) { closeSync(w); return; } writeSync(w, s); } };
const drain = function* (f) { const out = []; for (;;) { const b = yield* f.read(); if (b === null) break; out.push(dec(b)); } return out.join(""); };
`;

async function go(body: string) {
  const r = await sh((src, dir) => PRE(src, dir) + body, 'mkfifo "$D/fifo" && "$BUN" "$CHILD"', 8000);
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  return JSON.parse(r.out.replace(/^RESULT /, ""));
}

test("a read queued behind a cut readAll's read still under way gets the given-back bytes at once", async () => {
  const got = await go(`
const out = await run(function* () {
  const f = yield* open(path, "r");
  const w = yield* spawn(writer([[100, "a"], [1000, "z"], [1050, null]]));
  const c = yield* spawn(function* () { return dec(yield* moveOnAfter(300, () => f.readAll())); });
  yield* sleep(150);
  const a = yield* spawn(function* () { const b = yield* moveOnAfter(800, () => f.read()); return [dec(b), ms()]; });
  const rc = yield* join(c), ra = yield* join(a); yield* join(w);
  const rest = yield* drain(f); yield* f.close();
  return { rc, ra, rest };
});
console.log("RESULT " + JSON.stringify(out));`);
  // A gets "a" at once (C gave it back), not when the pipe brings more.
  expect(got.rc).toBe("cut");
  expect(got.ra[0]).toBe("a");
}, 12_000);

test("a readAll begun while another was under way: its give-back is accepted when nobody else read", async () => {
  const got = await go(`
const out = await run(function* () {
  const f = yield* open(path, "r");
  const w = yield* spawn(writer([[100, "a"], [600, "b"], [1500, "c"], [1550, null]]));
  const y = yield* spawn(function* () { return dec(yield* moveOnAfter(300, () => f.readAll())); });
  yield* sleep(200);
  const z = yield* spawn(function* () { return dec(yield* moveOnAfter(1000, () => f.readAll())); });
  const ry = yield* join(y), rz = yield* join(z); yield* join(w);
  const rest = yield* drain(f); yield* f.close();
  return { ry, rz, rest };
});
console.log("RESULT " + JSON.stringify(out));`);
  expect([got.ry, got.rz]).toEqual(["cut", "cut"]);
  expect(got.rest).toBe("abc");
}, 12_000);

test("a readAll's give-back after another task took later bytes is refused: the stream keeps its order", async () => {
  const got = await go(`
const log = [];
const out = await run(function* () {
  const f = yield* open(path, "r");
  const w = yield* spawn(writer([[100, "a"], [600, "bcd"], [800, "e"], [1600, "f"], [1650, null]]));
  const y = yield* spawn(function* () { return dec(yield* moveOnAfter(300, () => f.readAll())); });
  yield* sleep(200);
  const z = yield* spawn(function* () { return dec(yield* moveOnAfter(1200, () => f.readAll())); });
  yield* sleep(10);
  const wr = yield* spawn(function* () { const b = dec(yield* f.read(1)); log.push(b); return b; });
  const ry = yield* join(y), rz = yield* join(z), rw = yield* join(wr); yield* join(w);
  const rest = yield* drain(f); log.push(rest); yield* f.close();
  return { ry, rz, rw, delivered: log.join("") };
});
console.log("RESULT " + JSON.stringify(out));`);
  expect([got.ry, got.rz]).toEqual(["cut", "cut"]);
  // Every byte tasks got, in delivery order, comes in the stream's order (some may be lost by a
  // give-back refused because another task read meanwhile, as the README says; never reordered).
  expect(got.delivered).toMatch(/^a?b?c?d?e?f?$/);
}, 12_000);
