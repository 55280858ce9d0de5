/**
 * The client's idle keep-alive connections: closed after `idleTimeout`, also one the server
 * closed meanwhile; and the default client (`request`) is one per scheduler. Real sockets on
 * 127.0.0.1, bounded in time.
 */
import { describe, expect, test } from "bun:test";
import { cancel, HttpClient, HttpError, listen, request, run, Scheduler, serve, sleep, spawn, suspend, wait, type Waker } from "../../src/index.ts";

describe("idle keep-alive connections", () => {
  test("are closed after idleTimeout: the pool and the server see them go", async () => {
    const out = await run(function* () {
      const server = yield* serve({ port: 0, handler: function* () { return { body: "ok" }; } });
      const client = new HttpClient({ idleTimeout: 100 });
      yield* client.request(server.url);
      const before = { idle: client.stats().idle, server: server.connections };
      yield* sleep(700);
      const after = { open: client.stats().open, idle: client.stats().idle, server: server.connections };
      yield* server.close();
      return { before, after };
    });
    expect(out).toEqual({ before: { idle: 1, server: 1 }, after: { open: 0, idle: 0, server: 0 } });
  });

  test("one the server closed while idle is closed here too, not kept half-open until reused", async () => {
    const out = await run(function* () {
      // The server closes idle keep-alive connections after 100 ms (its header timeout).
      const server = yield* serve({ port: 0, headerTimeout: 100, handler: function* () { return { body: "ok" }; } });
      const client = new HttpClient({ idleTimeout: 300 });
      yield* client.request(server.url);
      yield* sleep(200);
      const serverClosed = server.connections;
      yield* sleep(800); // the expiry comes within 300 + 500 ms (the reaper's granularity)
      const open = client.stats().open;
      yield* server.close();
      return { serverClosed, open };
    });
    expect(out).toEqual({ serverClosed: 0, open: 0 });
  });

  test("a connection reused before its expiry is not closed under the next request", async () => {
    const out = await run(function* () {
      const server = yield* serve({ port: 0, handler: function* () { return { body: "ok" }; } });
      const client = new HttpClient({ idleTimeout: 300 });
      for (let i = 0; i < 8; i++) {
        yield* client.request(server.url);
        yield* sleep(100); // idle 100 ms each time: 800 ms in all, past one idleTimeout
      }
      const stats = client.stats();
      yield* client.close();
      yield* server.close();
      return { connects: stats.connects, reused: stats.reused };
    });
    expect(out).toEqual({ connects: 1, reused: 7 });
  });
});

test("a first request whose task has a cancel pending does not leave the idle reaper marked running without a task", async () => {
  const out = await run(function* () {
    const server = yield* serve({ port: 0, handler: function* () { return { body: "ok" }; } });
    const client = new HttpClient({ idleTimeout: 100 });
    let waker: Waker<string> | undefined;
    const t = yield* spawn(function* () {
      const url = yield* suspend<string>((w) => { waker = w; }, "url");
      return yield* client.request(url); // the pending Cancelled is raised at its first yield
    });
    yield* sleep(1);
    waker!.resume(server.url);
    yield* cancel(t); // t is ready with a value: its cancel waits for its next yield
    yield* client.request(server.url);
    yield* sleep(1000);
    const idle = client.stats().idle;
    yield* client.close();
    yield* server.close();
    return idle;
  });
  expect(out).toBe(0);
});

test("request(): tasks started with scheduler.spawn() share the default client (one pool per scheduler)", async () => {
  const s = new Scheduler();
  const out = await s.run(function* () {
    const server = yield* serve({ port: 0, handler: function* () { return { body: "ok" }; } });
    for (let i = 0; i < 3; i++) {
      const t = s.spawn(function* () { yield* request(server.url); });
      yield* wait(t.promise);
    }
    const connections = server.connections;
    yield* server.close();
    return connections;
  });
  expect(out).toBe(1);
});

test("a run that ends right after a request started leaves the client's reapers able to start again in the next run", async () => {
  const client = new HttpClient({ idleTimeout: 200, timeout: 300 });
  await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    yield* spawn(() => client.request(`http://127.0.0.1:${l.port}/`));
    yield; // the request's first step spawns both reapers; then main ends and they are cancelled unstarted
  });
  const out = await run(function* () {
    const server = yield* serve({ port: 0, handler: function* () { return "ok"; } });
    yield* client.request(server.url);
    yield* sleep(1000);
    const idle = client.stats().idle;
    const silent = yield* listen({ hostname: "127.0.0.1", port: 0 });
    yield* spawn(function* () { const c = yield* silent.accept(); yield* sleep(5000); yield* c.close(); });
    let outcome = "pending";
    yield* spawn(function* () {
      try {
        yield* client.request(`http://127.0.0.1:${silent.port}/`);
        outcome = "ok";
      } catch (e) {
        outcome = e instanceof HttpError ? e.code : String(e);
      }
    });
    yield* sleep(1500);
    yield* server.close();
    return { idle, outcome };
  });
  expect(out).toEqual({ idle: 0, outcome: "TIMEOUT" });
}, 20_000);
