/**
 * Closing a connection more than once, from one task or from two in the same tick.
 */
import { test, expect } from "bun:test";
import { run, spawn, join, sleep, cancel, listen, connect } from "../../src/index.ts";

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
