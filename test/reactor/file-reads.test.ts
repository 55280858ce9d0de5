/**
 * FileReads: a regular file's concurrent reads complete in the order they were made, and a
 * read that finds the end of a growing file makes the reads after it again from there.
 * The thread pool is a fake that the test completes in any order, over a file it grows.
 */
import { describe, expect, test } from "bun:test";
import { FileReads, type ReadFn } from "../../src/reactor/file-reads.ts";
import { FileHandle } from "../../src/reactor/file-handle.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";

/** A file whose bytes the test appends, and a thread pool whose reads the test finishes. */
function pool() {
  let file = Buffer.alloc(0);
  const calls: { pos: number; len: number; finish: () => void; fail: (code: string) => void }[] = [];
  const readFn: ReadFn = (_fd, buf, off, len, pos, done) => {
    const at = pos ?? 0;
    calls.push({
      pos: at,
      len,
      // reads the file as it is when the test finishes the call, as a pread on the pool would
      finish: () => done(null, file.copy(buf, off, Math.min(at, file.length), Math.min(at + len, file.length))),
      fail: (code) => done(Object.assign(new Error(code), { code }), 0),
    });
  };
  return { readFn, calls, append: (s: string) => void (file = Buffer.concat([file, Buffer.from(s)])) };
}

function setup() {
  const p = pool();
  const live = new Set<Ticket>();
  const reads = new FileReads(live, p.readFn);
  const h = new FileHandle("/virtual/file", "r", {});
  const log: string[] = [];
  const sink: CompletionSink = {
    complete: (t, v) => void log.push(`${t.taskName}=${v === null ? "null" : Buffer.from(v as Uint8Array).toString()}`),
    fail: (t, e) => void log.push(`${t.taskName}!${(e as { code?: string }).code}`),
  };
  const read = (name: string, n: number): Ticket => {
    const t: Ticket = { op: "file.read", a: h, b: n, taskName: name };
    reads.read(h, t, sink);
    return t;
  };
  const cancel = (t: Ticket): void => {
    live.delete(t); // as the driver does before it tells FileReads
    reads.cancel(t);
  };
  return { ...p, h, log, read, cancel };
}

describe("FileReads on a regular file", () => {
  test("a read that comes back first waits for the reads made before it", () => {
    const s = setup();
    s.append("abcdef");
    s.read("A", 3);
    s.read("B", 3);
    s.calls[1]!.finish();
    expect(s.log).toEqual([]);
    s.calls[0]!.finish();
    expect(s.log).toEqual(["A=abc", "B=def"]);
    expect(s.h.pos).toBe(6);
    expect(s.h.reads).toBe(0);
  });

  test("a short read at the end of a growing file makes the later reads again from there: no byte twice, none skipped", () => {
    const s = setup();
    s.append("ab");
    s.read("A", 3); // asks for [0, 3): the file holds 2 bytes when it runs
    s.read("B", 3); // asks for [3, 6): runs after the file grew
    s.calls[0]!.finish();
    s.append("cdefgh");
    s.calls[1]!.finish();
    // B's first read took "def" and skipped "c": it is made again from A's end
    expect(s.log).toEqual(["A=ab"]);
    expect(s.calls[2]).toMatchObject({ pos: 2, len: 3 });
    s.calls[2]!.finish();
    expect(s.log).toEqual(["A=ab", "B=cde"]);
    expect(s.h.pos).toBe(5);
    s.read("C", 10);
    s.calls[3]!.finish();
    expect(s.log).toEqual(["A=ab", "B=cde", "C=fgh"]);
    expect(s.h.reads).toBe(0);
  });

  test("the same holds when the later read comes back before the short one; the reads made again go one at a time", () => {
    const s = setup();
    s.append("ab");
    s.read("A", 3);
    s.read("B", 3);
    s.read("C", 3);
    s.calls[0]!.finish(); // A ran before the append...
    s.append("cdefghijk");
    s.calls[2]!.finish(); // ...C and B after it, and C came back first
    s.calls[1]!.finish();
    expect(s.log).toEqual(["A=ab"]);
    expect(s.calls.slice(3).map((c) => c.pos)).toEqual([2]); // B first; C waits for it to come back whole
    s.calls[3]!.finish();
    expect(s.log).toEqual(["A=ab", "B=cde"]);
    expect(s.calls.slice(4).map((c) => c.pos)).toEqual([5]);
    s.read("D", 3); // made while C is out: it goes too (C came back whole)
    s.calls[4]!.finish();
    s.calls[5]!.finish();
    expect(s.log).toEqual(["A=ab", "B=cde", "C=fgh", "D=ijk"]);
    expect(s.h.pos).toBe(11);
    expect(s.h.reads).toBe(0);
  });

  test("reads piled up at the end of a file cost about one host read each, not one per read before them (found by review: 100 made 4,853)", () => {
    const s = setup();
    s.append("x".repeat(10));
    for (let i = 0; i < 100; i++) s.read(`R${i}`, 4);
    for (let i = 0; i < s.calls.length; i++) s.calls[i]!.finish(); // the loop takes the reads made again as they come
    expect(s.log.slice(0, 4)).toEqual(["R0=xxxx", "R1=xxxx", "R2=xx", "R3=null"]);
    expect(s.log.filter((l) => l.endsWith("=null"))).toHaveLength(97);
    expect(s.calls.length).toBeLessThanOrEqual(200);
    expect(s.h.pos).toBe(10);
    expect(s.h.reads).toBe(0);
  });

  test("at the end of the file every read gets null, once", () => {
    const s = setup();
    s.append("xy");
    s.read("A", 2);
    s.read("B", 2);
    s.read("C", 2);
    for (const i of [2, 1, 0]) s.calls[i]!.finish();
    expect(s.log).toEqual(["A=xy", "B=null"]);
    s.calls[3]!.finish(); // C, made again from B's end
    expect(s.log).toEqual(["A=xy", "B=null", "C=null"]);
    expect(s.h.pos).toBe(2);
  });

  test("a failed read fails its task alone; the reads after it are made again from its range", () => {
    const s = setup();
    s.append("abcdef");
    s.read("A", 3);
    s.read("B", 3);
    s.calls[1]!.finish();
    s.calls[0]!.fail("EIO");
    expect(s.log).toEqual(["A!EIO"]);
    expect(s.calls[2]).toMatchObject({ pos: 0, len: 3 });
    s.calls[2]!.finish();
    expect(s.log).toEqual(["A!EIO", "B=abc"]);
  });

  test("a cancelled read in the middle gives its bytes to the reads after it, as does one that found the end", () => {
    const s = setup();
    s.append("abcdefghi");
    s.read("A", 3);
    const b = s.read("B", 3);
    s.read("C", 3);
    s.cancel(b); // C was made after it: B's range goes back once B is back
    for (const i of [0, 2, 1]) s.calls[i]!.finish();
    expect(s.log).toEqual(["A=abc"]);
    expect(s.calls[3]).toMatchObject({ pos: 3, len: 3 }); // C, made again from B's start
    s.calls[3]!.finish();
    expect(s.log).toEqual(["A=abc", "C=def"]);
    expect(s.h.pos).toBe(6);

    const t = setup();
    t.append("ab");
    const a = t.read("A", 3);
    t.read("B", 3);
    t.cancel(a);
    t.calls[0]!.finish(); // A found the end at 2: B asked past it
    t.append("cd");
    t.calls[1]!.finish();
    expect(t.calls[2]).toMatchObject({ pos: 0, len: 3 }); // A's bytes were never delivered: B gets them
    t.calls[2]!.finish();
    expect(t.log).toEqual(["B=abc"]);
  });

  test("reads all cancelled in the order they were made give every byte back (found by review: the first one's were skipped)", () => {
    const s = setup();
    s.append("abcdef");
    const a = s.read("A", 3);
    const b = s.read("B", 3);
    s.cancel(a);
    s.cancel(b);
    s.calls[0]!.finish();
    s.calls[1]!.finish();
    expect(s.h.pos).toBe(0);
    s.read("C", 6);
    s.calls[2]!.finish();
    expect(s.log).toEqual(["C=abcdef"]);
  });

  test("a read cancelled while it waits behind one made again is let go, with no range taken", () => {
    const s = setup();
    s.append("ab");
    s.read("A", 3);
    s.read("B", 3);
    const c = s.read("C", 3);
    s.calls[0]!.finish(); // A short: B made again, C waits
    s.calls[1]!.finish();
    s.calls[2]!.finish();
    s.cancel(c);
    s.append("cdef");
    s.calls[3]!.finish(); // B, whole
    expect(s.calls).toHaveLength(4); // C was not made
    expect(s.log).toEqual(["A=ab", "B=cde"]);
    expect(s.h.pos).toBe(5);
    expect(s.h.reads).toBe(0);
  });

  test("the last read, cancelled in flight, gives its range back and its result is dropped", () => {
    const s = setup();
    s.append("abcdef");
    s.read("A", 3);
    const b = s.read("B", 3);
    s.cancel(b);
    expect(s.h.pos).toBe(3);
    s.calls[1]!.finish();
    s.calls[0]!.finish();
    s.read("C", 3);
    s.calls[2]!.finish();
    expect(s.log).toEqual(["A=abc", "C=def"]);
    expect(s.h.reads).toBe(0);
  });

  test("a readAll cut short gives its bytes back from where they begin, also when they were read again from before its start (found by review)", () => {
    const s = setup();
    s.append("abcdef");
    const a = s.read("A", 3); // another task's read takes [0, 3)
    const mark = s.h.served; // readAll begins after it...
    s.read("readAll", 1 << 20); // ...its first read takes [3, ...)
    s.cancel(a); // A's bytes go to the reads after it
    s.calls[0]!.finish();
    s.calls[1]!.finish();
    s.calls[2]!.finish(); // readAll's read, made again from 0
    expect(s.log).toEqual(["readAll=abcdef"]);
    const next = s.read("readAll", 1 << 20);
    s.cancel(next); // readAll's time limit expires while its next read waits
    s.h.giveBack(Buffer.from("abcdef"), mark, 1);
    s.read("C", 100);
    s.calls[s.calls.length - 1]!.finish();
    expect(s.log).toEqual(["readAll=abcdef", "C=abcdef"]);
  });
});
