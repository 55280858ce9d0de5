import { describe, expect, test } from "bun:test";
import { run, spawn, join, sleep, wait, moveOnAfter, Scheduler, type Co } from "../../src/index.ts";
import { pair } from "./helpers.ts";
import { EXTRA_ROUNDS } from "../../src/tick.ts";
import { listen, connect, netStats, NetError, type Conn } from "../../src/net/index.ts";

const HOST = "127.0.0.1";

/** A connected pair; `feed` sends the given pieces with a pause between them (separate TCP segments). */
function* withPeer<T>(pieces: (string | Uint8Array)[], body: (c: Conn) => Co<T>): Co<T> {
  const l = yield* listen({ hostname: HOST, port: 0 });
  const feeder = yield* spawn(function* () {
    const s = yield* l.accept();
    for (const p of pieces) {
      yield* s.write(p);
      yield* sleep(2);
    }
    yield* s.end();
    return s;
  });
  const c = yield* connect({ hostname: HOST, port: l.port });
  try {
    return yield* body(c);
  } finally {
    const s = yield* join(feeder);
    yield* s.close();
    yield* c.close();
    yield* l.close();
  }
}

test("readUntil finds a delimiter split across chunks and keeps the rest for the next read", async () => {
  const r = await run(() => withPeer(["HEAD\r", "\n\r", "\nbody", "more"], function* (c) {
    const head = new TextDecoder().decode((yield* c.readUntil("\r\n\r\n"))!);
    const rest = new TextDecoder().decode(yield* c.readAll());
    return [head, rest];
  }));
  expect(r).toEqual(["HEAD", "bodymore"]);
});

test("readLine handles \\n and \\r\\n, a last line without newline, then null", async () => {
  const r = await run(() => withPeer(["one\r\ntw", "o\nthr", "ee"], function* (c) {
    const lines: (string | null)[] = [];
    for (let i = 0; i < 4; i++) lines.push(yield* c.readLine());
    return lines;
  }));
  expect(r).toEqual(["one", "two", "three", null]);
});

test("readExactly spans chunks, leaves extra bytes, and throws ERR_UNEXPECTED_EOF when short", async () => {
  const r = await run(() => withPeer(["ab", "cdef", "g"], function* (c) {
    const four = new TextDecoder().decode(yield* c.readExactly(4));
    const two = new TextDecoder().decode(yield* c.readExactly(2));
    let code = "";
    try { yield* c.readExactly(5); } catch (e) { code = (e as NetError).code; }
    const left = new TextDecoder().decode(yield* c.readAll()); // the short read's bytes were pushed back
    return { four, two, code, left };
  }));
  expect(r).toEqual({ four: "abcd", two: "ef", code: "ERR_UNEXPECTED_EOF", left: "g" });
});

test("readUntil gives up with ERR_TOO_LONG past maxBytes", async () => {
  const code = await run(() => withPeer(["x".repeat(3000)], function* (c) {
    try { yield* c.readUntil("\n", 1000); return "found"; } catch (e) { return (e as NetError).code; }
  }));
  expect(code).toBe("ERR_TOO_LONG");
});

test("forEach visits every chunk and stops when fn returns false", async () => {
  const r = await run(() => withPeer(["a", "b", "c", "d"], function* (c) {
    const seen: string[] = [];
    yield* c.forEach((chunk) => {
      seen.push(new TextDecoder().decode(chunk));
      return seen.join("").length < 2 ? undefined : false;
    });
    return seen.join("");
  }));
  expect(r.length).toBeGreaterThanOrEqual(2);
  expect("abcd".startsWith(r)).toBe(true);
});

test("readUntil holds maxBytes however the bytes are split", async () => {
  /** What readUntil(src, delim, max) gives for `pieces`: the text, or the error code. */
  const outcome = (pieces: string[], delim: string, max: number) =>
    run(() =>
      withPeer(pieces, function* (c) {
        try {
          const b = yield* c.readUntil(delim, max);
          return b === null ? "null" : new TextDecoder().decode(b);
        } catch (e) {
          return (e as NetError).code;
        }
      }),
    );
  const long = "x".repeat(100) + "\n";
  expect(await outcome([long], "\n", 10)).toBe("ERR_TOO_LONG"); // the delimiter in the same chunk
  expect(await outcome([long.slice(0, 50), long.slice(50)], "\n", 10)).toBe("ERR_TOO_LONG");
  // exactly maxBytes before a two-byte delimiter: fine, whether or not the delimiter is split
  expect(await outcome(["0123456789\r\n"], "\r\n", 10)).toBe("0123456789");
  expect(await outcome(["0123456789\r", "\n"], "\r\n", 10)).toBe("0123456789");
  expect(await outcome(["01234567890\r\n"], "\r\n", 10)).toBe("ERR_TOO_LONG");
  // the stream ends without a delimiter: what is left counts against the limit too
  expect(await outcome(["0123456789A"], "\r\n", 10)).toBe("ERR_TOO_LONG");
  expect(await outcome(["0123456789"], "\r\n", 10)).toBe("0123456789");
});

describe("a helper cut short by a timeout gives back what it had read", () => {
  test("readLine: the partial line is read again by the next readLine", async () => {
    const out = await run(function* () {
      const { client, server } = yield* pair();
      yield* client.write("hel");
      const first = yield* moveOnAfter(100, () => server.readLine());
      yield* client.write("lo\n");
      return { first, second: yield* server.readLine() };
    });
    expect(out).toEqual({ first: undefined, second: "hello" });
  });

  test("readExactly: the bytes it had come first in the next read", async () => {
    const out = await run(function* () {
      const { client, server } = yield* pair();
      yield* client.write("ab");
      const first = yield* moveOnAfter(100, () => server.readExactly(4));
      yield* client.write("cd");
      const got = yield* moveOnAfter(1000, () => server.readExactly(4));
      return { first, second: got === undefined ? "(hung)" : new TextDecoder().decode(got) };
    });
    expect(out).toEqual({ first: undefined, second: "abcd" });
  });

  test("readAll: what it had read is there for the next read", async () => {
    const out = await run(function* () {
      const { client, server } = yield* pair();
      yield* client.write("part one ");
      const first = yield* moveOnAfter(100, () => server.readAll());
      yield* client.write("part two");
      yield* client.end();
      return { first, second: new TextDecoder().decode(yield* server.readAll()) };
    });
    expect(out).toEqual({ first: undefined, second: "part one part two" });
  });
});

test("readLine(maxBytes) bounds the line's text: a \\r\\n ending counts no more than \\n; a longer line is left as it was", async () => {
  const r = await run(() => withPeer(["abcd\r\nabcd\nabcde\r\nnext\n"], function* (c) {
    const a = yield* c.readLine(4);
    const b = yield* c.readLine(4);
    let code = "";
    try { yield* c.readLine(4); } catch (e) { code = (e as NetError).code; }
    const again = yield* c.readLine(5); // the long line was pushed back whole
    return { a, b, code, again, next: yield* c.readLine(4) };
  }));
  expect(r).toEqual({ a: "abcd", b: "abcd", code: "ERR_TOO_LONG", again: "abcde", next: "next" });
});

test("readLine(5): six bytes with no newline yet fail at once (the \\r allowance is for a \\r only)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("abcdef");
    const out = yield* moveOnAfter(1000, function* () {
      try {
        return yield* server.readLine(5);
      } catch (e) {
        return (e as NetError).code;
      }
    });
    return out ?? "(waited)";
  });
  expect(r).toBe("ERR_TOO_LONG");
});

test("a helper cut short by close() gives nothing back: the closed connection's next read fails", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("abcd");
    const reader = yield* spawn(function* () {
      try {
        return yield* server.readExactly(10);
      } catch (e) {
        return (e as NetError).code;
      }
    });
    yield* sleep(50);
    yield* server.close();
    const first = yield* join(reader);
    let next: string;
    try {
      const b = yield* server.read();
      next = b === null ? "null" : new TextDecoder().decode(b);
    } catch (e) {
      next = (e as NetError).code;
    }
    return { first, next };
  });
  expect(r).toEqual({ first: "ERR_SOCKET_CLOSED", next: "ERR_SOCKET_CLOSED" });
});

test("readAll(maxBytes) over the limit leaves the bytes it read for the next read", async () => {
  const r = await run(() => withPeer(["abc", "defgh"], function* (c) {
    let code = "";
    try { yield* c.readAll(5); } catch (e) { code = (e as NetError).code; }
    return { code, rest: new TextDecoder().decode(yield* c.readAll()) };
  }));
  expect(r).toEqual({ code: "ERR_TOO_LONG", rest: "abcdefgh" });
});

test("forEach runs a function that returns one syscall (an echo written as (chunk) => conn.write(chunk))", async () => {
  const echoed = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("echo me");
    yield* client.end();
    yield* server.forEach((chunk) => server.write(chunk)); // each write is made, not dropped
    yield* server.end();
    const back = yield* client.readAll();
    yield* client.close();
    yield* server.close();
    return new TextDecoder().decode(back);
  });
  expect(echoed).toBe("echo me");
});

test("a maxBytes that is not a number >= 0 is a RangeError naming it (NaN silently lifted the limit; found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const out: string[] = [];
    for (const use of [() => server.readLine(NaN), () => server.readUntil("\n", -1), () => server.readAll("big" as never), () => server.readExactly("4" as never)]) {
      try { yield* use(); out.push("accepted"); } catch (e) { out.push(`${(e as Error).name}: ${(e as Error).message}`); }
    }
    yield* client.close();
    yield* server.close();
    return out;
  });
  expect(r).toEqual([
    "RangeError: readLine(maxBytes): maxBytes must be a number >= 0 (Infinity for no limit), got NaN",
    "RangeError: readUntil(maxBytes): maxBytes must be a number >= 0 (Infinity for no limit), got -1",
    'RangeError: readAll(maxBytes): maxBytes must be a number >= 0 (Infinity for no limit), got "big"',
    'RangeError: readExactly(n): n must be an integer >= 0, got "4"', // a string shown as one (found by review)
  ]);
});

test("forEach with an async function (or an async generator) is a TypeError naming the task, not run unawaited (found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("a");
    const out: string[] = [];
    for (const fn of [async () => false, async function* () { yield 1; }]) {
      try { yield* server.forEach(fn as never); out.push("accepted"); } catch (e) { out.push((e as Error).message); }
      yield* client.write("b");
    }
    yield* client.close();
    yield* server.close();
    return out;
  });
  expect(r[0]).toMatch(/^forEach\(fn\) in task "main" \(#\d+\): fn is an async function; write it as function\* \(chunk\)/);
  expect(r[1]).toMatch(/fn is an async function/);
});

test("forEach(notAFunction) is a TypeError before anything is read (a chunk was lost; found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("first");
    let error = "";
    try { yield* server.forEach(42 as never); } catch (e) { error = (e as Error).message; }
    yield* client.close();
    const rest = new TextDecoder().decode(yield* server.readAll());
    yield* server.close();
    return { error, rest };
  });
  expect(r.error).toMatch(/^forEach\(fn\) in task "main" \(#\d+\): fn must be a function, got 42$/);
  expect(r.rest).toBe("first");
});

test("a refused async forEach callback is not run: its chunk stays for the next read (one was lost; found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("first");
    const seen: string[] = [];
    let error = "";
    try {
      yield* server.forEach((async (chunk: Uint8Array) => { seen.push(new TextDecoder().decode(chunk)); throw new Error("boom"); }) as never);
    } catch (e) { error = (e as Error).name; }
    // A plain function that returns a rejecting promise: refused too, its chunk kept, its rejection handled.
    try {
      yield* server.forEach(() => Promise.reject(new Error("late")));
    } catch (e) { error += ` ${(e as Error).name}`; }
    yield* client.close();
    const rest = new TextDecoder().decode(yield* server.readAll());
    yield* server.close();
    return { error, seen, rest };
  });
  expect(r).toEqual({ error: "TypeError TypeError", seen: [], rest: "first" });
});

test("unread past the high-water mark pauses the socket again: a reader that puts most back does not buffer without bound (found by review)", async () => {
  const most = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    yield* spawn(function* () {
      const c = yield* l.accept();
      try { for (;;) yield* c.write(new Uint8Array(64 * 1024)); } catch { /* the reader aborted */ }
    });
    const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
    let most = 0;
    for (let i = 0; i < 60; i++) {
      const b = (yield* c.read())!;
      if (b.length > 4096) c.unread(b.subarray(4096));
      most = Math.max(most, (yield* netStats()).buffered);
      yield* sleep(10);
    }
    yield* c.abort();
    yield* l.close();
    return most;
  });
  expect(most).toBeLessThan(4 << 20); // 30 MB before
}, 20_000);

describe("bytes already buffered", () => {
  /** A pair whose client has `bytes` buffered, unread (polled, bounded). */
  function* buffered(bytes: string | Uint8Array): Co<{ client: Conn; server: Conn }> {
    const p = yield* pair();
    const n = yield* p.server.write(bytes);
    for (let i = 0; i < 2000 && p.client.stats().buffered < n; i++) yield* sleep(1);
    expect(p.client.stats().buffered).toBe(n);
    return p;
  }

  test("readLine and readExactly take them in the same step, without a round per call (2,000 lines cost 400 ticks; found by review)", async () => {
    const s = new Scheduler();
    const r = await s.run(function* () {
      const lines = yield* buffered(Array.from({ length: 2000 }, (_, i) => `+reply-${i}\r\n`).join(""));
      let t0 = s.stats().ticks;
      const got: (string | null)[] = [];
      for (let i = 0; i < 2000; i++) got.push(yield* lines.client.readLine());
      const lineTicks = s.stats().ticks - t0;
      const frames = yield* buffered(new Uint8Array(16 * 1000).map((_, i) => i >> 4));
      t0 = s.stats().ticks;
      let ok = 0;
      for (let i = 0; i < 1000; i++) if ((yield* frames.client.readExactly(16)).every((b) => b === (i & 255))) ok++;
      const frameTicks = s.stats().ticks - t0;
      for (const c of [lines.client, lines.server, frames.client, frames.server]) yield* c.close();
      return { right: got.every((l, i) => l === `+reply-${i}`), ok, lineTicks, frameTicks };
    });
    expect({ right: r.right, ok: r.ok }).toEqual({ right: true, ok: 1000 });
    // A read() every 256 buffered takes (for fairness), each at most a tick: about 8 and 4.
    expect(r.lineTicks).toBeLessThanOrEqual(20);
    expect(r.frameTicks).toBeLessThanOrEqual(10);
  });

  test("a task parsing a flooded buffer still lets the other tasks run", async () => {
    const r = await run(function* () {
      const p = yield* buffered("x\n".repeat(10_000));
      let reading = true;
      let spins = 0;
      const spinner = yield* spawn(function* () {
        while (reading) { spins++; yield; }
      });
      for (let i = 0; i < 10_000; i++) yield* p.client.readLine();
      reading = false;
      const during = spins;
      yield* join(spinner);
      yield* p.client.close();
      yield* p.server.close();
      return during;
    });
    // The reader yields a read() every 256 lines; one that completes at once runs again in the
    // same tick (up to EXTRA_ROUNDS times), so the spinner steps once per 256 × 5 lines at least.
    // Never yielding, the reader would give it none.
    expect(r).toBeGreaterThanOrEqual(Math.floor(10_000 / (256 * (1 + EXTRA_ROUNDS))) - 1);
  });

  test("a Conn read from another run(): readLine is refused with EBADF, as read() is, and the owning run loses nothing (found by review: the fast take gave it 'hello', or took 'partial' and dropped it)", async () => {
    const r = await run(function* () {
      const p = yield* buffered("hello\nparti");
      const inner = yield* wait(run(function* () {
        try { return `took ${JSON.stringify(yield* p.client.readLine())}`; } catch (e) { return (e as NetError).code; }
      }));
      yield* p.server.end();
      const mine = new TextDecoder().decode(yield* p.client.readAll());
      yield* p.client.close();
      yield* p.server.close();
      return { inner, mine };
    });
    expect(r).toEqual({ inner: "EBADF", mine: "hello\nparti" });
  });

  test("an op yielded earlier in the same tick comes first: another task's read() gets the first bytes, and after its close() or abort() a readLine fails (found by review: the fast take went ahead of them)", async () => {
    const r = await run(function* () {
      const p = yield* buffered("hello\nworld\n");
      const a = yield* spawn(function* () { return new TextDecoder().decode((yield* p.client.read())!); });
      const b = yield* spawn(function* () { return yield* p.client.readLine(); });
      const first = yield* join(a);
      yield* p.server.write("third\n");
      const second = yield* join(b);
      const codes: string[] = [];
      for (const how of ["close", "abort"] as const) {
        const q = yield* buffered("hello\n");
        const ender = yield* spawn(function* () { yield* (how === "close" ? q.client.close() : q.client.abort()); });
        const reader = yield* spawn(function* () {
          try { return `took ${yield* q.client.readLine()}`; } catch (e) { return (e as NetError).code; }
        });
        yield* join(ender);
        codes.push(`${how}: ${yield* join(reader)}`);
        yield* q.server.close();
      }
      yield* p.client.close();
      yield* p.server.close();
      return { first, second, codes };
    });
    expect(r).toEqual({ first: "hello\nworld\n", second: "third", codes: ["close: ERR_SOCKET_CLOSED", "abort: ERR_SOCKET_CLOSED"] });
  });
});

test("a flooded buffer over the high-water mark parsed line by line: the socket is not resumed and paused again for every line (found by review)", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const acc = yield* spawn(function* () { return yield* l.accept(); });
    const client = yield* connect({ hostname: HOST, port: l.port, highWaterMark: 4096 });
    const server = yield* join(acc);
    yield* l.close();
    const writer = yield* spawn(function* () { yield* server.write("123456789\n".repeat(20_000)); yield* server.end(); });
    for (let i = 0; i < 2000 && client.stats().pauses === 0; i++) yield* sleep(1);
    let lines = 0;
    while ((yield* client.readLine()) !== null) lines++;
    yield* join(writer);
    const { pauses, bytesRead } = client.stats();
    yield* client.close();
    yield* server.close();
    return { lines, pauses, bytesRead };
  });
  expect([r.lines, r.bytesRead]).toEqual([20_000, 200_000]);
  expect(r.pauses).toBeLessThan(2_000); // a pause per refill of the buffer, not per line (19,591 of them for 20,000 lines)
});
