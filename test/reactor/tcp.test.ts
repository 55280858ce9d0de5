import { test, expect } from "bun:test";
import { run, spawn, join, sleep, io, moveOnAfter, type Co, type Task } from "../../src/index.ts";
import { listen, connect, netStats, type Conn } from "../../src/net/index.ts";
import { HOST, pair } from "../net/helpers.ts";



test("1,000 writes to one connection in one tick make at most 2 host writes, received in order", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const before = client.stats();
    const writers: Task<number>[] = [];
    // Spawned in one step, the writers all run (and write) in the same tick.
    for (let i = 0; i < 1000; i++) writers.push(yield* spawn(function* () { return yield* client.write(`${i};`); }));
    let sent = 0;
    for (const w of writers) sent += yield* join(w);
    const after = client.stats();
    yield* client.end();
    const got = new TextDecoder().decode(yield* server.readAll());
    yield* client.close();
    yield* server.close();
    return { hostWrites: after.hostWrites - before.hostWrites, writeOps: after.writeOps - before.writeOps, got, sent };
  });
  const expected = Array.from({ length: 1000 }, (_, i) => `${i};`).join("");
  expect(r.writeOps).toBe(1000);
  expect(r.hostWrites).toBeGreaterThanOrEqual(1);
  expect(r.hostWrites).toBeLessThanOrEqual(2);
  expect(r.sent).toBe(expected.length);
  expect(r.got).toBe(expected);
});

test("a partial host write keeps the rest and resends it on drain; each write completes when all its bytes went", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const big = new Uint8Array(32 << 20);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const w = yield* spawn(function* () { return yield* client.write(big); });
    // Nobody reads for a while: the write cannot complete, the kernel took only part of it.
    while (client.stats().writeOps === 0) yield* sleep(1);
    yield* sleep(30);
    const mid = client.stats();
    const stillWaiting = w.state === "waiting";
    let n = 0;
    let ok = true;
    while (n < big.length) {
      const b = (yield* server.read())!;
      for (let i = 0; i < b.length; i++) if (b[i] !== (n + i) % 251) ok = false;
      n += b.length;
    }
    const written = yield* join(w);
    yield* client.close();
    yield* server.close();
    return { stillWaiting, partial: mid.partialWrites, written, n, ok, hostWrites: client.stats().hostWrites };
  });
  expect(r.stillWaiting).toBe(true);
  expect(r.partial).toBeGreaterThanOrEqual(1);
  expect(r.written).toBe(32 << 20);
  expect(r.n).toBe(32 << 20);
  expect(r.ok).toBe(true);
  expect(r.hostWrites).toBeGreaterThan(1); // resent on drain
});

test("a slow reader keeps the receiving side's buffered bytes bounded (reading pauses at the high-water mark)", async () => {
  const HWM = 64 * 1024;
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0, highWaterMark: HWM });
    const acc = yield* spawn(function* () { return yield* l.accept(); });
    const client = yield* connect({ hostname: HOST, port: l.port });
    const server = yield* join(acc);
    const TOTAL = 16 << 20;
    const writer = yield* spawn(function* () {
      const block = new Uint8Array(256 * 1024);
      for (let s = 0; s < TOTAL; s += block.length) yield* client.write(block);
      yield* client.end();
    });
    // Read nothing for a while: the sender outruns us.
    yield* sleep(50);
    const idle = server.stats();
    const writerBlocked = writer.state === "waiting";
    let n = 0;
    for (;;) {
      const b = yield* server.read();
      if (b === null) break;
      n += b.length;
      if ((n & 0xfffff) < b.length) yield* sleep(1); // a slow reader
    }
    yield* join(writer);
    const end = server.stats();
    yield* client.close();
    yield* server.close();
    yield* l.close();
    return { idle, end, n, writerBlocked, TOTAL };
  });
  expect(r.n).toBe(r.TOTAL);
  expect(r.writerBlocked).toBe(true);
  expect(r.idle.pauses).toBeGreaterThanOrEqual(1);
  // Bounded by the mark plus at most one host read (Bun delivers up to 512 KiB at a time).
  expect(r.idle.buffered).toBeLessThanOrEqual(HWM + 512 * 1024);
  expect(r.end.maxBuffered).toBeLessThanOrEqual(HWM + 512 * 1024);
});

test("10,000 simultaneous connects to one listener are admitted in waves under the limit and all complete", async () => {
  const N = 10_000;
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    let served = 0;
    const server = yield* spawn(function* () {
      while (served < N) {
        const c = yield* l.accept();
        served++;
        yield* spawn(function* () { yield* c.write("k"); yield* c.close(); });
      }
    });
    const t0 = performance.now();
    const clients: Task<number>[] = [];
    for (let i = 0; i < N; i++) {
      clients.push(yield* spawn(function* () {
        const c = yield* connect({ hostname: HOST, port: l.port });
        const b = yield* c.read();
        yield* c.close();
        return b?.length ?? 0;
      }));
    }
    let ok = 0;
    for (const t of clients) ok += yield* join(t);
    const ms = performance.now() - t0;
    yield* join(server);
    const s = yield* netStats();
    yield* l.close();
    return { ok, s, ms };
  });
  console.log(`10,000 connects: ${r.ms.toFixed(0)} ms, most in flight ${r.s.maxConnectsInFlight}, queued ${r.s.connectsQueued}`);
  expect(r.ok).toBe(N);
  expect(r.s.connectsStarted).toBe(N);
  expect(r.s.maxConnectsInFlight).toBeLessThanOrEqual(256);
  expect(r.s.connectsQueued).toBeGreaterThan(0);
}, 30_000);

test("5,000 concurrent client/server connection pairs in one process", async () => {
  const N = 5000;
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const srv = yield* spawn(function* () {
      const conns: Task<void>[] = [];
      for (let i = 0; i < N; i++) {
        const c = yield* l.accept();
        conns.push(yield* spawn(function* () {
          const line = yield* c.readLine();
          yield* c.write(`echo ${line}\n`);
          yield* c.readAll(); // until the client closes
          yield* c.close();
        }));
      }
      for (const t of conns) yield* join(t);
    });
    const clients: Conn[] = [];
    const dial: Task<Conn>[] = [];
    for (let i = 0; i < N; i++) dial.push(yield* spawn(function* () { return yield* connect({ hostname: HOST, port: l.port }); }));
    for (const t of dial) clients.push(yield* join(t));
    const open = (yield* netStats()).connections; // all pairs open at once
    const talk: Task<boolean>[] = [];
    for (let i = 0; i < N; i++) {
      const c = clients[i]!;
      talk.push(yield* spawn(function* () {
        yield* c.write(`${i}\n`);
        const ok = (yield* c.readLine()) === `echo ${i}`;
        yield* c.close();
        return ok;
      }));
    }
    let ok = 0;
    for (const t of talk) if (yield* join(t)) ok++;
    yield* join(srv);
    yield* l.close();
    return { ok, open };
  });
  expect(r.open).toBeGreaterThanOrEqual(2 * N);
  expect(r.ok).toBe(N);
}, 30_000);

test("a write refused on a closed connection is not counted: netStats() totals stay the sum of the connections' stats (found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("hello");
    yield* server.read();
    yield* client.close();
    let code = "";
    try {
      yield* client.write("late"); // refused at once: nothing is sent
    } catch (e) {
      code = (e as { code?: string }).code ?? String(e);
    }
    yield* server.close();
    const total = yield* netStats();
    return { code, client: client.stats().writeOps, sum: client.stats().writeOps + server.stats().writeOps, total: total.writeOps };
  });
  expect(r).toEqual({ code: "ERR_SOCKET_CLOSED", client: 1, sum: 1, total: 1 });
});

test("an op that throws in the driver fails alone: a read of another connection in the same batch goes on and gets its bytes (the whole batch failed, and those bytes were lost; found by review)", async () => {
  const r = await run(function* () {
    const a = yield* pair();
    const b = yield* pair();
    const handle = a.client.read().a; // the connection's handle, as a hand-made descriptor would carry it
    // Bytes whose every read throws: the driver's write throws on it (data of another type is refused before, see bun-drivers.test.ts).
    const poison = new Proxy(new Uint8Array(4), { get() { throw new Error("no bytes in here"); } });
    // Spawned in one step: both ops go out in one batch, the read of b first.
    const reader = yield* spawn(function* () { return new TextDecoder().decode((yield* b.server.read()) ?? new Uint8Array()); });
    const writer = yield* spawn(function* () {
      try { yield* io("tcp.write", handle, poison); return "written"; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
    });
    // An op given what is no socket of its kind (a listener's handle to read): its own error, alone too.
    const listener = yield* listen({ hostname: HOST, port: 0 });
    const misread = yield* spawn(function* () {
      try { yield* io("tcp.read", listener.accept().a); return "read"; } catch (e) { return (e as Error).name; }
    });
    const wrote = yield* join(writer);
    yield* b.client.write("important");
    const got = yield* moveOnAfter(2000, () => join(reader));
    yield* a.client.write("a still works");
    const onA = new TextDecoder().decode((yield* a.server.read()) ?? new Uint8Array());
    const misreadOutcome = yield* join(misread);
    yield* listener.close();
    for (const p of [a, b]) { yield* p.client.close(); yield* p.server.close(); }
    return { wrote, got, onA, misreadOutcome };
  });
  expect(r).toEqual({ wrote: "Error: no bytes in here", got: "important", onA: "a still works", misreadOutcome: "TypeError" });
});

test("stats().unsent: the bytes tasks wrote that a peer who does not read has left with the kernel, a timed-out write's included, back to 0 once it reads", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const big = new Uint8Array(16 << 20).fill(7);
    const before = client.stats().unsent;
    const timedOut = yield* moveOnAfter(20, () => client.write(big)); // the peer does not read: the write is cut short
    const stuck = client.stats().unsent; // still queued: a write handed over lands whole
    const total = (yield* netStats()).unsent; // and over every connection of the run (found by review: netStats had none)
    let n = 0;
    while (n < big.length) n += (yield* server.read())!.length;
    while (client.stats().unsent > 0) yield* sleep(1);
    const after = client.stats().unsent;
    yield* client.close();
    yield* server.close();
    return { before, timedOut, stuck, total, n, after };
  });
  expect(r.before).toBe(0);
  expect(r.timedOut).toBeUndefined();
  expect(r.stuck).toBeGreaterThan(0);
  expect(r.stuck).toBeLessThanOrEqual(16 << 20);
  expect(r.total).toBe(r.stuck);
  expect(r.n).toBe(16 << 20);
  expect(r.after).toBe(0);
});
