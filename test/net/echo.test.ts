import { test, expect } from "bun:test";
import { run, spawn, join, type Co } from "../../src/index.ts";
import { listen, connect, type Conn, type Listener } from "../../src/net/index.ts";

const HOST = "127.0.0.1";

function* echo(c: Conn): Co<void> {
  for (;;) {
    const b = yield* c.read();
    if (b === null) break;
    yield* c.write(b);
  }
  yield* c.close();
}

test("echo round trip", async () => {
  const got = await run(function* () {
    const server: Listener = yield* listen({ hostname: HOST, port: 0 });
    expect(server.port).toBeGreaterThan(0);
    yield* spawn(function* () {
      const c = yield* server.accept();
      yield* echo(c);
    });
    const c = yield* connect({ hostname: HOST, port: server.port });
    yield* c.write("hello ");
    yield* c.write(new TextEncoder().encode("world\n"));
    const line = yield* c.readLine();
    yield* c.close();
    yield* server.close();
    return line;
  });
  expect(got).toBe("hello world");
});

test("half-close: end() sends FIN, the peer reads null and can still reply", async () => {
  const reply = await run(function* () {
    const server = yield* listen({ hostname: HOST, port: 0 });
    const srv = yield* spawn(function* () {
      const c = yield* server.accept();
      const all = yield* c.readAll();
      yield* c.write(`got ${all.length} bytes`);
      yield* c.close();
    });
    const c = yield* connect({ hostname: HOST, port: server.port });
    yield* c.write("x".repeat(1000));
    yield* c.end();
    const r = new TextDecoder().decode(yield* c.readAll());
    yield* join(srv);
    yield* c.close();
    return r;
  });
  expect(reply).toBe("got 1000 bytes");
});
