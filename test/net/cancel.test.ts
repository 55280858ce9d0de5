import { test, expect } from "bun:test";
import { run, spawn, join, sleep, cancel, interrupt, moveOnAfter, type Co, type Task } from "../../src/index.ts";
import { listen, connect, netStats, NetError, type Conn } from "../../src/net/index.ts";
import { HOST, pair } from "./helpers.ts";



test("cancelling a blocked read leaves the connection usable: the next read gets the data", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const reader = yield* spawn(function* () { return yield* server.read(); });
    yield* sleep(2);
    yield* cancel(reader);
    yield* client.write("after cancel");
    const got = new TextDecoder().decode((yield* server.read())!);
    yield* client.close();
    yield* server.close();
    return { state: reader.state, got };
  });
  expect(r).toEqual({ state: "cancelled", got: "after cancel" });
});

test("cancelling a blocked accept leaves the listener usable", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const acc = yield* spawn(function* () { return yield* l.accept(); });
    yield* sleep(2);
    yield* cancel(acc);
    const acc2 = yield* spawn(function* () { return yield* l.accept(); });
    const c = yield* connect({ hostname: HOST, port: l.port });
    const s = yield* join(acc2);
    yield* c.write("hi");
    const got = new TextDecoder().decode((yield* s.read())!);
    yield* c.close();
    yield* s.close();
    yield* l.close();
    return { state: acc.state, got };
  });
  expect(r).toEqual({ state: "cancelled", got: "hi" });
});

test("cancelling connects (waiting for a slot or in flight): queued ones never start, in-flight sockets are closed", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const dialers: Task<Conn>[] = [];
    for (let i = 0; i < 20; i++) dialers.push(yield* spawn(function* () { return yield* connect({ hostname: HOST, port: l.port, connectLimit: 2 }); }));
    yield; // the dialers submit their connects: 2 in flight, 18 wait for a slot
    const cancellers = [];
    for (const d of dialers) cancellers.push(yield* spawn(function* () { yield* cancel(d); })); // all in one tick
    for (const c of cancellers) yield* join(c);
    for (const d of dialers) if (d.state === "done") yield* d.result!.close();
    yield* sleep(20);
    const s = yield* netStats();
    // The listener still works; connections of cancelled dialers were closed (read null or reset).
    const acc = yield* spawn(function* () {
      for (;;) {
        const c = yield* l.accept();
        try { const b = yield* c.read(); if (b) return new TextDecoder().decode(b); } catch { /* reset */ }
        yield* c.close();
      }
    });
    const c = yield* connect({ hostname: HOST, port: l.port });
    yield* c.write("ok");
    const got = yield* join(acc);
    yield* c.close();
    yield* l.close();
    return { cancelled: dialers.filter((d) => d.state === "cancelled").length, started: s.connectsStarted, got };
  });
  expect(r.cancelled).toBeGreaterThanOrEqual(16);
  expect(r.started).toBeLessThan(20); // queued connects that were cancelled never started
  expect(r.got).toBe("ok");
});

test("cancelling a blocked write: its bytes still go, in order, and the connection stays usable", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const big = new Uint8Array(16 << 20).fill(7);
    const w = yield* spawn(function* () { return yield* client.write(big); });
    while (client.stats().writeOps === 0) yield* sleep(1);
    yield* sleep(5);
    const blocked = w.state === "waiting";
    yield* cancel(w);
    const w2 = yield* spawn(function* () { return yield* client.write("tail"); });
    let n = 0;
    let last = "";
    while (n < big.length + 4) {
      const b = (yield* server.read())!;
      n += b.length;
      last = new TextDecoder().decode(b.subarray(Math.max(0, b.length - 4)));
    }
    const wrote = yield* join(w2);
    yield* client.close();
    yield* server.close();
    return { blocked, state: w.state, n, last, wrote };
  });
  expect(r).toEqual({ blocked: true, state: "cancelled", n: (16 << 20) + 4, last: "tail", wrote: 4 });
});

test("when run() ends, blocked readers, accepters and writers are cancelled and every socket and listener is closed", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    yield* spawn(function* () { yield* l.accept(); yield* l.accept(); });
    const c = yield* connect({ hostname: HOST, port: l.port });
    yield* spawn(function* () { yield* c.read(); });
    yield* spawn(function* () { yield* c.write(new Uint8Array(32 << 20)); });
    yield* sleep(10);
    return l.port;
  });
  // The listener is gone: connecting now is refused.
  const e = await run(function* () {
    try { yield* connect({ hostname: HOST, port: r }); return "connected"; } catch (err) { return (err as { code: string }).code; }
  });
  expect(e).toBe("ECONNREFUSED");
});

test("a subprocess that listens, connects and leaves sockets open exits by itself when run() ends", async () => {
  const script = `
    import { run, spawn, sleep } from ${JSON.stringify(import.meta.dir + "/../../src/index.ts")};
    await run(function* () {
      const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
      yield* spawn(function* () { for (;;) { const c = yield* l.accept(); yield* spawn(function* () { yield* c.read(); }); } });
      const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
      yield* c.write("x");
      yield* sleep(20);
      console.log("main done");
    });
    import { listen, connect } from ${JSON.stringify(import.meta.dir + "/../../src/net/index.ts")};
  `;
  const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => p.kill(), 10_000);
  const code = await p.exited;
  clearTimeout(killer);
  const out = await new Response(p.stdout).text();
  expect(out.trim()).toBe("main done");
  expect(p.signalCode).toBeNull();
  expect(code).toBe(0);
});

test("an end() whose task is cancelled while bytes wait for room still sends its FIN after them; later writes fail", async () => {
  const out = await run(function* () {
    const { client, server } = yield* pair();
    const big = new Uint8Array(16 << 20).fill(7);
    const w = yield* spawn(function* () { yield* client.write(big); });
    const ender = yield* spawn(function* () { yield* client.end(); });
    yield* sleep(20);
    yield* cancel(ender); // a timeout around end(), say
    const total = yield* moveOnAfter(5000, function* () {
      let n = 0;
      for (;;) {
        const b = yield* server.read();
        if (b === null) return n;
        n += b.length;
      }
    });
    yield* join(w);
    let after = "ok";
    try {
      yield* client.write("more");
    } catch (e) {
      after = (e as NetError).code;
    }
    return { total, after };
  });
  expect(out).toEqual({ total: 16 << 20, after: "ERR_WRITE_AFTER_END" });
}, 20_000);
test("bytes unread() hands to a waiting reader cancelled in the same step are the reader's: the cancel is raised after it takes them", async () => {
  const out = await run(function* () {
    const { client, server } = yield* pair();
    let got = "nothing";
    const a = yield* spawn(function* () {
      const b = yield* server.read();
      got = new TextDecoder().decode(b!);
    });
    yield;
    yield; // a waits for bytes (its read was submitted at the end of the last tick)
    server.unread(new TextEncoder().encode("kept")); // handed to a...
    yield* cancel(a); // ...which is cancelled before it ran
    const next = yield* moveOnAfter(200, function* () { return yield* server.read(); });
    yield* client.close();
    yield* server.close();
    return { got, state: a.state, next: next === undefined ? "nothing more" : new TextDecoder().decode(next!) };
  });
  // a had the bytes before the cancel reached it, so it takes them; it returns before its next
  // yield, where the cancel would have been raised, so it ends done.
  expect(out).toEqual({ got: "kept", state: "done", next: "nothing more" });
});

test("TLS connects withdrawn before TCP connected close their sockets when it connects (the peer never answers the handshake; they stayed open; found by review)", async () => {
  let opened = 0;
  let closed = 0;
  // A TCP server that never speaks TLS: a handshake with it never finishes.
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void opened++, data: () => undefined, close: () => void closed++, error: () => undefined } });
  try {
    const states = await run(function* () {
      const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
      const acc = yield* spawn(() => l.accept());
      const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
      const s = yield* join(acc);
      const ts: Task<void>[] = [];
      for (let i = 0; i < 5; i++) {
        ts.push(yield* spawn(function* () {
          yield* connect({ hostname: "127.0.0.1", port: silent.port, tls: { rejectUnauthorized: false } });
        }));
      }
      const helper = yield* spawn(function* () {
        // This write completes inside the batch's submit, so the next step comes in the same
        // tick, right after the connects were started: they are withdrawn before TCP is up.
        yield* c.write("x");
        for (const t of ts) yield* interrupt(t, new Error("withdrawn"));
      });
      for (const t of ts) {
        try { yield* join(t); } catch { /* withdrawn */ }
      }
      yield* join(helper);
      yield* c.close();
      yield* s.close();
      yield* l.close();
      return ts.map((t) => t.state);
    });
    expect(states).toEqual(["failed", "failed", "failed", "failed", "failed"]);
    for (let i = 0; i < 50 && (opened < 5 || closed < opened); i++) await Bun.sleep(20);
    expect({ opened, closed }).toEqual({ opened: 5, closed: 5 });
  } finally {
    silent.stop(true);
  }
}, 10_000);
