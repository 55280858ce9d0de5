/**
 * BunReactor's drivers: a driver that throws, or a bad factory, fails its own ops only, and
 * no op it had taken completes unseen; register() refuses what is not ops and a factory. A
 * descriptor made by hand with bad data fails alone, naming the task: no hang, no failed run,
 * nothing on the wire.
 */
import { test, expect } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, io, spawn, join, sleep, listen, connect, open, udp, BunReactor, type Co, type Syscall } from "../../src/index.ts";

BunReactor.register(["test.throws"], () => ({
  submit() {
    throw new Error("driver boom");
  },
  cancel() {},
  close() {},
}));
BunReactor.register(["test.null-driver"], () => null as never);

/** The error `co` ends with, as "threw <message>". */
function* outcome(co: () => Co<unknown>): Co<string> {
  try {
    return `returned ${String(yield* co())}`;
  } catch (e) {
    return `threw ${(e as Error).message}`;
  }
}

test("a driver that throws fails its own ops, not a read on a socket in the same tick, whose bytes are not lost (found by review)", async () => {
  const got = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const s = yield* l.accept();
    const reader = yield* spawn(function* () {
      let seen = "";
      while (seen.length < 10) {
        const b = yield* c.read();
        if (b === null) return `${seen}EOF`;
        seen += new TextDecoder().decode(b);
      }
      return seen;
    });
    const bad = yield* spawn(() => outcome(function* () {
      return yield* io("test.throws");
    }));
    const badNull = yield* spawn(() => outcome(function* () {
      return yield* io("test.null-driver");
    }));
    expect(yield* join(bad)).toBe("threw driver boom");
    expect(yield* join(badNull)).toBe('threw BunReactor: the driver factory registered for I/O op "test.null-driver" returned null, not a driver { submit, cancel, close }');
    yield* s.write("hello");
    yield* sleep(30);
    yield* s.write("world");
    return yield* join(reader);
  });
  expect(got).toBe("helloworld"); // (in one read or two)
});

test("a file op on a handle that is not a file fails alone, naming it; a read of the file in the same tick is not touched (found by review)", async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), "corun-drivers-"));
  try {
    writeFileSync(joinPath(dir, "f.txt"), "hello world");
    const out = await run(function* () {
      const f = yield* open(joinPath(dir, "f.txt"));
      const good = yield* spawn(function* () {
        return new TextDecoder().decode((yield* f.read())!);
      });
      const bad = yield* spawn(() => outcome(function* () {
        return yield* io("file.read", null, 5);
      }));
      return { bad: yield* join(bad), good: yield* join(good), after: yield* f.read() };
    });
    expect(out.bad).toContain('file driver: task "');
    expect(out.bad).toContain("yielded file.read on null, which is not a File's handle");
    expect(out.good).toBe("hello world");
    expect(out.after).toBeNull();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("register() refuses ops that are not an array of names, and a factory that is not a function", () => {
  expect(() => BunReactor.register("xyz" as never, () => null as never)).toThrow('BunReactor.register(ops, factory): ops must be an array of op names (non-empty strings), got "xyz"');
  expect(() => BunReactor.register([""], () => null as never)).toThrow("ops must be an array of op names");
  expect(() => BunReactor.register(["test.op"], 42 as never)).toThrow("factory must be a function returning a driver { submit, cancel, close }, got number");
});

test("file.write of a number (a descriptor made by hand) fails that op only, with a TypeError naming it; the same tick's other writes land (the run hung before)", async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), "corun-handmade-"));
  try {
    const out = await run(function* () {
      const good = yield* open(joinPath(dir, "good.txt"), "w");
      const bad = yield* open(joinPath(dir, "bad.txt"), "w");
      const handle = (bad.write("x") as unknown as Syscall<unknown>).a; // the File's handle, as a hand-made descriptor would take it
      const a = yield* spawn(function* () {
        yield* good.write("hello");
        return "ok";
      });
      const b = yield* spawn(function* () {
        try {
          yield* io("file.write", handle, 5);
          return "written";
        } catch (error) {
          return String(error);
        }
      });
      const results = [yield* join(a), yield* join(b)];
      yield* bad.write("after");
      yield* good.close();
      yield* bad.close();
      return results;
    });
    expect(out[0]).toBe("ok");
    expect(out[1]).toContain("TypeError");
    expect(out[1]).toContain("5");
    expect(readFileSync(joinPath(dir, "good.txt"), "utf8")).toBe("hello");
    expect(readFileSync(joinPath(dir, "bad.txt"), "utf8")).toBe("after");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("udp.send made by hand with a bad payload fails that op with a TypeError; other sends of the tick are delivered (the run failed before)", async () => {
  const out = await run(function* () {
    const a = yield* udp({ port: 0 });
    const b = yield* udp({ port: 0 });
    const handle = (a.send("x", b.port) as unknown as Syscall<unknown>).a; // the socket's handle, as a hand-made descriptor would take it
    const attempt = (payload: unknown) => function* () {
      try {
        yield* io("udp.send", handle, payload);
        return "sent";
      } catch (error) {
        return String(error);
      }
    };
    const good = yield* spawn(function* () {
      return yield* a.send("ok", b.port);
    });
    const bad = [5, [5, b.port, "127.0.0.1"], ["x", 0, "127.0.0.1"], ["x", b.port, "not-an-address"]];
    const tasks = [];
    for (const payload of bad) tasks.push(yield* spawn(attempt(payload)));
    const errors: string[] = [];
    for (const t of tasks) errors.push(yield* join(t));
    const sent = yield* join(good);
    const got = yield* b.recv();
    yield* a.send("after", b.port);
    const after = yield* b.recv();
    yield* a.close();
    yield* b.close();
    return { sent, errors, got: new TextDecoder().decode(got.data), after: new TextDecoder().decode(after.data) };
  });
  expect(out.sent).toBe(true);
  expect(out.got).toBe("ok");
  expect(out.after).toBe("after");
  for (const e of out.errors) {
    expect(e).toStartWith('TypeError: udp driver: task "');
    expect(e).toContain("[data (a string or Uint8Array), port (1-65535), address (an IP address)] (a descriptor made by hand?)");
  }
  expect(out.errors[0]).toContain("with number, not [");
});

test("tcp.write of a number or an object made by hand fails with a TypeError and sends nothing; the connection goes on", async () => {
  const out = await run(function* () {
    const l = yield* listen({ port: 0, hostname: "127.0.0.1" });
    const client = yield* connect({ port: l.port, hostname: "127.0.0.1" });
    const server = yield* l.accept();
    const handle = (client.write("x") as unknown as Syscall<unknown>).a; // the connection's handle, as a hand-made descriptor would take it
    const errors: string[] = [];
    for (const data of [5, { a: 1 }, null]) {
      const t = yield* spawn(function* () {
        try {
          yield* io("tcp.write", handle, data);
          return "written";
        } catch (error) {
          return String(error);
        }
      });
      errors.push(yield* join(t));
    }
    yield* client.write("ok");
    yield* client.close();
    let got = "";
    for (let chunk = yield* server.read(); chunk !== null; chunk = yield* server.read()) got += new TextDecoder().decode(chunk);
    yield* server.close();
    yield* l.close();
    return { errors, got };
  });
  expect(out.got).toBe("ok");
  expect(out.errors).toHaveLength(3);
  for (const e of out.errors) {
    expect(e).toStartWith('TypeError: tcp driver: task "');
    expect(e).toContain("the data must be a string or bytes (a descriptor made by hand?)");
  }
  expect(out.errors[0]).toContain("with number:");
});
