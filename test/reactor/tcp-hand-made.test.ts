/**
 * A hand-made tcp.write descriptor whose data is not a string or bytes fails that op alone,
 * naming the task and the connection; nothing of it goes out (its text form went out before).
 */
import { test, expect } from "bun:test";
import { run, io, spawn, join, listen, connect, type Syscall } from "../../src/index.ts";

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
