/**
 * The real reactor's deadlock report (when Bun's event loop empties), found by review of its
 * first two versions: a task that catches the error and waits again, whatever it does between
 * (corun I/O included), is not failed again and the process exits; a second, different
 * deadlock is reported; a wake-up a beforeExit listener arms (a timer, an immediate) wins.
 * Each script runs in a child process, bounded by a timeout.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const src = JSON.stringify(join(import.meta.dir, "../../src/index.ts"));

function runScript(script: string, timeout = 4000) {
  const p = Bun.spawnSync([process.execPath, "-e", script], { timeout, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const ru = p.resourceUsage;
  const cpuMs = ru ? (Number(ru.cpuTime.user) + Number(ru.cpuTime.system)) / 1000 : 0;
  return { out: p.stdout.toString(), err: p.stderr.toString(), exitCode: p.exitCode, signal: p.signalCode, cpuMs };
}

test("a message loop that logs the caught DeadlockError to a file (corun I/O) and waits again does not spin the process for ever", () => {
  const dir = mkdtempSync(join(tmpdir(), "corun-deadlock-"));
  try {
    const r = runScript(`
import { run, channel, open, Cancelled } from ${src};
let caught = 0;
const inbox = channel(16, "inbox");
run(function* () {
  const log = yield* open(${JSON.stringify(join(dir, "errors.log"))}, "a");
  for (;;) {
    try {
      const m = yield* inbox.recv();
      if (m.done) return;
    } catch (e) {
      if (e instanceof Cancelled) throw e;
      caught++;
      yield* log.write("failed: " + e.name + "\\n"); // log it and go on
    }
  }
}).then(() => console.log("resolved"), (e) => console.log("rejected", e.name));
process.on("exit", () => console.log("caught " + caught));
`);
    // Observed: killed by the 4 s timeout (SIGTERM), ~3.5 s of CPU, tens of thousands of lines logged.
    expect({ signal: r.signal, busy: r.cpuMs > 2000 }).toEqual({ signal: undefined, busy: false });
    expect(Number(/caught (\d+)/.exec(r.out)?.[1])).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second, different deadlock after one was caught is reported too", () => {
  const r = runScript(`
import { run, channel } from ${src};
run(function* () {
  const config = channel(1, "config"), jobs = channel(1, "jobs");
  try { yield* config.recv(); } catch (e) { console.log("no config, default:", e.name); }
  return yield* jobs.recv(); // an unrelated deadlock: nothing ever sends on "jobs"
}).then((v) => console.log("resolved", v), (e) => console.log("rejected", e.name));
`);
  expect(r.out).toContain("no config, default: DeadlockError");
  expect(r.out).toContain("rejected DeadlockError"); // observed: nothing, exit 0, run() never settled
});

test("a second deadlock in a task spawned by the one that caught the first is reported", () => {
  const r = runScript(`
import { run, channel, spawn, join } from ${src};
run(function* () {
  try { yield* channel(1, "a").recv(); } catch (e) { console.log("first", e.name); }
  const b = channel(1, "b");
  yield* join(yield* spawn(function* () { return yield* b.recv(); }, { name: "worker" }));
}).then(() => console.log("resolved"), (e) => console.log("rejected", e.name));
`);
  expect(r.out).toContain("first DeadlockError");
  expect(r.out).toContain("rejected DeadlockError");
});

for (const [how, arm] of [
  ["a timer", "setTimeout(() => ch.trySend('woken'), 10)"],
  ["an immediate", "setImmediate(() => ch.trySend('woken'))"],
] as const) {
  test(`a beforeExit listener (added before run()) that wakes the task through ${how} wakes it: the loop is not empty, no DeadlockError`, () => {
    const r = runScript(`
import { run, channel } from ${src};
const ch = channel(1, "late");
process.once("beforeExit", () => { ${arm}; });
run(function* () { return (yield* ch.recv()).value; }).then((v) => console.log("resolved " + v), (e) => console.log("rejected " + e.name));
`);
    expect(r.out.trim()).toBe("resolved woken"); // observed: "rejected DeadlockError"
  });
}
