/**
 * read(n) on a pipe takes at most n bytes from the descriptor: after a File on /dev/stdin is
 * closed, whoever reads the pipe next (a later run() reopening /dev/stdin, a child inheriting
 * stdin) gets the rest (found by review: read through a stream, the read-ahead was lost).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

test("/dev/stdin (a pipe): a run reads a 6-byte header and closes; the next run reads the rest", async () => {
  const r = await sh(
    (src) => `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : new TextDecoder().decode(b));
const header = await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  const b = yield* f.read(6);
  yield* f.close();
  return dec(b);
});
const rest = await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  const b = yield* f.readAll();
  yield* f.close();
  return dec(b);
});
console.log(JSON.stringify({ header, rest }));
`,
    'printf "line1\\nline2\\nline3\\n" | "$BUN" "$CHILD"',
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: JSON.stringify({ header: "line1\n", rest: "line2\nline3\n" }), err: "" });
}, 10_000);

test("/dev/stdin (a pipe): after read(6) and close, a child process inheriting stdin gets the rest", async () => {
  const r = await sh(
    (src) => `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const header = await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  const b = yield* f.read(6);
  yield* f.close();
  return new TextDecoder().decode(b);
});
const cat = Bun.spawnSync(["cat"], { stdin: "inherit" });
console.log(JSON.stringify({ header, rest: cat.stdout.toString() }));
`,
    'printf "line1\\nline2\\nline3\\n" | "$BUN" "$CHILD"',
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: JSON.stringify({ header: "line1\n", rest: "line2\nline3\n" }), err: "" });
}, 10_000);
