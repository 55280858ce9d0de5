import { test, expect } from "bun:test";
import { run, spawn, join, sleep, moveOnAfter, type Co } from "../../src/index.ts";
import { listen, connect, NetError, type Conn } from "../../src/net/index.ts";
import { HOST, pair } from "./helpers.ts";
import { hostPort } from "../../src/net/errors.ts";


function* caught(co: Co<unknown>): Co<NetError> {
  try {
    yield* co;
  } catch (e) {
    if (e instanceof NetError) return e;
    throw e;
  }
  throw new Error("expected a NetError, nothing was thrown");
}

/** A port nothing listens on: bind one, note it, close it. */
function* freePort(): Co<number> {
  const l = yield* listen({ hostname: HOST, port: 0 });
  const p = l.port;
  yield* l.close();
  return p;
}

test("connection refused throws NetError ECONNREFUSED naming the task and address", async () => {
  const e = await run(function* () {
    const port = yield* freePort();
    const t = yield* spawn(function* () {
      return yield* caught((function* () { yield* connect({ hostname: HOST, port }); })());
    }, { name: "dialer" });
    return { e: yield* join(t), port };
  });
  expect(e.e.code).toBe("ECONNREFUSED");
  expect(e.e.taskName).toBe("dialer");
  expect(e.e.message).toContain(`127.0.0.1:${e.port}`);
  expect(e.e.message).toContain("dialer");
});

test("address in use throws NetError EADDRINUSE", async () => {
  const e = await run(function* () {
    const a = yield* listen({ hostname: HOST, port: 0 });
    return yield* caught((function* () { yield* listen({ hostname: HOST, port: a.port }); })());
  });
  expect(e.code).toBe("EADDRINUSE");
});

test("accept on a closed listener, and a pending accept when it closes, throw ERR_SOCKET_CLOSED", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const waiting = yield* spawn(() => caught((function* () { yield* l.accept(); })()));
    yield* sleep(1);
    yield* l.close();
    const pending = yield* join(waiting);
    const after = yield* caught((function* () { yield* l.accept(); })());
    yield* l.close(); // twice is harmless
    return [pending.code, after.code];
  });
  expect(r).toEqual(["ERR_SOCKET_CLOSED", "ERR_SOCKET_CLOSED"]);
});


test("write after end, write/read after close: clear errors", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.end();
    const w1 = yield* caught((function* () { yield* client.write("late"); })());
    expect(yield* server.read()).toBeNull(); // the FIN arrived
    yield* server.close();
    const w2 = yield* caught((function* () { yield* server.write("x"); })());
    const r2 = yield* caught((function* () { yield* server.read(); })());
    yield* client.close();
    return [w1.code, w2.code, r2.code, w1.message];
  });
  expect(r.slice(0, 3)).toEqual(["ERR_WRITE_AFTER_END", "ERR_SOCKET_CLOSED", "ERR_SOCKET_CLOSED"]);
  expect(r[3]).toContain("tcp.write");
});

test("peer reset: the pending read throws ECONNRESET, then writes fail too", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const reader = yield* spawn(() => caught((function* () { yield* server.read(); })()), { name: "reader" });
    yield* sleep(5);
    yield* client.abort();
    const e = yield* join(reader);
    const w = yield* caught((function* () {
      // The first write may still be accepted by the kernel before it sees the RST; keep writing.
      for (let i = 0; i < 100; i++) { yield* server.write("after reset"); yield* sleep(1); }
    })());
    return [e.code, e.taskName, w.code];
  });
  expect(r[0]).toBe("ECONNRESET");
  expect(r[1]).toBe("reader");
  expect(["ECONNRESET", "EPIPE"]).toContain(r[2]!);
});

test("end() after the peer reset the connection reports the reset", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const reader = yield* spawn(() => caught((function* () { yield* server.read(); })()));
    yield* sleep(5);
    yield* client.abort();
    yield* join(reader); // the reset has arrived
    const e = yield* caught((function* () { yield* server.end(); })());
    return { code: e.code, message: e.message };
  });
  expect(r.code).toBe("ECONNRESET");
  // Named once, for this op and task: not a nested copy of the socket's stored error.
  expect(r.message.startsWith("tcp.end ")).toBe(true);
  expect(r.message.split(" in task ").length).toBe(2);
  expect(r.message).not.toContain("(socket)");
});

test("a pending write whose peer resets throws instead of hanging", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    // client never reads: a large write fills both buffers and waits for drain.
    const writer = yield* spawn(() => caught((function* () { yield* server.write(new Uint8Array(64 << 20)); })()), { name: "writer" });
    yield* sleep(20);
    yield* client.abort();
    const e = yield* join(writer);
    return [e.code, e.taskName, e.op];
  });
  expect(["ECONNRESET", "EPIPE"]).toContain(r[0]!);
  expect(r.slice(1)).toEqual(["writer", "tcp.write"]); // the waiting write's task and op, not "(socket)"
});

test("bad arguments throw at the call, naming the problem", async () => {
  await run(function* () {
    expect(() => connect({ hostname: HOST, port: 0 })).toThrow(/port must be an integer 1..65535/);
    expect(() => listen({ hostname: HOST, port: 70000 })).toThrow(/port/);
    expect(() => listen(null as never)).toThrow(/expected \{ hostname, port \}/);
    // tls: null was a plain TCP connect, silently (listen() refuses it); found by review.
    for (const bad of [null, "yes", [], 1]) {
      expect(() => connect({ hostname: HOST, port: 1, tls: bad as never })).toThrow(`connect(options): tls must be true, false or an object of TLS options such as { serverName, ca }, got ${bad === null ? "null" : JSON.stringify(bad)}`);
    }
    const { client, server } = yield* pair();
    expect(() => client.write(42 as never)).toThrow(/Uint8Array or a string/);
    // Named as file.write and udp.send name it, not "got object" (found by review).
    expect(() => client.write(new Int32Array(2) as never)).toThrow("conn.write(data): expected a Uint8Array or a string, got [object Int32Array]");
    yield* client.close();
    yield* server.close();
  });
});

test("unread() of anything but bytes is a TypeError naming the connection: a string put back broke every op of a later batch (found by review)", async () => {
  const errors = await run(function* () {
    const { client, server } = yield* pair();
    const out: string[] = [];
    for (const bad of ["zz", 42, null, [1, 2]]) {
      try { server.unread(bad as never); out.push("accepted"); } catch (e) { out.push(`${(e as Error).name}: ${(e as Error).message}`); }
    }
    yield* client.close();
    yield* server.close();
    return out;
  });
  expect(errors).toHaveLength(4);
  for (const [i, got] of ['"zz"', "42", "null", "[1,2]"].entries()) {
    expect(errors[i]).toStartWith("TypeError: conn.unread(bytes) on ");
    expect(errors[i]).toEndWith(`: expected a Uint8Array, got ${got}`);
  }
});

test("readUntil() with a delimiter neither a string nor bytes is a TypeError, and takes nothing: it read on without limit, past maxBytes (found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("abc\n" + "x".repeat(100)); // a delimiter at byte 3; the peer stays open
    let error = "";
    try {
      error = (yield* moveOnAfter(500, () => server.readUntil(10 as never, 8))) === undefined ? "still reading after 500 ms" : "returned";
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    }
    const line = yield* moveOnAfter(500, () => server.readLine()); // nothing was taken: the bytes are all there
    yield* client.close();
    yield* server.close();
    return { error, line };
  });
  expect(r).toEqual({ error: "TypeError: readUntil(delimiter): the delimiter must be a string or a Uint8Array, got 10", line: "abc" });
});

test("after abort(), bytes that came and were not read are dropped: a read fails as after close() (found by review)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    yield* client.write("unread");
    for (let i = 0; i < 500 && !server.hasInput; i++) yield* sleep(1);
    const had = server.hasInput;
    yield* server.abort();
    const e = yield* caught((function* () { yield* server.read(); })());
    yield* client.close();
    return { had, code: e.code };
  });
  expect(r).toEqual({ had: true, code: "ERR_SOCKET_CLOSED" });
});

test("hostPort names an IPv6 address in brackets, as an accepted connection's name already was (found by review: connects, listeners and their errors said ::1:8080)", () => {
  expect(hostPort("127.0.0.1", 8080)).toBe("127.0.0.1:8080");
  expect(hostPort("::1", 8080)).toBe("[::1]:8080");
  expect(hostPort("fe80::1%eth0", 0)).toBe("[fe80::1%eth0]:0");
  expect(hostPort("localhost", 1)).toBe("localhost:1");
});

test("a host error whose own words already say what the code means is not explained twice (found by review: 'connection reset by peer; ECONNRESET: connection reset by peer, read')", async () => {
  const { toNetError } = await import("../../src/net/errors.ts");
  const reset = Object.assign(new Error("ECONNRESET: connection reset by peer, read"), { code: "ECONNRESET" });
  const refused = Object.assign(new Error("ECONNREFUSED: connection refused, connect"), { code: "ECONNREFUSED" });
  expect(toNetError(reset, "tcp.read", "127.0.0.1:1", "t").detail).toBe("ECONNRESET: connection reset by peer, read");
  expect(toNetError(refused, "tcp.connect", "127.0.0.1:1", "t").detail).toBe("connection refused: nothing listens there; ECONNREFUSED: connection refused, connect");
});
