/**
 * readAll() cut short by one task while another task's read is under way on the same FIFO:
 * the given-back bytes are earlier in the stream than what that read brings, so it gets them
 * first, and they are not lost behind an end it meets (found by review).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, dir: string) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : b === undefined ? "cut" : new TextDecoder().decode(b));
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  // C: readAll with a 200 ms limit; its first read is made first and gets "1" (at 100 ms).
  const c = yield* spawn(function* () { return dec(yield* moveOnAfter(200, () => f.readAll())); });
  yield* sleep(10);
  // A: a consumer reading to the end, one read after another.
  const a = yield* spawn(function* () {
    const seen = [];
    for (let i = 0; i < 10; i++) { const b = yield* moveOnAfter(2000, () => f.read()); seen.push(dec(b)); if (b === null || b === undefined) break; }
    return seen;
  });
  const rc = yield* join(c), ra = yield* join(a);
  yield* f.close();
  return { rc, ra };
});
console.log("RESULT " + JSON.stringify(out));
`;

test("given-back bytes come before what the read under way brings (order)", async () => {
  const r = await sh(SCRIPT,
    'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; sleep 0.1; printf 1 >&3; sleep 0.4; printf 2 >&3; sleep 0.2; printf 3 >&3; exec 3>&-; } & } && "$BUN" "$CHILD"; wait',
    8000);
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  const got = JSON.parse(r.out.replace(/^RESULT /, ""));
  // C was cut short and gave "1" back; A reads every byte after that, in stream order.
  expect(got.rc).toBe("cut");
  expect(got.ra.filter((x: unknown) => typeof x === "string").join("")).toBe("123");
}, 12_000);

test("given-back bytes are not lost behind an end the read under way meets", async () => {
  const r = await sh(SCRIPT,
    'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; sleep 0.1; printf 1 >&3; sleep 0.4; exec 3>&-; } & } && "$BUN" "$CHILD"; wait',
    8000);
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  const got = JSON.parse(r.out.replace(/^RESULT /, ""));
  expect(got.rc).toBe("cut");
  // A reads "1" (given back), then the end; not the end first.
  expect(got.ra).toEqual(["1", null]);
}, 12_000);
