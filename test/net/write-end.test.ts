import { test, expect } from "bun:test";
import { run, spawn, join, sleep, cancel, moveOnAfter, type Co } from "../../src/index.ts";
import type { Conn } from "../../src/net/index.ts";
import { pair } from "./helpers.ts";

/** Read everything until the peer's FIN (within 5 s); the bytes, joined. */
function* readToEnd(conn: Conn): Co<Uint8Array> {
  const parts: Uint8Array[] = [];
  yield* moveOnAfter(5000, function* () {
    for (;;) {
      const b = yield* conn.read();
      if (b === null) return;
      parts.push(b);
    }
  });
  return new Uint8Array(Buffer.concat(parts));
}

test("a second end() while the first waits for room returns only once the FIN has gone, after every byte", async () => {
  const out = await run(function* () {
    const { client, server } = yield* pair();
    const size = 16 << 20;
    const w = yield* spawn(function* () { yield* client.write(new Uint8Array(size).fill(7)); });
    const first = yield* spawn(function* () { yield* client.end(); });
    yield* sleep(5); // the write waits for room; the first end() waits behind it
    const second = yield* spawn(function* () {
      yield* client.end();
      return client.stats().bytesWritten; // the FIN goes after the last byte, so all of them are out
    });
    const got = yield* readToEnd(server);
    const writtenAtSecondEnd = yield* join(second);
    yield* join(first);
    yield* join(w);
    yield* client.close();
    yield* server.close();
    return { writtenAtSecondEnd, got: got.length };
  });
  expect(out).toEqual({ writtenAtSecondEnd: 16 << 20, got: 16 << 20 });
}, 20_000);

test("a cancelled write's unsent bytes are the bytes it was given, even if the caller reuses the buffer afterwards", async () => {
  const out = await run(function* () {
    const { client, server } = yield* pair();
    const size = 16 << 20;
    const buf = new Uint8Array(size).fill(1);
    const w = yield* spawn(function* () { yield* client.write(buf); });
    yield* sleep(5); // most of it waits for room
    yield* cancel(w); // a timeout around the write, say
    buf.fill(2); // the caller's buffer is theirs again once the write returned
    const reader = yield* spawn(readToEnd(server));
    yield* client.end();
    const got = yield* join(reader);
    yield* client.close();
    yield* server.close();
    return { length: got.length, twos: got.indexOf(2) };
  });
  expect(out).toEqual({ length: 16 << 20, twos: -1 });
}, 20_000);
