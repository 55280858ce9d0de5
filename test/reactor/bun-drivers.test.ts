/**
 * BunReactor's drivers: a driver that throws, or a bad factory, fails its own ops only, and
 * no op it had taken completes unseen; register() refuses what is not ops and a factory.
 */
import { test, expect } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, io, spawn, join, sleep, listen, connect, open, BunReactor, type Co } from "../../src/index.ts";

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
