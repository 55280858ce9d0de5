/** Bad input found by a review sweeping the public API: each is a clear error at the call, naming the argument. */
import { expect, test } from "bun:test";
import { run, listen, httpServer } from "../../src/index.ts";

const handler = function* () { return { body: "x" }; };

// httpServer(listener, ...) with a listener that is not a Listener: forgetting the yield* in
// httpServer(listen({ port: 0 }), handler) hands it a Syscall descriptor. Expected: a TypeError
// naming the argument at the call. Observed: accepted; the server's url getter then throws
// "undefined is not an object (evaluating 'host.includes')" and its close
// "this.#listener.close is not a function", and run() rejects with those.
test("httpServer(listen(...) without yield*, handler) is refused naming the listener", async () => {
  const out = await run(function* () {
    try {
      const s = yield* httpServer(listen({ hostname: "127.0.0.1", port: 0 }) as never, handler);
      yield* s.close();
      return "accepted";
    } catch (e) {
      return (e as Error).message;
    }
  }).catch((e: Error) => `run rejected: ${e.message}`);
  expect(out).toMatch(/httpServer\(listener/);
});

test("httpServer(undefined, handler) names the argument, not 'undefined is not an object'", async () => {
  const out = await run(function* () {
    try { yield* httpServer(undefined as never, handler); return "accepted"; } catch (e) { return (e as Error).message; }
  });
  expect(out).toMatch(/httpServer\(listener/);
});

test("httpServer(listener, handler, null) names the options", async () => {
  const out = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    try { const s = yield* httpServer(l, handler, null as never); yield* s.close(); return "accepted"; } catch (e) { return (e as Error).message; } finally { yield* l.close(); }
  });
  expect(out).toMatch(/httpServer\(.*options/);
});
