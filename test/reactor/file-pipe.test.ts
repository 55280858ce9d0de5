/**
 * The sources of a non-positional file's bytes: polledSource on a fake descriptor (tried at
 * once, again after a growing wait while EAGAIN, at most the bytes asked for, null at the end,
 * an error passed on, cancel() ending a read under way with null), and tight().
 */
import { expect, test } from "bun:test";
import { polledSource, tight, type ReadSyncFn } from "../../src/reactor/file-pipe.ts";

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

const text = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString());

test("bytes there at once are taken at once, at most the bytes asked for", async () => {
  const fd = fakeFd([Buffer.from("hello world")]);
  expect(text(await polledSource(0, fd.read).read(5))).toBe("hello");
  expect(fd.calls()).toBe(1);
});

test("nothing there (EAGAIN): tried again after a wait until bytes come", async () => {
  const fd = fakeFd(["again", "again", "again", Buffer.from("late")]);
  const t0 = performance.now();
  expect(text(await polledSource(0, fd.read).read(64))).toBe("late");
  expect(fd.calls()).toBe(4);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(5); // waits of 1, 2 and 4 ms at least
});

test("the end is null; an error rejects with its code", async () => {
  expect(await polledSource(0, fakeFd(["end"]).read).read(8)).toBeNull();
  const error = await polledSource(0, fakeFd(["EIO"]).read).read(8).catch((e: NodeJS.ErrnoException) => e.code);
  expect(error).toBe("EIO");
});

test("cancel() ends a read under way with null, and no more tries are made", async () => {
  const fd = fakeFd(["again", Buffer.from("x")]);
  const src = polledSource(0, fd.read);
  const pending = src.read(8);
  src.cancel();
  expect(await pending).toBeNull();
  await Bun.sleep(20);
  expect(fd.calls()).toBe(1);
});

test("tight() copies a short read out of a large buffer, and keeps a full one as a view", () => {
  const big = Buffer.alloc(1 << 20);
  expect(tight(big, 10).buffer.byteLength).toBe(10);
  expect(tight(big, 1 << 20).buffer).toBe(big.buffer);
});
