import { test, expect } from "bun:test";
import { run, spawn, join, sleep, serve, request, HttpClient, type HttpHandler } from "../../src/index.ts";

const echo: HttpHandler = function* (req) {
  const body = yield* req.text();
  if (req.path === "/chunks") return { body: body.split(",") }; // chunked back to 1.1 clients
  return { status: 201, headers: { "x-method": req.method, "x-version": req.version }, body: `${req.method} ${req.url} [${body}]` };
};

test("corun client ↔ corun server: methods, bodies, headers, statuses", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: echo });
    const a = yield* request(`${server.url}/a?q=1`);
    const b = yield* request(`${server.url}/b`, { method: "POST", body: "data" });
    const c = yield* request(`${server.url}/c`, { method: "HEAD" });
    yield* server.close();
    return [a.status, a.text(), a.headers["x-method"], b.text(), c.status, c.text(), c.headers["content-length"]];
  });
  expect(out).toEqual([201, "GET /a?q=1 []", "GET", "POST /b [data]", 201, "", "10"]);
});

test("chunked both ways", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: echo });
    const res = yield* request(`${server.url}/chunks`, { method: "POST", body: ["a,", "bb,", "ccc"] });
    yield* server.close();
    return { te: res.headers["transfer-encoding"], text: res.text() };
  });
  expect(out).toEqual({ te: "chunked", text: "abbccc" });
});

test("HTTP/1.0: the server answers without chunking and closes; each request its own connection", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: echo });
    const r1 = yield* request(`${server.url}/chunks`, { http10: true, method: "POST", body: "x,y" });
    const r2 = yield* request(`${server.url}/v`, { http10: true });
    yield* server.close();
    return { te: r1.headers["transfer-encoding"], conn: r1.headers.connection, text: r1.text(), v: r2.headers["x-version"], accepted: server.accepted };
  });
  expect(out).toEqual({ te: undefined, conn: "close", text: "xy", v: "1.0", accepted: 2 });
});

test("keep-alive reuse: 50 sequential requests, one connection accepted", async () => {
  const accepted = await run(function* () {
    const server = yield* serve({ handler: echo });
    for (let i = 0; i < 50; i++) yield* request(`${server.url}/${i}`);
    yield* server.close();
    return server.accepted;
  });
  expect(accepted).toBe(1);
});

test("300 concurrent requests over a 16-connection pool all succeed", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: echo });
    const client = new HttpClient({ maxConnectionsPerHost: 16 });
    const tasks = [];
    for (let i = 0; i < 300; i++) tasks.push(yield* spawn(() => client.request(`${server.url}/${i}`, { method: "POST", body: String(i) })));
    let ok = 0;
    for (let i = 0; i < tasks.length; i++) if ((yield* join(tasks[i]!)).text() === `POST /${i} [${i}]`) ok++;
    yield* client.close();
    yield* server.close();
    return { ok, accepted: server.accepted, stats: client.stats() };
  });
  expect(out.ok).toBe(300);
  expect(out.accepted).toBeLessThanOrEqual(16);
  expect(out.stats).toMatchObject({ requests: 300, open: 0, idle: 0, waiting: 0 });
});

test("a keep-alive connection the server closed while idle is replaced transparently", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: echo, headerTimeout: 50 });
    const client = new HttpClient();
    yield* client.request(`${server.url}/1`);
    yield* sleep(250); // the server's idle timeout closes the connection
    const res = yield* client.request(`${server.url}/2`);
    yield* server.close();
    return { text: res.text(), stats: client.stats(), accepted: server.accepted };
  });
  expect(out.text).toBe("GET /2 []");
  expect(out.accepted).toBe(2);
  expect(out.stats.connects).toBe(2);
});

test("large bodies both ways (3 MiB, past the socket buffers), byte for byte", async () => {
  const big = new Uint8Array(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
  const out = await run(function* () {
    const server = yield* serve({
      maxBodyBytes: 4 << 20,
      handler: function* (req) {
        const body = yield* req.body();
        return { headers: { "content-type": "application/octet-stream" }, body: body.slice().reverse() };
      },
    });
    const client = new HttpClient({ maxBodyBytes: 4 << 20 });
    const res = yield* client.request(`${server.url}/rev`, { method: "PUT", body: big });
    const chunked = yield* client.request(`${server.url}/rev`, { method: "PUT", body: [big.subarray(0, 1 << 20), big.subarray(1 << 20)] });
    yield* server.close();
    return [res.body, chunked.body];
  });
  const expected = big.slice().reverse();
  for (const b of out) {
    expect(b.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(b), Buffer.from(expected))).toBe(0);
  }
});

test("res.json() on a body that is no JSON: a SyntaxError naming the response, the parser's error as its cause", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: function* () { return { body: "hello" }; } });
    const res = yield* request(`${server.url}/not-json`);
    yield* server.close();
    try {
      res.json();
      return "parsed";
    } catch (error) {
      return { syntax: error instanceof SyntaxError, message: String((error as Error).message), cause: (error as Error).cause instanceof SyntaxError, url: res.url };
    }
  });
  expect(out).toMatchObject({ syntax: true, cause: true });
  const o = out as { message: string; url: string };
  expect(o.message).toStartWith(`the body of 200 OK ${o.url} is not JSON (`);
});
