/**
 * A FIFO read after an end, with a second and a third writer coming later: while no writer has
 * it open a read returns null at once (as a read of it does), and a later writer's bytes are read.
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

test("after the first writer's end, reads return null until the next writer, whose bytes are read", async () => {
  const r = await sh(
    (src, dir) => `
import { run, moveOnAfter, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : b === undefined ? "cut" : new TextDecoder().decode(b));
const t0 = performance.now();
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  const seen = [];
  let nulls = 0;
  for (let i = 0; i < 1e7 && performance.now() - t0 < 1000; i++) {
    const b = yield* moveOnAfter(1000, () => f.read());
    if (b === null) { nulls++; if (seen.at(-1) !== null) seen.push(null); yield* sleep(10); continue; }
    seen.push(dec(b));
    if (b === undefined) break;
  }
  yield* f.close();
  return { seen, nulls };
});
console.log("RESULT " + JSON.stringify(out));
`,
    'mkfifo "$D/fifo" && { { sleep 0.1; printf a > "$D/fifo"; sleep 0.3; printf b > "$D/fifo"; sleep 0.3; printf c > "$D/fifo"; } & } && "$BUN" "$CHILD"; wait',
    8000,
  );
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  const got = JSON.parse(r.out.replace(/^RESULT /, ""));
  expect(got.seen.filter((x: unknown) => typeof x === "string" && x !== "cut").join("")).toBe("abc");
  expect(got.seen).toContain(null);
}, 12_000);
