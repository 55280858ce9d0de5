/**
 * A character device that is no terminal and has nothing yet (/dev/kmsg past its last record)
 * is waited on, not failed with EAGAIN; a terminal waiting for input does not stall the event loop.
 */
import { test, expect } from "bun:test";
import { accessSync, constants } from "node:fs";
import { sh, errLine, hasPython, ptyDriver } from "./helpers.ts";

const canReadKmsg = (() => { try { accessSync("/dev/kmsg", constants.R_OK); return true; } catch { return false; } })();

test.skipIf(!canReadKmsg)("/dev/kmsg read past its last record waits (moveOnAfter cuts it), it does not fail with EAGAIN", async () => {
  const r = await sh(
    (src) => `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const out = await run(function* () {
  const f = yield* open("/dev/kmsg", "r");
  try {
    for (let i = 0; i < 100000; i++) { const b = yield* moveOnAfter(500, () => f.read(8192)); if (b === undefined) return "waited"; if (b === null) return "end"; }
    return "too many";
  } catch (e) { return "error " + e.code; } finally { yield* f.close(); }
});
console.log("RESULT " + out);
`,
    '"$BUN" "$CHILD"',
    6000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: "RESULT waited", err: "" });
}, 10_000);

const PTY = ptyDriver(String.raw`time.sleep(1.2); os.write(fd, b"abc\n")`);

test.skipIf(!hasPython)("a terminal with no input: the event loop is not stalled while its read waits", async () => {
  const r = await sh(
    (src, dir) => {
      require("node:fs").writeFileSync(dir + "/ptyrun.py", PTY);
      return `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
let maxGap = 0, last = performance.now();
const probe = setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - last); last = t; }, 1);
const line = await run(function* () { const f = yield* open("/dev/tty", "r"); const b = yield* f.read(); yield* f.close(); return new TextDecoder().decode(b).trim(); });
clearInterval(probe);
console.log("RESULT " + JSON.stringify({ line, stalled: maxGap > 50 }));
`;
    },
    'python3 "$D/ptyrun.py" "$BUN" "$CHILD"',
    8000,
  );
  if (r.out === "") console.log(r.err);
  expect(r.out).toBe('RESULT {"line":"abc","stalled":false}');
}, 12_000);
