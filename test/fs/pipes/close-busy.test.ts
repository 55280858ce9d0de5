/**
 * close() (or the run's end) while a pipe read is under way and bytes keep coming (a busy
 * writer), then a new FIFO that reuses the descriptor number: no error, nothing of the new
 * FIFO taken, and the process exits by itself.
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

for (const how of ["close", "runEnd", "closeIdle"] as const) {
  test(`busy writer, ${how}: no EBADF, the reused fd's bytes intact, the process exits`, async () => {
    const r = await sh((src, dir) => `
import { run, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, writeSync, readSync, closeSync, constants, fstatSync } from "node:fs";
const dir = ${JSON.stringify(dir)};
let ended = 0, fdA = -1;
const res = { errs: [] };
process.on("exit", () => console.log("RESULT " + JSON.stringify({ ...res, exitMs: Math.round(performance.now() - ended) })));
await run(function* () {
  const f = yield* open(dir + "/fifo1", "r");
  let n = 0;
  for (let i = 0; i < 20; i++) n += (yield* f.read(1000)).length;
  res.n = n;
  ${how === "close" ? "const t = yield* spawn(function* () { try { return yield* f.read(); } catch (e) { res.errs.push(e.code); } }); yield* sleep(0); yield* f.close(); yield* join(t);" : how === "closeIdle" ? "yield* f.close();" : ""}
});
ended = performance.now();
const fd = openSync(dir + "/fifo2", constants.O_RDONLY | constants.O_NONBLOCK);
const w = openSync(dir + "/fifo2", constants.O_WRONLY | constants.O_NONBLOCK);
res.fd = fd;
for (let i = 0; i < 5; i++) { writeSync(w, "hello" + i); await new Promise((r) => setTimeout(r, 40)); }
const buf = Buffer.alloc(1000);
try { res.got = buf.toString("utf8", 0, readSync(fd, buf, 0, 1000, null)); } catch (e) { res.got = "error " + e.code; }
closeSync(w); closeSync(fd);
`, 'mkfifo "$D/fifo1" "$D/fifo2" && { yes 0123456789 > "$D/fifo1" 2>/dev/null & } && "$BUN" "$CHILD"', 6000);
    expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
    const got = JSON.parse(r.out.replace(/^RESULT /, ""));
    expect(got.got).toBe("hello0hello1hello2hello3hello4");
    expect(got.exitMs).toBeLessThan(1500);
  }, 10_000);
}
