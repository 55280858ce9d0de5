/**
 * A FIFO's writers: one that writes nothing and closes, one that writes and closes at once,
 * one reached through a symlink, a child process's stdout; and an empty anonymous pipe on
 * /dev/stdin ends at once.
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const READER = (src: string, path: string) => `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const t0 = performance.now();
const out = await run(function* () {
  const f = yield* open(${path}, "r");
  const b = yield* moveOnAfter(2000, () => f.readAll());
  yield* f.close();
  return b === undefined ? "waited 2 s" : JSON.stringify(new TextDecoder().decode(b));
});
console.log("RESULT " + out + (performance.now() - t0 < 1000 ? " fast" : " slow"));
`;

test("/dev/stdin on an empty anonymous pipe ends at once", async () => {
  const r = await sh((src) => READER(src, '"/dev/stdin"'), 'printf "" | "$BUN" "$CHILD"', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT "" fast', err: "" });
}, 10_000);

test("a FIFO through a symlink: read, then the end", async () => {
  const r = await sh((src, dir) => READER(src, JSON.stringify(dir + "/link")), 'mkfifo "$D/fifo" && ln -s "$D/fifo" "$D/link" && { { sleep 0.2; printf abc > "$D/fifo"; } & } && "$BUN" "$CHILD"; wait', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT "abc" fast', err: "" });
}, 10_000);

test("a FIFO whose writer writes and closes between two retries: bytes, then the end", async () => {
  const r = await sh((src, dir) => READER(src, JSON.stringify(dir + "/fifo")), 'mkfifo "$D/fifo" && { { sleep 0.3; printf abc > "$D/fifo"; } & } && "$BUN" "$CHILD"; wait', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT "abc" fast', err: "" });
}, 10_000);

// `: > fifo` is the shell's way to send a FIFO's reader an empty stream (cat fifo ends).
test("a FIFO whose only writer opens it, writes nothing and closes: the end (as cat sees it)", async () => {
  const r = await sh((src, dir) => READER(src, JSON.stringify(dir + "/fifo")), 'mkfifo "$D/fifo" && { { sleep 0.3; : > "$D/fifo"; } & } && "$BUN" "$CHILD"; wait', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT "" fast', err: "" });
}, 10_000);

// stdin redirected from a named FIFO whose writer sends nothing: the shell's open of "<fifo"
// already met the writer, so the empty read is the end; /dev/stdin resolves to the FIFO's path.
test("a Bun.spawn child's stdout piped into a FIFO: its bytes, then the end", async () => {
  const r = await sh(
    (src, dir) => `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, constants } from "node:fs";
const path = ${JSON.stringify(dir + "/fifo")};
const out = await run(function* () {
  const f = yield* open(path, "r");
  const w = openSync(path, constants.O_WRONLY);
  const p = Bun.spawn(["sh", "-c", "sleep 0.1; printf spawned"], { stdout: w });
  require("node:fs").closeSync(w);
  const b = yield* f.readAll();
  yield* f.close();
  return new TextDecoder().decode(b);
});
console.log("RESULT " + out);
`,
    'mkfifo "$D/fifo" && "$BUN" "$CHILD"',
    6000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: "RESULT spawned", err: "" });
}, 10_000);
