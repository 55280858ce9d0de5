/**
 * Closing a FIFO (or the run's end) while two tasks wait on it ends both reads, and nothing
 * reads the descriptor number afterwards, when the next open may have reused it (found by
 * review of a version whose second read went on polling).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, dir: string, how: "close" | "runEnd") => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
import { openSync, writeSync, readSync, closeSync, constants } from "node:fs";
const dir = ${JSON.stringify(dir)};
const errs = [];
await run(function* () {
  const f = yield* open(dir + "/fifo1", "r");
  const reader = function* () { try { return yield* f.read(); } catch (e) { errs.push(String(e.code ?? e.name)); } };
  const a = yield* spawn(reader);
  const b = yield* spawn(reader);
  yield* sleep(100);
  ${how === "close" ? "yield* f.close(); yield* join(a); yield* join(b);" : "/* main returns: a and b are cancelled */"}
});
// The descriptor number is free again: the next FIFO opened gets it.
const fd = openSync(dir + "/fifo2", constants.O_RDONLY | constants.O_NONBLOCK);
const w = openSync(dir + "/fifo2", constants.O_WRONLY | constants.O_NONBLOCK);
writeSync(w, "hello");
await new Promise((r) => setTimeout(r, 200));
let got = "";
try { const buf = Buffer.alloc(64); got = buf.toString("utf8", 0, readSync(fd, buf, 0, 64, null)); } catch (e) { got = "error " + e.code; }
console.log("RESULT " + JSON.stringify({ got, errs }));
`;

test("close() while two reads wait: both fail as closed, and no retry reads the descriptor afterwards", async () => {
  const r = await sh((src, dir) => SCRIPT(src, dir, "close"), 'mkfifo "$D/fifo1" "$D/fifo2" && "$BUN" "$CHILD"', 6000);
  expect({ out: r.out, err: errLine(r.err), killed: r.killed }).toEqual({ out: 'RESULT {"got":"hello","errs":["ERR_SOCKET_CLOSED","ERR_SOCKET_CLOSED"]}', err: "", killed: false });
}, 10_000);

test("run() ends while two reads wait: no retry reads the descriptor afterwards", async () => {
  const r = await sh((src, dir) => SCRIPT(src, dir, "runEnd"), 'mkfifo "$D/fifo1" "$D/fifo2" && "$BUN" "$CHILD"', 6000);
  expect({ out: r.out, err: errLine(r.err), killed: r.killed }).toEqual({ out: 'RESULT {"got":"hello","errs":["Cancelled","Cancelled"]}', err: "", killed: false });
}, 10_000);
