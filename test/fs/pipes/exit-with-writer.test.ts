/** Process exit with a FIFO writer that stays: kept bytes, an orphan read, a live read, at close() or run end. */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, dir: string, how: string) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const path = ${JSON.stringify(dir + "/fifo")};
const res = {}; let ended = 0;
process.on("exit", () => console.log("RESULT " + JSON.stringify({ ...res, exitMs: Math.round(performance.now() - ended) })));
await run(function* () {
  const f = yield* open(path, "r");
  res.first = new TextDecoder().decode(yield* f.read(2)); // "he", the rest kept
  const c = yield* spawn(function* () { return yield* moveOnAfter(100, () => f.readAll()); }); // takes the rest, then is cut: gives back
  ${how.includes("live") ? "yield* sleep(10); yield* spawn(function* () { try { res.live = new TextDecoder().decode(yield* f.read(3)); } catch (e) { res.live = e.code; } });" : ""}
  res.c = (yield* join(c)) === undefined ? "cut" : "done";
  ${how.includes("orphan") ? "res.o = (yield* moveOnAfter(50, () => f.read())) === undefined ? 'cut' : 'got';" : ""}
  ${how.includes("close") ? "yield* f.close(); res.closed = true;" : ""}
});
ended = performance.now();
`;

for (const how of ["live-orphan-runEnd"]) {
  test(`FIFO writer stays 1.5 s, ${how}: the process exits at once`, async () => {
    const r = await sh((src, dir) => SCRIPT(src, dir, how), 'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; printf "hello" >&3; sleep 1.5; } & } && "$BUN" "$CHILD"', 6000);
    expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
    const got = JSON.parse(r.out.replace(/^RESULT /, ""));
    expect(got.exitMs).toBeLessThan(500);
  }, 10_000);
}
