import { test, expect } from "bun:test";
import { createHash } from "node:crypto";
import { run, spawn, join, type Co } from "../../src/index.ts";
import { listen, connect, type Conn } from "../../src/net/index.ts";

const HOST = "127.0.0.1";
const SIZE = 64 << 20;

function pattern(seed: number): Uint8Array {
  const b = new Uint8Array(1 << 20);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Send SIZE bytes in 1 MiB writes of varying content; return the sha256 of what was sent. */
function* sendAll(c: Conn, seed: number): Co<string> {
  const h = createHash("sha256");
  const block = pattern(seed);
  for (let sent = 0, i = 0; sent < SIZE; sent += block.length, i++) {
    const chunk = block.slice();
    chunk[0] = i & 0xff;
    h.update(chunk);
    yield* c.write(chunk);
  }
  yield* c.end();
  return h.digest("hex");
}

function* hashAll(c: Conn): Co<[string, number]> {
  const h = createHash("sha256");
  let n = 0;
  for (;;) {
    const b = yield* c.read();
    if (b === null) break;
    h.update(b);
    n += b.length;
  }
  return [h.digest("hex"), n];
}

test("64 MiB each way at once, verified by sha256", async () => {
  const r = await run(function* () {
    const server = yield* listen({ hostname: HOST, port: 0 });
    const srv = yield* spawn(function* () {
      const c = yield* server.accept();
      const tx = yield* spawn(() => sendAll(c, 7));
      const rx = yield* hashAll(c);
      const sent = yield* join(tx);
      yield* c.close();
      return { sent, rx };
    });
    const c = yield* connect({ hostname: HOST, port: server.port });
    const tx = yield* spawn(() => sendAll(c, 11));
    const rx = yield* hashAll(c);
    const sent = yield* join(tx);
    yield* c.close();
    const s = yield* join(srv);
    return { clientSent: sent, clientGot: rx, serverSent: s.sent, serverGot: s.rx };
  });
  expect(r.clientGot[1]).toBe(SIZE);
  expect(r.serverGot[1]).toBe(SIZE);
  expect(r.serverGot[0]).toBe(r.clientSent);
  expect(r.clientGot[0]).toBe(r.serverSent);
}, 30_000);
