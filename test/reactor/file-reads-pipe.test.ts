/**
 * FileReads on a pipe, with a fake PipeSource whose reads the test resolves: bytes a cut-short
 * readAll gives back go at once to the read under way or waiting (they come before what the
 * pipe brings next), and giveBack's check counts reads served, which never goes down (found
 * by review: reads waited for the pipe, bytes were lost, and the stream was reordered).
 */
import { expect, test } from "bun:test";
import { FileReads } from "../../src/reactor/file-reads.ts";
import { FileHandle } from "../../src/reactor/file-handle.ts";
import type { PipeSource } from "../../src/reactor/file-pipe.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";

function setup() {
  const pending: { n: number; resolve: (b: Uint8Array | null) => void; reject: (e: unknown) => void }[] = [];
  const src: PipeSource = {
    read: (n) => new Promise((resolve, reject) => void pending.push({ n, resolve, reject })),
    cancel: () => { for (const p of pending.splice(0)) p.resolve(null); },
  };
  const live = new Set<Ticket>();
  const reads = new FileReads(live, undefined, () => src);
  const h = new FileHandle("/virtual/fifo", "r", {});
  h.positional = false;
  h.streamed = true;
  h.fd = 99;
  const log: string[] = [];
  const got = new Map<Ticket, Uint8Array | null>();
  const sink: CompletionSink = {
    complete: (t, v) => { got.set(t, v as Uint8Array | null); log.push(`${t.taskName}=${v === null ? "null" : Buffer.from(v as Uint8Array).toString()}`); },
    fail: (t, e) => void log.push(`${t.taskName}!${(e as { code?: string }).code}`),
  };
  const read = (name: string, n = 1 << 20): Ticket => {
    const t: Ticket = { op: "file.read", a: h, b: n, taskName: name };
    reads.read(h, t, sink);
    return t;
  };
  const cancel = (t: Ticket): void => { live.delete(t); reads.cancel(t); };
  const give = async (i: number, s: string | null) => { pending.splice(i, 1)[0]!.resolve(s === null ? null : Buffer.from(s)); await Bun.sleep(0); };
  const kept = () => (h.kept === undefined ? undefined : Buffer.from(h.kept).toString());
  return { h, log, got, read, cancel, give, pending, kept };
}

test("a read queued behind a cancelled read gets the bytes given back at once", async () => {
  const s = setup();
  s.read("C1"); // readAll of C: first read
  await s.give(0, "a"); // C1=a
  const c2 = s.read("C2"); // readAll's next read, in flight
  s.read("A1"); // another task: queued behind C2
  s.cancel(c2); // C's readAll cut short...
  s.h.giveBack(Buffer.from("a"), 0, 1); // ...gives "a" back
  expect(s.log).toEqual(["C1=a", "A1=a"]);
  await s.give(0, "b"); // what C2's read brings is kept, after
  expect(s.kept()).toBe("b");
});

test("a live read under way is served the bytes given back at once; what it brings is kept after them", async () => {
  const s = setup();
  s.read("C1");
  s.read("A1"); // queued behind C1
  await s.give(0, "a"); // C1=a; A1 now in flight
  const c2 = s.read("C2"); // queued behind A1
  s.cancel(c2);
  s.h.giveBack(Buffer.from("a"), 0, 1);
  expect(s.log).toEqual(["C1=a", "A1=a"]);
  await s.give(0, "b");
  s.read("B1");
  expect(s.log).toEqual(["C1=a", "A1=a", "B1=b"]);
});

test("a give-back is accepted when only the reader's own reads were served since it began, whatever others gave back", async () => {
  const s = setup();
  s.read("Y1");
  await s.give(0, "a"); // Y's readAll (begun at 0) got "a"
  const y2 = s.read("Y2");
  const markZ = s.h.served; // Z's readAll begins
  s.read("Z1"); // waits behind Y2
  s.cancel(y2);
  s.h.giveBack(Buffer.from("a"), 0, 1); // Y cut short: Z1 gets "a"
  expect(s.log).toEqual(["Y1=a", "Z1=a"]);
  const z2 = s.read("Z2"); // waits for Y2's read, still under way
  s.cancel(z2);
  s.h.giveBack(Buffer.from("a"), markZ, 1); // Z cut short: nobody else read since it began
  expect(s.kept()).toBe("a");
  await s.give(0, "b"); // Y2's read brings "b": after "a"
  expect(s.kept()).toBe("ab");
});

test("a give-back is refused when another task read since the reader began: the stream keeps its order", async () => {
  const s = setup();
  s.read("Y1");
  await s.give(0, "a");
  const y2 = s.read("Y2");
  const markZ = s.h.served;
  s.read("Z1");
  s.cancel(y2);
  s.h.giveBack(Buffer.from("a"), 0, 1); // Z1 = "a"
  s.read("W1", 1); // another task, waiting for Y2's read
  await s.give(0, "b"); // W1 = "b", after "a" in the stream
  expect(s.log).toEqual(["Y1=a", "Z1=a", "W1=b"]);
  s.h.giveBack(Buffer.from("a"), markZ, 1); // Z cut short: W read since, so "a" must not come back after "b"
  expect(s.kept()).toBeUndefined();
});

test("a read error with bytes kept leaves them for the next read", async () => {
  const s = setup();
  s.read("C1");
  await s.give(0, "a");
  const c2 = s.read("C2");
  s.cancel(c2);
  s.h.giveBack(Buffer.from("a"), 0, 1); // kept, nobody waiting
  s.pending.splice(0, 1)[0]!.reject(Object.assign(new Error("EIO"), { code: "EIO" })); // C2's read fails: nobody's
  await Bun.sleep(0);
  s.read("B1", 10);
  await Bun.sleep(0);
  expect(s.log).toEqual(["C1=a", "B1=a"]);
});

test("size bound: a read served from kept bytes gets at most what it asked for", async () => {
  const s = setup();
  s.read("C1");
  s.read("A1", 1);
  await s.give(0, "ab"); // C1=ab; A1 in flight
  const c2 = s.read("C2");
  s.cancel(c2);
  s.h.giveBack(Buffer.from("ab"), 0, 1);
  expect(s.log).toEqual(["C1=ab", "A1=a"]);
  await s.give(0, "cdef");
  expect(s.kept()).toBe("bcdef");
  expect(s.h.counters.bytesRead).toBe(1);
});

test("bytes given back are not delivered after an end another task got since the readAll began (found by review)", async () => {
  let pending: ((b: Uint8Array | null) => void) | undefined;
  const src = (): PipeSource => ({ read: () => new Promise((r) => { pending = r; }), cancel: () => { const p = pending; pending = undefined; p?.(null); } });
  const live = new Set<Ticket>();
  const reads = new FileReads(live, undefined, src);
  const h = new FileHandle("/virtual/tty", "r", {});
  h.positional = false; h.streamed = true; h.fd = 99;
  const log: string[] = [];
  const sink: CompletionSink = {
    complete: (t, v) => void log.push(`${t.taskName}=${v === null ? "END" : Buffer.from(v as Uint8Array).toString()}`),
    fail: (t) => void log.push(`${t.taskName}!`),
  };
  const read = (name: string): Ticket => { const t: Ticket = { op: "file.read", a: h, b: 1 << 20, taskName: name }; reads.read(h, t, sink); return t; };
  const give = async (s: string | null) => { const p = pending!; pending = undefined; p(s === null ? null : Buffer.from(s)); await Bun.sleep(0); };
  const mark = h.served; // C's readAll begins
  read("C1");
  read("D1"); // another task's read, waiting
  await give("a"); // C1=a; D1 under way
  read("C2"); // readAll's next read waits for D1
  await give(null); // the writer's end (^D): D1=END; C2 under way on a new source
  await give("b"); // C2=b
  const c3 = read("C3");
  live.delete(c3); reads.cancel(c3); // C cut short...
  h.giveBack(Buffer.from("ab"), mark, 2); // ...gives back "ab"
  read("E1");
  await Bun.sleep(0);
  expect(log.slice(0, 3)).toEqual(["C1=a", "D1=END", "C2=b"]);
  // Stream: "a", END, "b". D saw the end; "a" came before it and must not be read after it.
  expect(log).not.toContain("E1=ab");
});
