/** Bad input found by a review sweeping the public API: each is a clear error at the call, naming the argument. */
import { expect, test } from "bun:test";
import { run, listen, httpServer, serve, connect, type Co } from "../../src/index.ts";

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


/** Serve one GET with `handler` and return the status line and what onError was told. */
function* answerOnce(handler: () => unknown): Co<{ status: string; errors: string[] }> {
  const errors: string[] = [];
  const server = yield* serve({ handler: handler as never, onError: (e: unknown) => void errors.push(String(e)) });
  const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
  yield* c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const all = new TextDecoder().decode(yield* c.readAll());
  yield* c.close();
  yield* server.close();
  return { status: all.split("\r\n")[0]!, errors };
}

// Found by review: each of these was an empty 200, unreported (no field of a response's, so none refused).
for (const [what, make, says] of [
  ["a promise (a forgotten yield* wait)", () => Promise.resolve("x"), "a handler returned a promise"],
  ["an Error (returned instead of thrown)", () => new Error("oops"), "throw an error rather than return it"],
  ["a Map", () => new Map([["status", 404]]), "a handler returned [object Map], not a response"],
  ["a Date", () => new Date(), "a handler returned [object Date], not a response"],
] as const) {
  test(`a handler that returns ${what} gets a 500 reported to onError, not an empty 200`, async () => {
    const r = await run(function* () {
      return yield* answerOnce(function* () {
        return (make as () => unknown)();
      });
    });
    expect(r.status).toBe("HTTP/1.1 500 Internal Server Error");
    expect(r.errors.length).toBe(1);
    expect(r.errors[0]).toContain(says);
  });
}

test("a handler that returns a plain object without a prototype is a response as before", async () => {
  const r = await run(function* () {
    return yield* answerOnce(function* () {
      return Object.assign(Object.create(null) as object, { status: 204 });
    });
  });
  expect(r.status).toBe("HTTP/1.1 204 No Content");
});

test("httpServer() on a closed listener is refused, not a server that never answers (found by review)", async () => {
  const out = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    yield* l.close();
    expect(l.closed).toBe(true);
    try {
      yield* httpServer(l, handler);
      return "accepted";
    } catch (e) {
      return (e as Error).message;
    }
  });
  expect(out).toMatch(/^httpServer\(listener, handler\): Listener 127\.0\.0\.1:\d+ is closed/);
});

test("serve({ onError }) that is no function, or a generator function, is refused at the call (found by review: every report was dropped)", async () => {
  for (const onError of [5, function* () {}]) {
    const out = await run(function* () {
      try {
        const s = yield* serve({ handler, onError: onError as never });
        yield* s.close();
        return "accepted";
      } catch (e) {
        return String(e);
      }
    });
    expect(out).toContain("TypeError: HTTP server option onError must be a function (error, req) => void, got ");
  }
});
