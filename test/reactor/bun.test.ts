/**
 * BunReactor's host timer: a deadline beyond what setTimeout takes (2^31 - 1 ms) is waited for
 * in steps, not fired at once.
 */
import { describe, expect, test } from "bun:test";
import { BunReactor, Scheduler } from "../../src/index.ts";
import { collectGarbage, leastKept } from "../helpers.ts";
import { join } from "node:path";

const src = JSON.stringify(join(import.meta.dir, "../../src/index.ts"));

describe("BunReactor timer", () => {
  test("a deadline 50 days away does not fire within 50 ms (setTimeout would overflow to 1 ms)", async () => {
    const r = new BunReactor();
    let fired = 0;
    r.setTimer(r.now() + 50 * 24 * 3600 * 1000, () => fired++);
    await Bun.sleep(50);
    r.clearTimer();
    await r.close();
    expect(fired).toBe(0);
  });
});

test("a deadlock on the real reactor is reported when Bun's event loop empties: run() rejects with DeadlockError, the lost failure with it (found by review: the process exited 0 saying nothing)", () => {
  const script = `
import { run, spawn, join, group, channel } from ${src};
run(function* () {
  const lines = channel(8, "lines");
  const producer = yield* spawn(function* () {
    try { for (let i = 0; i < 100; i++) yield* lines.send(i === 20 ? "garbage" : "n=" + i); } finally { lines.close(); }
  }, { name: "producer" });
  const parsers = yield* spawn(() => group(function* (g) {
    for (let p = 0; p < 2; p++) yield* g.spawn(function* () {
      for (let r = yield* lines.recv(); !r.done; r = yield* lines.recv()) if (!/^n=\\d+$/.test(r.value)) throw new Error("malformed line " + r.value);
    });
  }), { name: "parsers" });
  yield* join(producer); // for ever: nobody receives from lines any more
}).then(() => console.log("resolved"), (e) => console.log("rejected: " + e.message + " | " + (e.errors ?? []).map((x) => x.message).join(" | ")));
`;
  const p = Bun.spawnSync([process.execPath, "-e", script], { timeout: 8000, stdout: "pipe", stderr: "pipe" });
  const out = p.stdout.toString();
  expect(out).toStartWith("rejected: ");
  expect(out).toContain('(a deadlock): task "main" (#1) waits on join(Task "producer"); task "producer" (#2) waits on send(channel "lines")');
  expect(out).toContain("malformed line garbage"); // the parser's failure, which nobody saw
  expect(p.exitCode).toBe(0);
});

function runScript(script: string, timeout = 4000) {
  const p = Bun.spawnSync([process.execPath, "-e", script], { timeout, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  return { out: p.stdout.toString(), err: p.stderr.toString(), exitCode: p.exitCode, signal: p.signalCode };
}

test("a task that catches the DeadlockError and waits again does not make the process spin for ever (found by review: it caught the error about 1.5 million times, at 100 % CPU)", () => {
  // A message loop that logs a failed message and goes on: common server code. Nothing will
  // ever send again, so the loop empties; the DeadlockError it catches is followed by the same
  // wait, the loop empties again, beforeExit fires again... for ever, at 100% CPU.
  const r = runScript(`
import { run, channel, Cancelled } from ${src};
let caught = 0;
const inbox = channel(16, "inbox");
inbox.trySend("a"); inbox.trySend("b");
run(function* () {
  for (;;) {
    try {
      const m = yield* inbox.recv();
      if (m.done) return;
    } catch (e) {
      if (e instanceof Cancelled) throw e;
      caught++; // log it and go on
    }
  }
}).then(() => console.log("resolved"), (e) => console.log("rejected", e.name));
process.on("exit", () => console.log("caught " + caught));
`);
  expect(r.signal).toBeUndefined(); // it was killed by the 4 s timeout, still spinning
  expect(r.exitCode).toBe(0);
  const caught = Number(/caught (\d+)/.exec(r.out)?.[1]);
  expect(caught).toBe(1); // reported once; then the process exits, as it did before the check
});

test("a user's own beforeExit listener that wakes the task (added after run() began) still wakes it: no DeadlockError first (found by review)", () => {
  const r = runScript(`
import { run, suspend } from ${src};
run(function* () {
  // e.g. "flush and finish when the program has nothing else to do"
  return yield* suspend((w) => { process.once("beforeExit", () => w.resume("woken by my beforeExit")); return () => {}; }, "idle");
}).then((v) => console.log("resolved " + v), (e) => console.log("rejected " + e.name));
`);
  expect(r.out.trim()).toBe("resolved woken by my beforeExit");
});

test("a Scheduler that is never run does not stay reachable for ever through a process 'beforeExit' listener (found by review)", async () => {
  const least = await leastKept(async () => {
    const before = process.listenerCount("beforeExit");
    let ref: WeakRef<Scheduler> | undefined;
    (() => {
      ref = new WeakRef(new Scheduler());
    })();
    const during = process.listenerCount("beforeExit");
    await collectGarbage(() => ref!.deref() !== undefined);
    expect(during - before).toBe(0); // it was attached in the constructor, removed only by run()'s close
    return ref!.deref() === undefined ? 0 : 1;
  });
  expect(least).toBe(0);
});
