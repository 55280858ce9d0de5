/**
 * Several tasks reading one FIFO at once: the reads go one at a time, in the order they were
 * made, and a read cut short by moveOnAfter leaves the next bytes for the next read (found by
 * review of a version that polled each read on its own: bytes were lost and reordered).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

// Task A reads (waits), task B reads with a 300 ms limit; the writer sends "one" at 100 ms,
// "two" at 600 ms (after B was cut short), "three" at 800 ms, then closes. Main reads what is left.
test("two readers at once, the second cut short: nothing lost, the next read gets the next bytes", async () => {
  const r = await sh(
    (src, dir) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : b === undefined ? "cut" : new TextDecoder().decode(b));
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  const a = yield* spawn(function* () { return dec(yield* f.read()); });
  const b = yield* spawn(function* () { return dec(yield* moveOnAfter(300, () => f.read())); });
  const ra = yield* join(a), rb = yield* join(b);
  const rest = [];
  for (let i = 0; i < 4; i++) { const x = yield* moveOnAfter(1500, () => f.read()); rest.push(dec(x)); if (x === null || x === undefined) break; }
  yield* f.close();
  return { ra, rb, rest };
});
console.log("RESULT " + JSON.stringify(out));
`,
    'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; sleep 0.1; printf one >&3; sleep 0.5; printf two >&3; sleep 0.2; printf three >&3; exec 3>&-; } & } && "$BUN" "$CHILD"; wait',
    8000,
  );
  // A gets "one", B is cut short, then "two", "three", end (two and three may come together).
  const got = JSON.parse(r.out.replace(/^RESULT /, "") || "null");
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  expect(got.ra).toBe("one");
  expect(got.rb).toBe("cut");
  expect(got.rest.filter((x: unknown) => typeof x === "string").join("")).toBe("twothree");
}, 12_000);

// Three readers at once on a FIFO that gets "1", "2", "3" 150 ms apart: in the order they were made.
test("three readers at once get the bytes in the order their reads were made", async () => {
  const r = await sh(
    (src, dir) => `
import { run, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  const ts = [];
  for (let i = 0; i < 3; i++) { ts.push(yield* spawn(function* () { const b = yield* f.read(); return b && new TextDecoder().decode(b); })); yield* sleep(100); }
  const res = []; for (const t of ts) res.push(yield* join(t));
  yield* f.close();
  return res;
});
console.log("RESULT " + JSON.stringify(out));
`,
    // the first reader starts at 0, the third at 200 ms; writes come at 400/550/700 ms
    'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; sleep 0.4; printf 1 >&3; sleep 0.15; printf 2 >&3; sleep 0.15; printf 3 >&3; exec 3>&-; } & } && "$BUN" "$CHILD"; wait',
    8000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT ["1","2","3"]', err: "" });
}, 12_000);

// The same, but the FIRST reader is the one cut short while the second still waits.
test("two readers at once, the first cut short: the second gets every later byte, nothing lost", async () => {
  const r = await sh(
    (src, dir) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : b === undefined ? "cut" : new TextDecoder().decode(b));
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  const a = yield* spawn(function* () { return dec(yield* moveOnAfter(300, () => f.read())); });
  yield* sleep(10);
  const b = yield* spawn(function* () { return dec(yield* moveOnAfter(3000, () => f.read())); });
  const ra = yield* join(a), rb = yield* join(b);
  const rest = [];
  for (let i = 0; i < 4; i++) { const x = yield* moveOnAfter(1500, () => f.read()); rest.push(dec(x)); if (x === null || x === undefined) break; }
  yield* f.close();
  return { ra, rb, rest };
});
console.log("RESULT " + JSON.stringify(out));
`,
    'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; sleep 0.6; printf two >&3; sleep 0.3; printf three >&3; exec 3>&-; } & } && "$BUN" "$CHILD"; wait',
    10000,
  );
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  // A is cut short having read nothing; B gets "two"; then "three", then the end.
  expect(r.out).toBe('RESULT {"ra":"cut","rb":"two","rest":["three",null]}');
}, 15_000);

// Reader A waits long (its retry wait has grown to 20 ms); reader B starts; bytes come 3 ms
// later. A's read was made first, so A should get them: B's fresh retry (1, 2 ms) takes them.
test("order: the read made first gets the first bytes, not the one whose retry comes sooner", async () => {
  const r = await sh(
    (src, dir) => `
import { run, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, writeSync, closeSync, constants } from "node:fs";
const path = ${JSON.stringify(dir + "/fifo")};
const dec = (b) => (b === null ? null : new TextDecoder().decode(b));
const out = await run(function* () {
  const f = yield* open(path, "r");
  const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK); // a reader is there
  const a = yield* spawn(function* () { return dec(yield* f.read()); });
  yield* sleep(300);
  const b = yield* spawn(function* () { return dec(yield* f.read()); });
  yield* sleep(3);
  writeSync(w, "first");
  yield* sleep(100);
  writeSync(w, "second");
  closeSync(w);
  const res = { a: yield* join(a), b: yield* join(b) };
  yield* f.close();
  return res;
});
console.log("RESULT " + JSON.stringify(out));
`,
    'mkfifo "$D/fifo" && "$BUN" "$CHILD"',
    8000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT {"a":"first","b":"second"}', err: "" });
}, 12_000);
