/**
 * A hand-made udp.send descriptor whose payload is not [data, port, address] fails that op
 * alone, naming the task and the socket; the run and the socket's other sends go on.
 */
import { test, expect } from "bun:test";
import { run, io, spawn, join, udp, type Syscall } from "../../src/index.ts";

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
