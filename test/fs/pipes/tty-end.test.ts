/**
 * A terminal (a pty from script(1)): an end (^D) met by the read of a task that was cut short
 * is the next read's, after the bytes given back: it is not lost (found by review).
 */
import { test, expect } from "bun:test";
import { sh } from "./helpers.ts";

const hasScript = Bun.spawnSync(["sh", "-c", "command -v script"]).exitCode === 0;

test.skipIf(!hasScript)("tty: readAll cut while A's read is under way, then ^D: A gets the bytes, then the end", async () => {
  const r = await sh((src) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { isatty } from "node:tty";
const dec = (b) => (b === null ? null : b === undefined ? "cut" : JSON.stringify(new TextDecoder().decode(b)));
const t0 = performance.now(); const ms = () => Math.round(performance.now() - t0);
const out = await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  const c = yield* spawn(function* () { return dec(yield* moveOnAfter(400, () => f.readAll())); });
  yield* sleep(10);
  const a = yield* spawn(function* () {
    const seen = [];
    for (let i = 0; i < 3; i++) { const b = yield* moveOnAfter(1200, () => f.read()); seen.push([dec(b), ms()]); if (b === null || b === undefined) break; }
    return seen;
  });
  const rc = yield* join(c), ra = yield* join(a);
  yield* f.close();
  return { tty: isatty(0), rc, ra };
});
console.log("RESULT " + JSON.stringify(out));
process.exit(0);
`, `{ sleep 0.3; printf 'a\\n'; sleep 0.7; printf '\\004'; sleep 2.5; } | script -qfec '"$BUN" "$CHILD"' /dev/null`, 8000);
  const line = r.out.split(/\r?\n/).find((l) => l.startsWith("RESULT ")) ?? "";
  const got = JSON.parse(line.replace(/^RESULT /, ""));
  expect(got.tty).toBe(true);
  expect(got.rc).toBe("cut");
  expect(got.ra.map((x: unknown[]) => x[0])).toEqual(['"a\\n"', null]);
}, 12_000);
