/**
 * The HTTP client's pool under cancellation, timeouts and close(): slots and connections are
 * never lost, double-counted or handed on half-closed. Real sockets on 127.0.0.1 (a node:net
 * keep-alive server that counts its live sockets); each case is bounded in time.
 */
import { test, expect, describe } from "bun:test";
import { run, spawn, sleep, cancel, join, wait, connect, netStats, HttpClient, HttpError, type Task } from "../../src/index.ts";
import { ConnPool } from "../../src/http/pool.ts";
import { createServer, type Socket } from "node:net";
import { keepAliveServer, rawServer, type KeepAliveServer } from "./helpers.ts";

const T = 10_000;
/** Let the server see the closes (its side runs on the same event loop). */
const settle = () => wait(new Promise((r) => setTimeout(r, 100)));

async function withServer<R>(body: (srv: KeepAliveServer, url: string) => Promise<R>): Promise<R> {
  const srv = await keepAliveServer();
  try {
    return await body(srv, `http://127.0.0.1:${srv.port}`);
  } finally {
    srv.stop();
  }
}

describe("pool slots", () => {
  test("a release while acquire closes an idle connection to make room keeps the count right", () =>
    withServer(async (srv) => {
      const out = await run(function* () {
        const pool = new ConnPool(2);
        const key = `127.0.0.1:${srv.port}`;
        yield* pool.acquire(key);
        yield* pool.acquire(key); // two slots taken
        const c1 = yield* connect({ hostname: "127.0.0.1", port: srv.port });
        pool.release(key, c1, true); // idle [c1], open 2
        const a = yield* spawn(() => pool.acquire(key, true)); // closes c1 to make room, in its slot
        const b = yield* spawn(function* () {
          pool.release(key, undefined, false); // the other lease ends meanwhile
        });
        yield* join(b);
        const lease = yield* join(a);
        const during = pool.stats();
        pool.release(key, lease.conn, false);
        return { during, after: pool.stats() };
      });
      expect(out.during.open).toBe(1);
      expect(out.after.open).toBe(0);
    }), T);

  test("close() while an HTTP/1.0 request makes room leaves no negative count, and the cap holds after", () =>
    withServer(async (srv, url) => {
      const out = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 2000 });
        yield* client.request(`${url}/`); // one idle keep-alive connection
        const a = yield* spawn(() => client.request(`${url}/`, { http10: true }));
        const b = yield* spawn(() => client.close());
        yield* join(a);
        yield* join(b);
        return client.stats();
      });
      expect(out).toMatchObject({ open: 0, idle: 0, waiting: 0 });
      const out2 = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 2000 });
        yield* client.request(`${url}/`);
        const a = yield* spawn(() => client.request(`${url}/`, { http10: true }));
        yield* join(a);
        const ts: Task<unknown>[] = [];
        for (let i = 0; i < 3; i++) ts.push(yield* spawn(() => client.request(`${url}/slow?ms=50`)));
        for (const t of ts) yield* join(t);
        yield* client.close();
        return client.stats();
      });
      expect(out2).toMatchObject({ open: 0, idle: 0, waiting: 0 });
      expect(srv.maxBusy()).toBe(1); // cap 1: never two requests at once
    }), T);
});

describe("cancelled closes still close", () => {
  test("cancelling the task in client.close() still closes every idle connection", () =>
    withServer(async (srv, url) => {
      const out = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 2, timeout: 2000 });
        const ts: Task<unknown>[] = [];
        for (let i = 0; i < 2; i++) ts.push(yield* spawn(() => client.request(`${url}/slow?ms=50`)));
        for (const t of ts) yield* join(t);
        const before = client.stats().idle;
        const c = yield* spawn(() => client.close());
        const k = yield* spawn(function* () {
          yield* cancel(c);
        });
        yield* join(k);
        yield* settle();
        return { before, state: c.state, stats: client.stats(), clientSockets: (yield* netStats()).connections };
      });
      expect(out.before).toBe(2);
      expect(out.state).toBe("cancelled");
      expect(out.stats).toMatchObject({ open: 0, idle: 0 });
      expect(out.clientSockets).toBe(0);
      expect(srv.live()).toBe(0);
    }), T);

  test("a request cancelled while it closes an idle connection to make room leaks nothing", () =>
    withServer(async (srv, url) => {
      const out = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 2000 });
        yield* client.request(`${url}/`);
        const a = yield* spawn(() => client.request(`${url}/`, { http10: true }));
        const k = yield* spawn(function* () {
          yield* cancel(a);
        });
        yield* join(k);
        const stats = client.stats();
        yield* settle();
        return { state: a.state, stats, clientSockets: (yield* netStats()).connections };
      });
      expect(out.state).toBe("cancelled");
      expect(out.stats).toMatchObject({ open: 0, idle: 0, waiting: 0 });
      expect(out.clientSockets).toBe(0);
      expect(srv.live()).toBe(0);
    }), T);

  test("an HTTP/1.0 request handed a keep-alive connection and cancelled before it runs closes it", () =>
    withServer(async (srv, url) => {
      const out = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 2000 });
        let b: Task<unknown> | undefined;
        const a = yield* spawn(function* () {
          yield* client.request(`${url}/slow`); // its connection goes to b, waiting
          yield* cancel(b!); // b is ready with it: the cancel lands at b's next yield
        });
        yield* sleep(20);
        b = yield* spawn(() => client.request(`${url}/`, { http10: true }));
        yield* join(a);
        const stats = client.stats();
        yield* client.close();
        yield* settle();
        return { state: b.state, stats, clientSockets: (yield* netStats()).connections };
      });
      expect(out.state).toBe("cancelled");
      expect(out.stats).toMatchObject({ open: 0, idle: 0 });
      expect(out.clientSockets).toBe(0);
      expect(srv.live()).toBe(0);
    }), T);
});

describe("close()", () => {
  test("a connection in use when close() is called closes when its request ends; later requests are refused", () =>
    withServer(async (srv, url) => {
      const out = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 2000 });
        const a = yield* spawn(() => client.request(`${url}/slow`));
        yield* sleep(50);
        yield* client.close();
        const res = yield* join(a);
        yield* settle();
        let refused: unknown;
        try {
          yield* client.request(`${url}/`);
        } catch (e) {
          refused = e;
        }
        return { text: res.text(), stats: client.stats(), refused, clientSockets: (yield* netStats()).connections };
      });
      expect(out.text).toBe("ok");
      expect(out.stats).toMatchObject({ open: 0, idle: 0 });
      expect(out.clientSockets).toBe(0);
      expect(srv.live()).toBe(0);
      expect(out.refused).toBeInstanceOf(HttpError);
      expect((out.refused as HttpError).code).toBe("CLIENT_CLOSED");
      expect((out.refused as HttpError).message).toContain(`${url}/`);
    }), T);
});

describe("timeouts", () => {
  // The canceller sleeps in step with the client's 10 ms deadline checks, queued right behind
  // them, so the cancel and the deadline land on the same tick.
  test("a cancel that arrives as the deadline passes cancels the task (not a TIMEOUT)", async () => {
    const srv = await rawServer(() => null, { close: false }); // never answers
    try {
      const out = await run(function* () {
        const client = new HttpClient();
        const r = yield* spawn(() => client.request(`http://127.0.0.1:${srv.port}/`, { timeout: 20 }));
        let before = "";
        const k = yield* spawn(function* () {
          yield* sleep(0);
          for (let i = 0; i < 3; i++) yield* sleep(10);
          before = r.state;
          yield* cancel(r);
        });
        yield* join(k);
        try {
          yield* join(r);
        } catch {
          // cancelled (or, before the fix, failed with TIMEOUT)
        }
        return { before, state: r.state };
      });
      expect(out.before).toBe("waiting");
      expect(out.state).toBe("cancelled");
    } finally {
      srv.server.close();
    }
  }, T);

  test("a timed-out request's connection is not handed to the next request (a bodiless answer on the deadline)", async () => {
    const held: Socket[] = [];
    const server = createServer((s) => {
      s.on("error", () => {});
      let buf = "";
      s.on("data", (d) => {
        buf += d.toString("latin1");
        for (let i = buf.indexOf("\r\n\r\n"); i >= 0; i = buf.indexOf("\r\n\r\n")) {
          const head = buf.slice(0, i);
          buf = buf.slice(i + 4);
          if (head.startsWith("POST")) {
            buf = buf.slice(1); // its one-byte body
            s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
          } else held.push(s); // a GET waits for the answer below
        }
      });
    });
    const port = await new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)));
    try {
      const out = await run(function* () {
        const client = new HttpClient({ maxConnectionsPerHost: 1 });
        const url = `http://127.0.0.1:${port}`;
        yield* spawn(function* () {
          try {
            yield* client.request(`${url}/a`, { timeout: 20 });
          } catch {
            // timed out, or answered just in time: either is fine
          }
        });
        const w = yield* spawn(function* () {
          return (yield* client.request(`${url}/`, { method: "POST", body: "x", timeout: 0 })).text();
        });
        const k = yield* spawn(function* () {
          yield* sleep(0);
          for (let i = 0; i < 3; i++) yield* sleep(10);
          for (const s of held.splice(0)) s.write("HTTP/1.1 204 No Content\r\n\r\n"); // on the deadline's tick
        });
        yield* join(k);
        const text = yield* join(w);
        yield* client.close();
        return text;
      });
      expect(out).toBe("ok");
    } finally {
      server.close();
    }
  }, T);
});

describe("cancelled uploads", () => {
  test("cancelling a request stuck sending its body resets the connection instead of leaving it to drain", async () => {
    let peerClosed = 0;
    const srv = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => s.pause(), data: () => undefined, close: () => void peerClosed++, error: () => undefined } });
    try {
      const r = await run(function* () {
        const client = new HttpClient({ timeout: 0 });
        const t = yield* spawn(() => client.request(`http://127.0.0.1:${srv.port}/upload`, { method: "POST", body: new Uint8Array(64 << 20) }));
        yield* sleep(50); // the server reads nothing: the body waits for room
        yield* cancel(t);
        yield* sleep(50);
        return { state: t.state, connections: (yield* netStats()).connections, stats: client.stats() };
      });
      for (let i = 0; i < 50 && peerClosed === 0; i++) await Bun.sleep(20);
      expect(r.state).toBe("cancelled");
      expect(r.connections).toBe(0);
      expect(r.stats).toMatchObject({ open: 0, idle: 0 });
      expect(peerClosed).toBe(1);
    } finally {
      srv.stop(true);
    }
  }, T);
});
