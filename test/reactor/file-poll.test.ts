/**
 * PolledRead on a fake descriptor: tried at once, again after a wait that grows while nothing
 * comes (EAGAIN), done once with exactly the bytes it asked for at most, null at the end; a
 * named FIFO's first empty reads are no end; stop() ends the trying.
 */
import { expect, test } from "bun:test";
import { PolledRead, tight, type ReadSyncFn } from "../../src/reactor/file-poll.ts";

/** A descriptor whose reads return, in turn, what `script` says: bytes, "again" (EAGAIN), "end" (0) or an error code. */
function fakeFd(script: (string | Buffer)[]): { read: ReadSyncFn; calls: () => number } {
  let calls = 0;
  const read: ReadSyncFn = (_fd, buf, off, len) => {
    const step = script[Math.min(calls++, script.length - 1)]!;
    if (step === "again") throw Object.assign(new Error("EAGAIN"), { code: "EAGAIN" });
    if (step === "end") return 0;
    if (typeof step === "string") throw Object.assign(new Error(step), { code: step });
    return step.copy(buf, off, 0, Math.min(len, step.length));
  };
  return { read, calls: () => calls };
}

function polled(script: (string | Buffer)[], n: number, awaitingWriter = false) {
  const fd = fakeFd(script);
  const watch = { awaitingWriter };
  const results: string[] = [];
  const r = new PolledRead(0, n, watch, (error, bytes) => void results.push(error ? `error ${error.code}` : bytes === null ? "end" : bytes.toString()), fd.read);
  return { r, results, watch, calls: fd.calls };
}

test("bytes there at once are taken at once, at most the bytes asked for", () => {
  const p = polled([Buffer.from("hello world")], 5);
  p.r.start();
  expect(p.results).toEqual(["hello"]);
  expect(p.calls()).toBe(1);
});

test("nothing there (EAGAIN): tried again later until bytes come, then done once", async () => {
  const p = polled(["again", "again", "again", Buffer.from("late")], 64);
  p.r.start();
  expect(p.results).toEqual([]);
  for (let i = 0; i < 100 && p.results.length === 0; i++) await Bun.sleep(5);
  expect(p.results).toEqual(["late"]);
  expect(p.calls()).toBe(4);
});

test("the end is null; an error is passed on with its code", () => {
  const end = polled(["end"], 8);
  end.r.start();
  expect(end.results).toEqual(["end"]);
  const failed = polled(["EIO"], 8);
  failed.r.start();
  expect(failed.results).toEqual(["error EIO"]);
});

test("a named FIFO with no writer yet: an empty read is no end; once a writer has been seen, it is", async () => {
  const p = polled(["end", "end", "again", "end"], 8, true);
  p.r.start();
  for (let i = 0; i < 100 && p.results.length === 0; i++) await Bun.sleep(5);
  expect(p.results).toEqual(["end"]);
  expect(p.calls()).toBe(4);
  expect(p.watch.awaitingWriter).toBe(false);
});

test("stop() ends the trying: done is never called", async () => {
  const p = polled(["again", Buffer.from("x")], 8);
  p.r.start();
  p.r.stop();
  await Bun.sleep(30);
  expect(p.results).toEqual([]);
  expect(p.calls()).toBe(1);
});

test("tight() copies a short read out of a large buffer, and keeps a full one as a view", () => {
  const big = Buffer.alloc(1 << 20);
  expect(tight(big, 10).buffer.byteLength).toBe(10);
  expect(tight(big, 1 << 20).buffer).toBe(big.buffer);
});
