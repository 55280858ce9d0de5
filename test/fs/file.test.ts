import { test, expect } from "bun:test";
import { mkdtempSync, rmSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, spawn, join, cancel, sleep, type Task } from "../../src/index.ts";
import { open, type File } from "../../src/fs/file.ts";
import { NetError } from "../../src/net/errors.ts";
import { inTempDir } from "./helpers.ts";


test("100 tasks each write 100 × 32 KiB to their own file: right sizes and contents, writes coalesced", async () => {
  await inTempDir(async (dir) => {
    const CHUNK = 32 * 1024;
    const stats = await run(function* () {
      const tasks: Task<ReturnType<File["stats"]>>[] = [];
      for (let i = 0; i < 100; i++) {
        tasks.push(yield* spawn(function* () {
          const f = yield* open(joinPath(dir, `f${i}.bin`), "w");
          const block = new Uint8Array(CHUNK);
          for (let j = 0; j < 100; j++) {
            block.fill((i * 7 + j) & 0xff);
            yield* f.write(block.slice());
          }
          yield* f.close();
          return f.stats();
        }));
      }
      const all = [];
      for (const t of tasks) all.push(yield* join(t));
      return all;
    });
    for (let i = 0; i < 100; i++) {
      const path = joinPath(dir, `f${i}.bin`);
      expect(statSync(path).size).toBe(100 * CHUNK);
      const data = readFileSync(path);
      for (let j = 0; j < 100; j++) {
        const want = (i * 7 + j) & 0xff;
        expect(data[j * CHUNK]).toBe(want);
        expect(data[j * CHUNK + CHUNK - 1]).toBe(want);
      }
    }
    expect(stats[0]!.writeOps).toBe(100);
    expect(stats[0]!.bytesWritten).toBe(100 * CHUNK);
    expect(stats[0]!.hostWrites).toBeLessThanOrEqual(100); // buffered writes queued behind one in flight share the next
  });
}, 30_000);

test("writes from many tasks to one file in one tick become one host write, in order", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "shared.txt");
    const s = await run(function* () {
      const f = yield* open(path, "w");
      const ws = [];
      for (let i = 0; i < 500; i++) ws.push(yield* spawn(function* () { yield* f.write(`${i}\n`); }));
      for (const w of ws) yield* join(w);
      yield* f.close();
      return f.stats();
    });
    expect(s.writeOps).toBe(500);
    expect(s.hostWrites).toBe(1);
    expect(readFileSync(path, "utf8")).toBe(Array.from({ length: 500 }, (_, i) => `${i}\n`).join(""));
  });
});

test("append mode, read mode, and errors", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "a.txt");
    writeFileSync(path, "one\n");
    const r = await run(function* () {
      const a = yield* open(path, "a");
      yield* a.write("two\n");
      yield* a.close();
      const f = yield* open(path, "r");
      const small = yield* f.read(3);
      const rest = yield* f.readAll();
      const eof = yield* f.read();
      let err: NetError | undefined;
      try { yield* f.write("x"); } catch (e) { err = e as NetError; }
      const refusedOps = f.stats().writeOps; // a refused write is no write op
      yield* f.close();
      let closedErr: NetError | undefined;
      try { yield* f.read(); } catch (e) { closedErr = e as NetError; }
      let missing: NetError | undefined;
      try { yield* open(joinPath(dir, "nope", "x.txt"), "r"); } catch (e) { missing = e as NetError; }
      return { small: new TextDecoder().decode(small!), rest: new TextDecoder().decode(rest), eof, err: err?.code, closed: closedErr?.code, missing: missing?.code, refusedOps };
    });
    expect(r).toEqual({ small: "one", rest: "\ntwo\n", eof: null, err: "EBADF", closed: "ERR_SOCKET_CLOSED", missing: "ENOENT", refusedOps: 0 });
    expect(() => open(path, "x" as never)).toThrow(/mode must be/);
  });
});

test("a file left open is closed when run() ends, with every write in it", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "left-open.txt");
    await run(function* () {
      const f = yield* open(path, "w");
      yield* f.write("kept\n");
      yield* f.write("and this\n");
    });
    expect(readFileSync(path, "utf8")).toBe("kept\nand this\n");
  });
});

test("a write cancelled after it was handed to the driver still lands whole; close() waits for it", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "cancelled.bin");
    const big = new Uint8Array(4 << 20).fill(9);
    const outcome = await run(function* () {
      const f = yield* open(path, "w");
      yield* f.write("head");
      const w = yield* spawn(function* () {
        yield* f.write(big);
        return "finished";
      });
      yield* sleep(0); // w yields its write in the next tick; it is submitted at that tick's end
      yield* sleep(0);
      yield* cancel(w);
      yield* f.close();
      return w.state;
    });
    expect(["cancelled", "done"]).toContain(outcome);
    const data = readFileSync(path);
    expect(data.length).toBe(4 + big.length);
    expect(data[4 + big.length - 1]).toBe(9);
  });
});

test("a failed host write (ENOSPC on /dev/full) fails every writer waiting on it; the next write and close() report it", async () => {
  const r = await run(function* () {
    const f = yield* open("/dev/full", "w", { highWaterMark: 0 }); // every write waits for its bytes
    const codes: string[] = [];
    const ws = [];
    for (let i = 0; i < 3; i++) {
      ws.push(yield* spawn(function* () {
        try { yield* f.write("x"); } catch (e) { codes.push((e as NetError).code); }
      }));
    }
    for (const w of ws) yield* join(w);
    let later: NetError | undefined;
    try { yield* f.write("y"); } catch (e) { later = e as NetError; }
    yield* f.close(); // the error was reported already: close succeeds
    return { codes, later: later?.code, message: later?.message, task: later?.taskName, stats: f.stats() };
  });
  expect(r.codes).toEqual(["ENOSPC", "ENOSPC", "ENOSPC"]);
  expect(r.later).toBe("ENOSPC");
  // With the system's words, as every other file error (found by review: it said only "failed: ENOSPC").
  expect(r.message).toContain("no space left on device");
  expect(r.task).toBe("main");
  expect(r.stats.hostWrites).toBe(1);
});

test("a buffered write returns at once; its failure is thrown by close(), or by run() if the file is never closed", async () => {
  const closed = await run(function* () {
    const f = yield* open("/dev/full", "w");
    yield* f.write("x"); // under the high-water mark: returns before the OS has it
    try { yield* f.close(); } catch (e) { return `${(e as NetError).code} ${(e as NetError).message.includes("no space left on device")}`; }
    return "no error";
  });
  expect(closed).toBe("ENOSPC true");
  let runError: unknown;
  try {
    await run(function* () {
      const f = yield* open("/dev/full", "w");
      yield* f.write("x");
    });
  } catch (e) {
    runError = e;
  }
  expect((runError as NetError).code).toBe("ENOSPC");
});

test("with highWaterMark 0, each write returns once the OS has its bytes", async () => {
  await inTempDir(async (dir) => {
    const seen = await run(function* () {
      const f = yield* open(joinPath(dir, "sync.bin"), "w", { highWaterMark: 0 });
      const after: number[] = [];
      for (let i = 0; i < 5; i++) {
        yield* f.write(new Uint8Array(1000));
        after.push(f.stats().bytesWritten);
      }
      yield* f.close();
      return after;
    });
    expect(seen).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(() => open("x", "w", { highWaterMark: -1 })).toThrow(/highWaterMark/);
  });
});

test("a close() cancelled while its bytes are in flight: run() still waits for them, and reports a failure nobody saw", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "cancelled-close.bin");
    const N = 32 << 20;
    // The cancel must land while the close is in flight; if the close finished first (a fast
    // disk, /dev/full failing at once), that run did not test this: try again.
    const attempt = async (target: string): Promise<{ hit: boolean; error: unknown }> => {
      let hit = false;
      try {
        await run(function* () {
          const c = yield* spawn(function* () {
            const f = yield* open(target, "w", { highWaterMark: 1 << 30 }); // the write returns at once
            yield* f.write(new Uint8Array(N).fill(7));
            yield* f.close();
          });
          while (!c.ended && !String(c.waitingOn).startsWith("file.close")) yield* sleep(0);
          if (c.ended) return;
          hit = true;
          yield* cancel(c);
        });
      } catch (error) {
        return { hit, error };
      }
      return { hit, error: undefined };
    };
    // /dev/full fails at once, so its close is in flight only briefly: on a loaded machine (the
    // suite beside other work) 50 tries once all missed it. More tries cost only when they miss.
    const until = async (target: string) => {
      for (let i = 0; i < 300; i++) {
        const r = await attempt(target);
        if (r.hit) return r;
      }
      throw new Error(`the cancel never met the close of ${target} in flight in 300 tries`);
    };
    await until(path);
    expect(statSync(path).size).toBe(N);
    const { error } = await until("/dev/full");
    expect((error as NetError).code).toBe("ENOSPC");
  });
});

test("one file's failure does not let run() settle before another file's bytes have landed", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "big.bin");
    const N = 32 << 20;
    let error: unknown;
    try {
      await run(function* () {
        const big = yield* open(path, "w", { highWaterMark: 1 << 30 });
        const full = yield* open("/dev/full", "w");
        yield* big.write(new Uint8Array(N).fill(1));
        yield* full.write("x");
        yield* sleep(0); // both are handed to the OS; neither file is closed by a task
      });
    } catch (e) {
      error = e;
    }
    expect((error as NetError).code).toBe("ENOSPC");
    expect(statSync(path).size).toBe(N);
  });
});

test("a read in flight when its file is closed still completes; the descriptor is closed after it", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "read.bin");
    writeFileSync(path, new Uint8Array(4 << 20).fill(3));
    const got = await run(function* () {
      const f = yield* open(path, "r");
      const reader = yield* spawn(function* () { return yield* f.read(4 << 20); });
      const closer = yield* spawn(function* () { yield* f.close(); }); // same tick as the read
      yield* join(closer);
      const b = yield* join(reader);
      return b === null ? -1 : b.length;
    });
    expect(got).toBe(4 << 20);
  });
});

test("two files that lost buffered bytes, neither closed: run() reports both", async () => {
  let error: unknown;
  try {
    await run(function* () {
      const a = yield* open("/dev/full", "w");
      const b = yield* open("/dev/full", "a");
      yield* a.write("x");
      yield* b.write("y");
    });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AggregateError);
  expect((error as AggregateError).errors.map((e: NetError) => e.code)).toEqual(["ENOSPC", "ENOSPC"]);
});
