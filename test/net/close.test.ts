/**
 * Closing a connection: more than once, from one task or from two in the same tick; with the
 * peer's bytes unread (all ours still delivered); the wait for the peer's FIN, bounded, and
 * cut short by abort() or the run's end.
 */
import { test, expect } from "bun:test";
import { run, spawn, join, sleep, cancel, wait, timeout, listen, connect, netStats, type NetError } from "../../src/index.ts";

/** Resolve with "hang" if `p` takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | "hang"> {
  return Promise.race([p, new Promise<"hang">((r) => setTimeout(() => r("hang"), ms))]);
}

test("a second conn.close() completes (documented: closing twice is harmless)", async () => {
  const outcome = await within(
    run(function* () {
      const server = yield* listen({ hostname: "127.0.0.1", port: 0 });
      const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
      yield* c.close();
      const t = yield* spawn(function* () {
        yield* c.close(); // TcpHandle.close returns early when already closed, never completing the ticket
        return "closed twice";
      });
      yield* sleep(200);
      const state = t.state;
      yield* cancel(t);
      return state;
    }),
    2000,
  );
  expect(outcome).toBe("done");
});

test("two tasks closing one connection in the same tick both return", async () => {
  const outcome = await within(
    run(function* () {
      const server = yield* listen({ hostname: "127.0.0.1", port: 0 });
      const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
      const a = yield* spawn(function* () { yield* c.close(); return "a"; });
      const b = yield* spawn(function* () { yield* c.close(); return "b"; });
      yield* sleep(100);
      return [a.state, b.state].join(",");
    }),
    2000,
  );
  expect(outcome).toBe("done,done");
});

test("peer addresses are read on first use and kept after the connection closes", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const acc = yield* spawn(function* () { return yield* l.accept(); });
    const client = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const server = yield* join(acc);
    const seen = { clientSees: `${client.remoteAddress}:${client.remotePort}`, serverSees: server.remoteAddress, port: l.port };
    yield* client.close();
    const later = { clientSees: `${client.remoteAddress}:${client.remotePort}` }; // kept from the first read
    yield* server.close();
    yield* l.close();
    return { seen, later };
  });
  expect(r.seen.clientSees).toBe(`127.0.0.1:${r.seen.port}`);
  expect(r.seen.serverSees).toBe("127.0.0.1");
  expect(r.later.clientSees).toBe(`127.0.0.1:${r.seen.port}`);
});

/**
 * A server that does not read the client's upload (its socket pauses at a small mark, the rest
 * stays in the kernel), answers `size` bytes and closes: what the client reads, and how it ends.
 */
function* answerAndClose(size: number) {
  const l = yield* listen({ hostname: "127.0.0.1", port: 0, highWaterMark: 1024 });
  const acc = yield* spawn(() => l.accept());
  const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
  const s = yield* join(acc);
  const up = yield* spawn(function* () {
    try {
      yield* c.write(new Uint8Array(256 << 10));
    } catch {
      // reset: the answer below says so too
    }
  });
  yield* sleep(50);
  const answer = yield* spawn(function* () {
    yield* s.write(new Uint8Array(size).fill(1));
    yield* s.close(); // the write returned: the kernel took every byte
  });
  let got = 0;
  let end = "null";
  try {
    yield* timeout(5000, function* () {
      for (let b = yield* c.read(); b !== null; b = yield* c.read()) got += b.length;
    });
  } catch (e) {
    end = (e as NetError).code ?? String(e);
  }
  yield* join(answer);
  yield* join(up);
  yield* c.close();
  yield* l.close();
  return { got, end, paused: s.stats().pauses > 0 };
}

test.each([64 << 10, 1 << 20])("close() with the peer's bytes unread delivers all %p bytes written, then a clean end (it reset the connection; found by review)", async (size) => {
  const r = await run(() => answerAndClose(size));
  expect(r).toEqual({ got: size, end: "null", paused: true });
}, 20_000);

test("a connection closed here waits for the peer's FIN only so long: a peer that never sends one gets our bytes and EOF, and the socket goes", async () => {
  let peerGot = "";
  let peerEnded = false;
  const r = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0, closeLingerMs: 100 });
    // A peer outside the run that reads but never closes its side.
    const peer = yield* wait(Bun.connect({ hostname: "127.0.0.1", port: l.port, allowHalfOpen: true, socket: { data: (_s, d) => void (peerGot += d.toString()), end: () => void (peerEnded = true), error: () => undefined } }));
    const s = yield* l.accept();
    yield* s.write("bye");
    yield* s.close();
    const lingering = (yield* netStats()).connections;
    for (let i = 0; i < 100 && (yield* netStats()).connections > 0; i++) yield* sleep(10);
    const after = (yield* netStats()).connections;
    peer.end();
    yield* l.close();
    return { lingering, after };
  });
  expect(r).toEqual({ lingering: 1, after: 0 });
  expect({ peerGot, peerEnded }).toEqual({ peerGot: "bye", peerEnded: true });
}, 10_000);

test("abort() of a connection closed and waiting for the peer's FIN resets it at once, and the run's end does not wait for that FIN", async () => {
  const peers: { end(): void }[] = [];
  let ranFor = 0;
  const r = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    peers.push(yield* wait(Bun.connect({ hostname: "127.0.0.1", port: l.port, allowHalfOpen: true, socket: { data: () => undefined, error: () => undefined } })));
    const a = yield* l.accept();
    yield* a.close();
    const before = (yield* netStats()).connections; // waits for a FIN that never comes (2 s)
    yield* a.abort();
    const afterAbort = (yield* netStats()).connections;
    peers.push(yield* wait(Bun.connect({ hostname: "127.0.0.1", port: l.port, allowHalfOpen: true, socket: { data: () => undefined, error: () => undefined } })));
    const b = yield* l.accept();
    yield* b.close(); // left waiting when the run ends
    ranFor = performance.now();
    return { before, afterAbort };
  });
  const ending = performance.now() - ranFor; // from main's end to run()'s settling
  for (const p of peers) p.end();
  expect(r).toEqual({ before: 1, afterAbort: 0 });
  expect(ending).toBeLessThan(1000); // not the 2 s FIN wait
}, 10_000);

test("an end() waiting for drain when close() comes returns once the FIN goes, and fails if close()'s linger resets the connection instead (it reported success; found by review)", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0, highWaterMark: 1024 });
    const accepting = yield* spawn(function* () { return yield* l.accept(); });
    const c = yield* connect({ hostname: "127.0.0.1", port: l.port, closeLingerMs: 100 });
    const s = yield* join(accepting);
    const writer = yield* spawn(function* () { try { yield* c.write(new Uint8Array(8 << 20)); return "ok"; } catch (e) { return (e as NetError).code; } });
    yield* sleep(20);
    const ender = yield* spawn(function* () { try { yield* c.end(); return "ended"; } catch (e) { return (e as NetError).code; } });
    yield* sleep(20);
    yield* c.close(); // the peer reads nothing: after 100 ms the connection is reset
    const [end, write] = [yield* join(ender), yield* join(writer)];
    let peer = "";
    try { for (;;) { const b = yield* s.read(); if (!b) { peer = "eof"; break; } } } catch (e) { peer = (e as NetError).code; }
    yield* s.close();
    yield* l.close();
    return { end, write, peer };
  });
  expect(r).toEqual({ end: "ETIMEDOUT", write: "ETIMEDOUT", peer: "ECONNRESET" });
});

test("an end() waiting for drain when close() comes returns once the peer has taken the bytes and the FIN has gone", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0, highWaterMark: 1024 });
    const accepting = yield* spawn(function* () { return yield* l.accept(); });
    const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const s = yield* join(accepting);
    const writer = yield* spawn(function* () { yield* c.write(new Uint8Array(4 << 20)); return "ok"; });
    yield* sleep(20);
    let ended = false;
    const ender = yield* spawn(function* () { yield* c.end(); ended = true; });
    yield* sleep(20);
    yield* c.close();
    const endedBeforeRead = ended;
    const got = (yield* s.readAll(8 << 20)).length; // the peer reads: the bytes drain, then the FIN
    yield* join(ender);
    yield* join(writer);
    yield* s.close();
    yield* l.close();
    return { endedBeforeRead, got, ended };
  });
  expect(r).toEqual({ endedBeforeRead: false, got: 4 << 20, ended: true });
});

test("unread() after close() keeps nothing and does not pause the socket: the peer's FIN still ends the wait at once (it waited the full 2 s; found by review)", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const peer = yield* spawn(function* () {
      const s = yield* l.accept();
      yield* s.write(new Uint8Array(64 * 1024));
      while ((yield* s.read()) !== null);
      yield* s.close();
    });
    const c = yield* connect({ hostname: "127.0.0.1", port: l.port, highWaterMark: 1024 });
    let got = 0;
    let last: Uint8Array | null = null;
    while (got < 64 * 1024) {
      last = (yield* c.read())!;
      got += last.length;
    }
    yield* c.close();
    c.unread(last!);
    yield* join(peer);
    const t0 = performance.now();
    while ((yield* netStats()).connections > 0 && performance.now() - t0 < 5000) yield* sleep(10);
    const stats = yield* netStats();
    yield* l.close();
    return { quick: performance.now() - t0 < 1000, buffered: stats.buffered };
  });
  expect(r).toEqual({ quick: true, buffered: 0 });
}, 20_000);
