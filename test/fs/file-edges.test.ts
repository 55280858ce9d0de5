/**
 * The file driver at its edges: a bad argument in a batch, reads cancelled in flight, a close
 * repeated while the first is under way, a File used from another run(), FIFOs (open waits
 * for the other end, reads have no position). Real files in a temporary directory.
 */
import { test, expect } from "bun:test";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { run, spawn, join, cancel, sleep, moveOnAfter, Scheduler, type Co, type Syscall } from "../../src/index.ts";
import { open, type File } from "../../src/fs/file.ts";
import { NetError } from "../../src/net/errors.ts";
import { inTempDir } from "./helpers.ts";

const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

/** Run `op` and say how it went: "ok", or the error's name and code. */
function* outcome(op: () => Co<unknown> | Syscall<unknown>): Co<string> {
  try {
    yield* op();
    return "ok";
  } catch (e) {
    return `${(e as Error).name} ${(e as NetError).code ?? ""}`.trim();
  }
}

test("a read asking for too much is refused at the call; the other ops of its tick go on, and a close still reports ENOSPC", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "w.txt");
    const rpath = joinPath(dir, "r.txt");
    writeFileSync(rpath, "hello");
    const r = await run(function* () {
      const f = yield* open(path, "w");
      const full = yield* open("/dev/full", "w");
      yield* full.write("x"); // buffered: its host write fails with ENOSPC
      const g = yield* open(rpath, "r");
      const w = yield* spawn(() => outcome(() => f.write("data\n")));
      const c = yield* spawn(() => outcome(() => full.close()));
      const rd = yield* spawn(() => outcome(() => g.read(2 ** 40)));
      const out = [yield* join(w), yield* join(c), yield* join(rd)];
      yield* f.close();
      yield* g.close();
      return out;
    });
    expect(r).toEqual(["ok", "NetError ENOSPC", "RangeError"]);
    expect(readFileSync(path, "utf8")).toBe("data\n");
  });
}, 20_000);

/** Spawn a read of `n` bytes from `f` and return it once the read is on the thread pool. */
function* readInFlight(f: File, n: number) {
  const t = yield* spawn(function* () {
    return yield* f.read(n);
  });
  while (!String(t.waitingOn).startsWith("file.read")) yield* sleep(0);
  yield* sleep(0); // submitted at the end of the tick that made it wait
  return t;
}

test("a read cancelled in flight gives its bytes back to the next read", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "r.bin");
    const N = 8 << 20;
    const data = new Uint8Array(N);
    for (let i = 0; i < N; i++) data[i] = i & 0xff;
    writeFileSync(path, data);
    // The cancel must meet the read on the thread pool: on a busy machine the read may finish
    // first (then it is simply done), so try until it does not.
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await run(function* () {
        const f = yield* open(path, "r");
        const first = yield* f.read(10);
        const t = yield* readInFlight(f, N);
        yield* cancel(t);
        const rest = yield* f.readAll();
        yield* f.close();
        return { first: first!.length, state: t.state, rest };
      });
      if (r.state !== "cancelled") continue;
      expect(r.first + r.rest.length).toBe(N);
      expect(r.rest[0]).toBe(10);
      expect(r.rest[N - 11]).toBe((N - 1) & 0xff);
      return;
    }
    throw new Error("the read always finished before the cancel");
  });
}, 30_000);

test("a read at the end cancelled in flight leaves the position at the end: data appended later is read", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "tail.log");
    writeFileSync(path, "abc");
    const more = await run(function* () {
      const f = yield* open(path, "r");
      yield* f.readAll();
      const t = yield* readInFlight(f, 1 << 20);
      yield* cancel(t);
      yield* sleep(5);
      appendFileSync(path, "NEW DATA\n");
      const b = yield* f.readAll();
      yield* f.close();
      return dec(b);
    });
    expect(more).toBe("NEW DATA\n");
  });
}, 20_000);

test("a second close() while the first is under way returns only once the bytes have reached the OS", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "c.bin");
    const N = 32 << 20;
    const size = await run(function* () {
      const f = yield* open(path, "w", { highWaterMark: 1 << 30 });
      yield* f.write(new Uint8Array(N).fill(1)); // returns at once: the write is queued
      const first = yield* spawn(function* () {
        yield* f.close();
      });
      yield* sleep(0);
      yield* sleep(0); // the first close is under way
      yield* f.close();
      const s = statSync(path).size;
      yield* join(first);
      return s;
    });
    expect(size).toBe(N);
  });
}, 20_000);

test("a File used from another run() fails there with a clear error; both runs end", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "shared.bin");
    let shared: File | undefined;
    const a = new Scheduler().run(function* () {
      shared = yield* open(path, "w");
      yield* sleep(30);
      yield* shared.write("from A\n");
      yield* shared.close();
    });
    const b = new Scheduler().run(function* () {
      while (shared === undefined) yield* sleep(1);
      yield* shared.write("from B\n");
    });
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe("fulfilled");
    expect(rb.status).toBe("rejected");
    const e = (rb as PromiseRejectedResult).reason as NetError;
    expect(e).toBeInstanceOf(NetError);
    expect(e.message).toContain("another run()");
    expect(readFileSync(path, "utf8")).toBe("from A\n");
  });
}, 20_000);

/** The FIFO case's script: run in a child process, so a regression that blocks the thread fails the test instead of hanging the suite. */
const FIFO_SCRIPT = (src: string, fifo: string) => `
import { closeSync, openSync, writeSync } from "node:fs";
import { run, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : new TextDecoder().decode(b));
const r = await run(function* () {
  const opener = yield* spawn(function* () {
    return yield* open(${JSON.stringify(fifo)}, "r"); // no writer yet: the open returns, its reads will wait
  });
  let ticks = 0;
  for (let i = 0; i < 3; i++) {
    yield* sleep(5);
    ticks++;
  }
  const w = openSync(${JSON.stringify(fifo)}, "w"); // the reader has it open, so this returns at once
  const f = yield* join(opener);
  writeSync(w, "hi\\n");
  const first = dec(yield* f.read());
  writeSync(w, "there\\n");
  closeSync(w);
  const rest = dec(yield* f.readAll());
  const end = yield* f.read();
  yield* f.close();
  return { ticks, first, rest, end };
});
console.log(JSON.stringify(r));
`;

test("open() of a FIFO for reading (the scheduler keeps running), and its reads take no position", async () => {
  await inTempDir(async (dir) => {
    const fifo = joinPath(dir, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const script = joinPath(dir, "fifo.ts");
    writeFileSync(script, FIFO_SCRIPT(joinPath(import.meta.dir, "../../src"), fifo));
    const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    clearTimeout(killer);
    expect({ out: out.trim(), err: err.trim() }).toEqual({ out: JSON.stringify({ ticks: 3, first: "hi\n", rest: "there\n", end: null }), err: "" });
  });
}, 10_000);

/**
 * Run `script` (given the src directory and the FIFO's path) in a child process while `writer`
 * (a shell command, `$F` is the FIFO) holds the FIFO's other end; resolve with what it printed.
 * A child that blocks is killed after 5 s, so a regression fails here instead of hanging.
 */
async function withFifo(script: (src: string, fifo: string) => string, writer: string): Promise<{ out: string; err: string }> {
  let result = { out: "", err: "" };
  await inTempDir(async (dir) => {
    const fifo = joinPath(dir, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const path = joinPath(dir, "child.ts");
    writeFileSync(path, script(joinPath(import.meta.dir, "../../src"), fifo));
    const sh = Bun.spawn(["sh", "-c", writer], { env: { ...process.env, F: fifo }, stdout: "ignore", stderr: "ignore" });
    const child = Bun.spawn([process.execPath, path], { stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    clearTimeout(killer);
    sh.kill();
    result = { out: out.trim(), err: err.trim() };
  });
  return result;
}

test("a pipe read cancelled in flight (a timeout) keeps its bytes for the next read", async () => {
  const r = await withFifo(
    (src, fifo) => `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const got = await run(function* () {
  const f = yield* open(${JSON.stringify(fifo)}, "r");
  let text = "";
  for (let i = 0; i < 40 && text.length < 2; i++) {
    const b = yield* moveOnAfter(50, function* () { return yield* f.read(); });
    if (b === null) break;
    if (b !== undefined) text += new TextDecoder().decode(b);
  }
  return text;
});
console.log(JSON.stringify(got)); // and the process exits: the read cut short holds nothing
`,
    'exec 3>"$F"; sleep 0.2; printf A >&3; sleep 0.2; printf B >&3; sleep 2',
  );
  expect(r).toEqual({ out: JSON.stringify("AB"), err: "" });
}, 10_000);

test("closing a pipe whose read waits for a writer that never writes: the read fails, close returns, run() ends", async () => {
  const r = await withFifo(
    (src, fifo) => `
import { run, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(fifo)}, "r");
  const reader = yield* spawn(function* () {
    try { return String(yield* f.read()); } catch (e) { return e.code; }
  });
  yield* sleep(50);
  yield* f.close();
  return yield* join(reader);
});
console.log(out); // and the process exits: the read was taken back, its descriptor closed
`,
    'exec 3>"$F"; sleep 3',
  );
  expect(r).toEqual({ out: "ERR_SOCKET_CLOSED", err: "" });
}, 10_000);

test("silent pipe reads hold no thread of the pool: four tasks waiting on silent FIFOs do not stall a regular file's write and read, and run() ends with their reads still waiting (found by review: two stalled every file op in the process)", async () => {
  const r = await withFifo(
    (src, fifo) => `
import { openSync, closeSync, constants, writeFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { run, spawn, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const fifos = [${JSON.stringify(fifo)}, ...[1, 2, 3].map((i) => ${JSON.stringify(fifo)} + i)];
for (const f of fifos.slice(1)) execFileSync("mkfifo", [f]);
const held = [];
const out = await run(function* () {
  for (const f of fifos) {
    const file = yield* open(f, "r");
    held.push(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK)); // a writer that never writes
    yield* spawn(function* () { yield* file.read(); }); // waits for ever: run() cancels it as it ends
  }
  yield* sleep(20);
  return yield* moveOnAfter(2000, function* () {
    const w = yield* open(${JSON.stringify(fifo)} + ".log", "w", { highWaterMark: 0 });
    yield* w.write("record\\n");
    yield* w.close();
    const r = yield* open(${JSON.stringify(fifo)} + ".log", "r");
    const text = new TextDecoder().decode(yield* r.readAll());
    yield* r.close();
    return text;
  }) ?? "the file's I/O stalled";
});
console.log(JSON.stringify(out));
for (const fd of held) closeSync(fd);
`,
    "sleep 3",
  );
  expect(r).toEqual({ out: JSON.stringify("record\n"), err: "" });
}, 10_000);

test("a pipe read asked for fewer bytes than came keeps the rest for the next read", async () => {
  const r = await withFifo(
    (src, fifo) => `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : new TextDecoder().decode(b));
const got = await run(function* () {
  const f = yield* open(${JSON.stringify(fifo)}, "r");
  const parts = [dec(yield* f.read(4))];
  for (let b = yield* f.read(100); b !== null; b = yield* f.read(100)) parts.push(dec(b));
  return parts.join("|");
});
console.log(JSON.stringify(got));
`,
    'printf 0123456789 > "$F"',
  );
  expect(r).toEqual({ out: JSON.stringify("0123|456789"), err: "" });
}, 10_000);

test("a write error no task saw, reported by run(), names the task whose write failed", async () => {
  const e = await run(function* () {
    const logger = yield* spawn(
      function* () {
        const f = yield* open("/dev/full", "w");
        yield* f.write("x"); // buffered: the host write fails after it returned; nobody closes the file
      },
      { name: "logger" },
    );
    yield* join(logger);
  }).then(
    () => undefined,
    (error: unknown) => error as NetError,
  );
  expect(e).toBeInstanceOf(NetError);
  expect(e!.code).toBe("ENOSPC");
  expect(e!.taskName).toBe("logger");
  expect(e!.message).toContain('in task "logger"');
});

test("readAll cut short by a timeout gives back what it had read: the next readAll gets the whole file", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "big.bin");
    const size = 64 << 20;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) data[i] = (i >> 12) & 0xff;
    writeFileSync(path, data);
    const out = await run(function* () {
      const f = yield* open(path, "r");
      const first = yield* moveOnAfter(5, () => f.readAll()); // cut short part way
      const all = yield* f.readAll();
      yield* f.close();
      let same = all.length === size;
      for (let i = 0; same && i < size; i += 4096) same = all[i] === data[i];
      return { cut: first === undefined, length: all.length, same, bytesRead: f.stats().bytesRead };
    });
    expect({ length: out.length, same: out.same }).toEqual({ length: size, same: true });
    // Bytes given back are counted when they are read again, once (they were counted twice; found by review)
    if (out.cut) expect(out.bytesRead).toBe(size);
  });
});

/** A pipe test's child script: `body` runs as main, with `f` the FIFO opened for reading and `dec` to decode. */
const pipeScript = (body: string) => (src: string, fifo: string) => `
import { run, spawn, join, sleep, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b == null ? String(b) : new TextDecoder().decode(b));
const got = await run(function* () {
  const f = yield* open(${JSON.stringify(fifo)}, "r");
  ${body}
});
console.log(JSON.stringify(got));
process.exit(0);
`;

test("a pipe's readAll cut short gives its bytes back: they come first, before those its read in flight took", async () => {
  const r = await withFifo(
    pipeScript(`
  const first = yield* moveOnAfter(150, () => f.readAll());
  return (first === undefined ? "cut " : "whole ") + dec(yield* f.readAll());`),
    'exec 3>"$F"; printf A >&3; sleep 0.3; printf B >&3; sleep 0.3; printf C >&3; exec 3>&-',
  );
  expect(r).toEqual({ out: JSON.stringify("cut ABC"), err: "" });
}, 10_000);

test("a pipe's readAll cut short after another task read later bytes gives nothing back (the stream's order holds)", async () => {
  const r = await withFifo(
    pipeScript(`
  const order = [];
  const a = yield* spawn(function* () { const x = yield* moveOnAfter(500, () => f.readAll()); order.push("A:" + (x === undefined ? "cut" : dec(x))); });
  yield* sleep(20);
  const b = yield* spawn(function* () { order.push("B:" + dec(yield* f.read())); });
  yield* join(b);
  yield* join(a);
  order.push("next:" + dec(yield* f.readAll()));
  return order.join(" ");`),
    'exec 3>"$F"; sleep 0.1; printf 1 >&3; sleep 0.15; printf 2 >&3; sleep 0.6; printf 3 >&3; exec 3>&-',
  );
  expect(r.out).not.toBe(JSON.stringify("B:2 A:cut next:13"));
  expect(r.err).toBe("");
}, 10_000);

/** The cancelled-read case's script: reads queued behind a pipe's read in flight, each cancelled; how many of their tasks stay reachable. */
const CANCELLED_READS_SCRIPT = (src: string, fifo: string) => `
import { run, spawn, cancel, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const refs = [];
await run(function* () {
  const f = yield* open(${JSON.stringify(fifo)}, "r");
  const first = yield* spawn(function* () { return yield* f.read(); }); // in flight: the writer is silent
  yield* sleep(1);
  for (let i = 0; i < 200; i++) {
    const t = yield* spawn(function* () { return yield* f.read(); }); // queued behind it
    yield* sleep(0);
    yield* sleep(0); // its read has reached the driver
    yield* cancel(t);
    refs.push(new WeakRef(t));
  }
  for (let i = 0; i < 5; i++) { Bun.gc(true); yield* sleep(1); }
  console.log(JSON.stringify({ alive: refs.filter((r) => r.deref() !== undefined).length }));
  process.exit(0);
});
`;

test("a cancelled read queued behind a pipe's read in flight is let go at once (found by review: each was kept until that read returned)", async () => {
  const r = await withFifo(CANCELLED_READS_SCRIPT, 'exec 3>"$F"; sleep 10');
  const { alive } = JSON.parse(r.out) as { alive: number };
  // Before the fix all 200 stayed; a conservative GC may keep a few dozen that stack slots or
  // the last ticks' arrays still point at.
  expect(alive).toBeLessThan(100);
}, 10_000);

test("a short read's result holds only its own bytes, not the whole read buffer (a small file's readAll() kept 1 MiB alive; found by review)", async () => {
  await inTempDir(async (dir) => {
    const p = joinPath(dir, "small.txt");
    writeFileSync(p, "hello");
    const big = joinPath(dir, "big.bin");
    writeFileSync(big, new Uint8Array(100_000).fill(7));
    const r = await run(function* () {
      const f = yield* open(p, "r");
      const all = yield* f.readAll();
      yield* f.close();
      const g = yield* open(p, "r");
      const one = (yield* g.read())!;
      yield* g.close();
      const h = yield* open(big, "r");
      const chunk = (yield* h.read(65_536))!; // a full read: a view of its buffer, as before
      const rest = (yield* h.readAll())!;
      yield* h.close();
      return { all: [dec(all), all.buffer.byteLength], one: [dec(one), one.buffer.byteLength], chunk: chunk.length, rest: rest.length, restBacking: rest.buffer.byteLength, isBuffer: Buffer.isBuffer(all) && Buffer.isBuffer(one) };
    });
    expect(r).toEqual({ all: ["hello", 5], one: ["hello", 5], chunk: 65_536, rest: 100_000 - 65_536, restBacking: 100_000 - 65_536, isBuffer: true });
  });
});

test("file reads give a Buffer whatever their size: readAll() of several chunks or of nothing too (it was a plain Uint8Array, whose toString lists numbers; found by review)", async () => {
  await inTempDir(async (dir) => {
    const big = joinPath(dir, "big.bin");
    writeFileSync(big, new Uint8Array((1 << 20) + 5).fill(65)); // two chunks of readAll
    const empty = joinPath(dir, "empty.txt");
    writeFileSync(empty, "");
    const r = await run(function* () {
      const f = yield* open(big, "r");
      const all = yield* f.readAll();
      yield* f.close();
      const e = yield* open(empty, "r");
      const none = yield* e.readAll();
      yield* e.close();
      return { big: [Buffer.isBuffer(all), all.length, all.toString().slice(0, 3)], empty: [Buffer.isBuffer(none), none.length] };
    });
    expect(r).toEqual({ big: [true, (1 << 20) + 5, "AAA"], empty: [true, 0] });
  });
});

test("open() options that are not an object are a TypeError naming them", () => {
  expect(() => open("/tmp/corun-never-opened.txt", "w", 5 as never)).toThrow(/^open\(path, mode, options\): options must be an object such as \{ highWaterMark \}, got 5$/);
  expect(() => open("/tmp/corun-never-opened.txt", "w", null as never)).toThrow(/options must be an object/);
});

test("open() of a path holding a NUL byte is a TypeError at the call, as an empty path is (found by review: it failed later, from the thread pool)", () => {
  expect(() => open("", "w")).toThrow(/^open\(path\): expected a non-empty path, got ""$/);
  expect(() => open("/tmp/corun-a\0b", "w")).toThrow(/^open\(path\): a path cannot hold a NUL byte, got "\/tmp\/corun-a\\u0000b"$/);
});
