import { test, expect } from "bun:test";
import { run, spawn, join, cancel, sleep } from "../../src/index.ts";
import { udp, NetError } from "../../src/net/index.ts";

test("UDP round trip", async () => {
  const r = await run(function* () {
    const a = yield* udp({ port: 0 });
    const b = yield* udp({ port: 0 });
    const echo = yield* spawn(function* () {
      const d = yield* b.recv();
      yield* b.send(d.data, d.port, d.address);
    });
    yield* a.send("ping", b.port, "127.0.0.1");
    const back = yield* a.recv();
    yield* join(echo);
    yield* a.close();
    yield* b.close();
    return { text: new TextDecoder().decode(back.data), from: back.port, bPort: b.port };
  });
  expect(r.text).toBe("ping");
  expect(r.from).toBe(r.bPort);
});

test("datagrams sent in one tick go out through one sendMany", async () => {
  const r = await run(function* () {
    const a = yield* udp({ port: 0 });
    const b = yield* udp({ port: 0 });
    const senders = [];
    for (let i = 0; i < 200; i++) senders.push(yield* spawn(function* () { yield* a.send(`d${i}`, b.port); }));
    for (const s of senders) yield* join(s);
    const got = new Set<string>();
    while (got.size < 200) got.add(new TextDecoder().decode((yield* b.recv()).data));
    const s = a.stats();
    yield* a.close();
    yield* b.close();
    return { s, got: got.size };
  });
  expect(r.got).toBe(200);
  expect(r.s.sendOps).toBe(200);
  expect(r.s.hostSends).toBe(1);
  expect(r.s.sent).toBe(200);
});

test("a cancelled recv leaves the socket usable; recv on a closed socket fails", async () => {
  const r = await run(function* () {
    const a = yield* udp({ port: 0 });
    const b = yield* udp({ port: 0 });
    const waiting = yield* spawn(function* () { return yield* b.recv(); });
    yield* sleep(2);
    yield* cancel(waiting);
    yield* a.send("after", b.port);
    const d = yield* b.recv();
    yield* b.close();
    let code = "";
    try { yield* b.recv(); } catch (e) { code = (e as NetError).code; }
    return { text: new TextDecoder().decode(d.data), code, state: waiting.state };
  });
  expect(r).toEqual({ text: "after", code: "ERR_SOCKET_CLOSED", state: "cancelled" });
});
