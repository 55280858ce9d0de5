/**
 * The HTTP server's closes: a connection it closes with the client's bytes still coming is
 * closed gracefully (no reset destroying the response), and `server.close()` serves what has
 * begun to arrive, waits for every connection but its caller's, and can be called again when
 * a first call was cut short. Real sockets on 127.0.0.1.
 */
import { test, expect } from "bun:test";
import { Cancelled, run, wait, serve, sleep, spawn, join, moveOnAfter, listen, connect, netStats, type HttpServer } from "../../src/index.ts";
import { Peer } from "./helpers.ts";
import { createConnection } from "node:net";

const GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

test("a response before a close, with pipelined requests unread behind it, arrives whole and ends with a FIN, not a reset", async () => {
  const body = "x".repeat(300_000);
  for (const first of ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"]) {
    const peer = await run(function* () {
      const server = yield* serve({ handler: function* () { return body; } });
      const p = new Peer(server.port);
      yield* wait(p.connected);
      p.send(first + GET.repeat(10_000)); // 270 kB behind the request that closes
      yield* wait(p.endedWithin(5000));
      p.stop();
      yield* server.close();
      return p;
    });
    expect({ closed: peer.closed, error: peer.error?.message, whole: peer.received > body.length }).toEqual({ closed: true, error: undefined, whole: true });
  }
});

test("close() with a request head half received serves that request (it is in progress, not idle)", async () => {
  const out = await run(function* () {
    let ran = 0;
    const server = yield* serve({ handler: function* () { ran++; return "done"; } });
    const p = new Peer(server.port);
    yield* wait(p.connected);
    p.send("GET /upload HTTP/1.1\r\nHost: x\r\nX-Big: ");
    yield* sleep(30); // the server has read the first half
    setTimeout(() => p.send("1\r\n\r\n"), 20);
    yield* server.close();
    yield* wait(p.endedWithin(2000));
    p.stop();
    return { ran, answered: p.text().includes("done"), closes: p.text().toLowerCase().includes("connection: close") };
  });
  expect(out).toEqual({ ran: 1, answered: true, closes: true });
});

test("close() while keep-alive clients keep sending: every request a handler ran gets its response", async () => {
  const out = await run(function* () {
    const ran = new Set<string>();
    const server = yield* serve({ handler: function* (req) {
      const id = req.headers["x-id"]!;
      ran.add(id);
      return `id=${id};`;
    } });
    const peers: Peer[] = [];
    for (let i = 0; i < 200; i++) peers.push(new Peer(server.port));
    yield* wait(Promise.all(peers.map((p) => p.connected)));
    let seq = 0;
    for (const p of peers) {
      let pending = "";
      const next = () => { pending = String(seq++); p.send(`GET / HTTP/1.1\r\nHost: x\r\nx-id: ${pending}\r\n\r\n`); };
      p.sock.on("data", () => { if (!p.closed && p.text().endsWith(`id=${pending};`)) next(); });
      next();
    }
    yield* sleep(200);
    yield* server.close();
    yield* wait(Promise.all(peers.map((p) => p.endedWithin(2000))));
    const answered = new Set(peers.flatMap((p) => [...p.text().matchAll(/id=(\d+);/g)].map((m) => m[1]!)));
    for (const p of peers) p.stop();
    return { ran: ran.size, unanswered: [...ran].filter((id) => !answered.has(id)) };
  });
  expect(out.ran).toBeGreaterThan(200);
  expect(out.unanswered).toEqual([]);
});

test("close() from outside waits for a handler that called close() itself, and for its response", async () => {
  const out = await run(function* () {
    let asked = false;
    const server: HttpServer = yield* serve({ handler: function* (req) {
      if (req.path !== "/shutdown") return "ok";
      asked = true;
      yield* server.close();
      yield* sleep(50); // work after its close, before it answers
      return "bye";
    } });
    const p = new Peer(server.port);
    yield* wait(p.connected);
    p.send("GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n");
    while (!asked) yield* sleep(1);
    yield* server.close(); // main shuts down too, and waits for every connection
    const left = server.connections;
    yield* wait(p.endedWithin(2000));
    p.stop();
    return { left, answered: p.text().includes("bye") };
  });
  expect(out).toEqual({ left: 0, answered: true });
});

test("a close() cut short is finished by the next: the idle connections are closed, not left to their timeout", async () => {
  const out = await run(function* () {
    const server = yield* serve({ headerTimeout: 60_000, handler: function* () { return "ok"; } });
    const peers: Peer[] = [];
    for (let i = 0; i < 300; i++) peers.push(new Peer(server.port));
    yield* wait(Promise.all(peers.map((p) => p.connected)));
    for (const p of peers) p.send(GET);
    while (server.requests < peers.length) yield* sleep(5);
    yield* moveOnAfter(0.001, () => server.close()); // a shutdown deadline that had passed
    yield* moveOnAfter(5000, () => server.close());
    const left = server.connections;
    for (const p of peers) p.stop();
    return left;
  });
  expect(out).toBe(0);
}, 20_000);

test("a HEAD response, or a 304, keeps the Content-Length its handler gives (the size a GET would have)", async () => {
  const got = await run(function* () {
    const server = yield* serve({ handler: function* (req) {
      if (req.path === "/cached") return { status: 304, headers: { "content-length": "1234" } };
      return req.method === "HEAD" ? { headers: { "content-length": "1234" } } : "x".repeat(1234);
    } });
    const texts: string[] = [];
    for (const line of ["HEAD /file", "GET /cached"]) {
      const p = new Peer(server.port);
      yield* wait(p.connected);
      p.send(`${line} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      yield* wait(p.endedWithin(2000));
      p.stop();
      texts.push(p.text().toLowerCase());
    }
    yield* server.close();
    return texts;
  });
  for (const text of got) expect(text).toMatch(/\r\ncontent-length: 1234\r\n(connection: close\r\n)?\r\n$/);
});

test("maxConnections: at the cap a new connection is closed at once; once one closes, new ones are served", async () => {
  const out = await run(function* () {
    const server = yield* serve({ maxConnections: 2, handler: function* () { return "ok"; } });
    const peers: Peer[] = [];
    for (let i = 0; i < 3; i++) {
      const p = new Peer(server.port); // one at a time, so the third is the one over the cap
      peers.push(p);
      yield* wait(p.connected);
      while (server.accepted <= i) yield* sleep(1);
    }
    yield* wait(peers[2]!.endedWithin(2000)); // the third is closed, before any request
    for (const p of peers) if (!p.closed) p.send(GET);
    yield* wait(Promise.all(peers.slice(0, 2).map((p) => (async () => { for (let i = 0; i < 200 && !p.text().includes("ok"); i++) await Bun.sleep(5); })())));
    const served = peers.map((p) => p.text().includes("ok"));
    const sockets = (yield* netStats()).connections;
    peers[0]!.stop();
    while (server.connections > 1) yield* sleep(5);
    const late = new Peer(server.port); // room again
    yield* wait(late.connected);
    late.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    yield* wait(late.endedWithin(2000));
    const lateServed = late.text().includes("ok");
    for (const p of [...peers, late]) p.stop();
    yield* server.close();
    return { served, thirdClosed: peers[2]!.closed, refused: server.refused, sockets, lateServed };
  });
  expect(out).toEqual({ served: [true, true, false], thirdClosed: true, refused: 1, sockets: 2, lateServed: true });
});

test("abort() closes every connection now, cutting its request short, and returns once they have ended", async () => {
  const out = await run(function* () {
    const log: string[] = [];
    const server = yield* serve({ handler: function* (req) {
      try {
        yield* sleep(req.path === "/slow" ? 60_000 : 0);
        return "done";
      } finally {
        log.push(`${req.path} ended`);
      }
    } });
    const slow = new Peer(server.port);
    const idle = new Peer(server.port);
    yield* wait(Promise.all([slow.connected, idle.connected]));
    slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    yield* sleep(20);
    yield* server.abort();
    const left = server.connections;
    yield* wait(Promise.all([slow.endedWithin(2000), idle.endedWithin(2000)]));
    const closed = [slow.closed, idle.closed];
    slow.stop();
    idle.stop();
    return { log, left, closed };
  });
  expect(out).toEqual({ log: ["/slow ended"], left: 0, closed: [true, true] });
});

test("bad limits are refused at serve(), naming the option, and the port is not kept", async () => {
  const tried = await run(function* () {
    const probe = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.port;
    yield* probe.close();
    const out: string[] = [];
    for (const limits of [{ maxConnections: 0 }, { maxConnections: 1.5 }, { headerTimeout: -1 }, { maxBodyBytes: NaN }]) {
      try {
        const s = yield* serve({ ...limits, port, handler: function* () { return "ok"; } });
        yield* s.close();
        out.push("accepted");
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return out;
  });
  expect(tried).toEqual([
    "HTTP server option maxConnections must be an integer >= 1, got 0",
    "HTTP server option maxConnections must be an integer >= 1, got 1.5",
    "HTTP server option headerTimeout must be a finite number > 0, got -1",
    "HTTP server option maxBodyBytes must be a finite number > 0, got NaN",
  ]);
});

test("close() while a connection lingers after refusing a head (a 414) does not fail its task", async () => {
  const out = await run(function* () {
    const server = yield* serve({ maxHeaderBytes: 64, handler: function* () { return "hi"; } });
    const p = new Peer(server.port);
    yield* wait(p.connected);
    p.send(`GET /${"a".repeat(200)} HTTP/1.1\r\nhost: x\r\n`); // over the limit, and the client keeps sending side open
    for (let i = 0; i < 200 && !p.text().includes("\r\n\r\n"); i++) yield* sleep(5);
    yield* server.close(); // the connection lingers (up to 2 s) for the client's FIN
    const status = p.text().split("\r\n")[0];
    p.stop();
    return { status, left: server.connections };
  });
  expect(out).toEqual({ status: "HTTP/1.1 414 URI Too Long", left: 0 });
});

test("close() in the tick a connection was accepted closes it at once: no 408 after headerTimeout", async () => {
  const replies = await run(function* () {
    const out: string[] = [];
    // A pair of sockets whose writes complete at submission: their task takes more steps in
    // the same tick (phase 3b), so close() can run right after the acceptor, before the new
    // connection's task has taken its first step.
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const side = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const sideEnd = yield* l.accept();
    for (let i = 0; i < 3; i++) {
      const server = yield* serve({ headerTimeout: 3000, handler: function* () { return "hi"; } });
      const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
      while (server.accepted === 0) {
        yield* side.write("x");
        while (sideEnd.hasInput) yield* sideEnd.read();
      }
      yield* server.close();
      const b = yield* c.read();
      out.push(b === null ? "EOF" : new TextDecoder().decode(b).split("\r\n")[0]!);
      yield* c.close();
    }
    yield* side.close();
    yield* sideEnd.close();
    yield* l.close();
    return out;
  });
  expect(replies).toEqual(["EOF", "EOF", "EOF"]);
}, 20_000);

test("abort() closes a connection lingering after its answer (its request body unread) too", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: function* () { return "ok"; } }); // never reads the body
    const p = new Peer(server.port, true);
    yield* wait(p.connected);
    p.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"); // the body never comes
    for (let i = 0; i < 200 && !p.text().includes("ok"); i++) yield* sleep(5);
    yield* server.abort();
    const sockets = (yield* netStats()).connections; // the client still sends: only a close here ends it
    p.stop();
    return { answered: p.text().startsWith("HTTP/1.1 200"), left: server.connections, sockets };
  });
  expect(out).toEqual({ answered: true, left: 0, sockets: 0 });
});

test("after a 413, a client that keeps uploading is dropped for up to 2 s, then the connection is reset (it took 4 s: a close waited for its FIN again; found by review)", async () => {
  const r = await run(function* () {
    const server = yield* serve({ port: 0, maxBodyBytes: 1000, handler: function* () { return "never"; } });
    const timing = yield* wait(new Promise<{ answeredToClosedMs: number; got413: boolean }>((resolve) => {
      const sock = createConnection({ host: "127.0.0.1", port: server.port, allowHalfOpen: true });
      let got = "";
      let answeredAt = 0;
      let pump: ReturnType<typeof setInterval> | undefined;
      const done = () => {
        clearInterval(pump);
        resolve({ answeredToClosedMs: Math.round(performance.now() - answeredAt), got413: got.startsWith("HTTP/1.1 413") });
      };
      const guard = setTimeout(() => { sock.destroy(); done(); }, 8000);
      sock.on("data", (d) => {
        if (answeredAt === 0) answeredAt = performance.now();
        got += d.toString("latin1");
      });
      sock.on("error", () => undefined);
      sock.on("close", () => { clearTimeout(guard); done(); });
      sock.on("connect", () => {
        sock.write("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
        // An upload that goes on (a slow client): a piece every 20 ms, never a FIN.
        pump = setInterval(() => { if (!sock.destroyed) sock.write(Buffer.alloc(1024, 120)); }, 20);
      });
    }));
    yield* server.abort();
    return timing;
  });
  expect(r.got413).toBe(true);
  expect(r.answeredToClosedMs).toBeLessThan(3000);
}, 15_000);

test("a connection refused at maxConnections, or cut off by bodyTimeout, frees its socket at once though its client never closes (a close waited 2 s for its FIN; found by review)", async () => {
  const out = await run(function* () {
    const server = yield* serve({ maxConnections: 1, bodyTimeout: 100, headerTimeout: 400, handler: function* (req) { return `${(yield* req.body()).length}`; } });
    // A stalled upload: its head, then nothing, and never a FIN (half-open).
    const stalled = new Peer(server.port, true);
    yield* wait(stalled.connected);
    stalled.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    // Over the cap while the first is open: refused.
    const over = new Peer(server.port, true);
    yield* wait(over.connected);
    for (let i = 0; i < 400 && server.refused === 0; i++) yield* sleep(1);
    const afterRefusal = (yield* netStats()).connections;
    // The stalled body is cut off at its deadline (100 ms, served at 50 ms granularity).
    yield* wait(stalled.endedWithin(2000));
    for (let i = 0; i < 40 && (yield* netStats()).connections > 0; i++) yield* sleep(5);
    const afterCutOff = (yield* netStats()).connections;
    stalled.stop();
    over.stop();
    yield* server.close();
    return { afterRefusal, afterCutOff, stalledClosed: stalled.closed };
  });
  expect(out).toEqual({ afterRefusal: 1, afterCutOff: 0, stalledClosed: true });
});

test("abort() resets every connection, so a streamed HTTP/1.0 body it cuts off looks cut off, and an idle one is reset too (it ended them with a FIN: curl took 'part1;' as the whole body; found by review)", async () => {
  const out = await run(function* () {
    let writing = false;
    const server = yield* serve({ handler: function* () {
      return { body: function* (out) { yield* out.write("part1;"); writing = true; yield* sleep(60_000); yield* out.write("part2"); } };
    } });
    const streamed = new Peer(server.port);
    const idle = new Peer(server.port);
    yield* wait(Promise.all([streamed.connected, idle.connected]));
    streamed.send("GET / HTTP/1.0\r\n\r\n");
    while (!writing) yield* sleep(5);
    yield* sleep(20);
    yield* server.abort();
    yield* wait(Promise.all([streamed.endedWithin(2000), idle.endedWithin(2000)]));
    const seen = { body: streamed.text().slice(streamed.text().indexOf("\r\n\r\n") + 4), streamed: (streamed.error as { code?: string } | undefined)?.code, idle: (idle.error as { code?: string } | undefined)?.code };
    streamed.stop();
    idle.stop();
    return seen;
  });
  expect(out).toEqual({ body: "part1;", streamed: "ECONNRESET", idle: "ECONNRESET" });
});

test("a run that ends mid-response resets that connection (the body must look cut off); an idle keep-alive one still gets a plain close (found by review)", async () => {
  let streamed: Peer | undefined;
  let idle: Peer | undefined;
  await run(function* () {
    let writing = false;
    const server = yield* serve({ handler: function* (req) {
      if (req.path === "/quick") return "quick";
      return { body: function* (out) { yield* out.write("part1;"); writing = true; yield* sleep(60_000); } };
    } });
    streamed = new Peer(server.port);
    idle = new Peer(server.port);
    yield* wait(Promise.all([streamed.connected, idle.connected]));
    idle.send("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n"); // answered, then idle on keep-alive
    streamed.send("GET / HTTP/1.0\r\n\r\n");
    while (!writing || !idle.text().endsWith("quick")) yield* sleep(5);
    // main returns with the server open: the run cancels its tasks
  });
  await Promise.all([streamed!.endedWithin(2000), idle!.endedWithin(2000)]);
  expect({ streamed: (streamed!.error as { code?: string } | undefined)?.code, idle: idle!.error, idleClosed: idle!.closed }).toEqual({ streamed: "ECONNRESET", idle: undefined, idleClosed: true });
  streamed!.stop();
  idle!.stop();
});

test("close() serves a request already received on a keep-alive connection while the last response was still going out, with connection: close (it was dropped; found by review)", async () => {
  const big = "x".repeat(8_000_000);
  const out = await run(function* () {
    const ran: string[] = [];
    const server = yield* serve({ handler: function* (req) { ran.push(req.path); return req.path === "/a" ? big : "B"; } });
    const p = new Peer(server.port);
    yield* wait(p.connected);
    p.sock.pause();
    p.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    yield* sleep(100); // the server is still writing /a's body: the client does not read
    p.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    yield* sleep(50);
    const closing = yield* spawn(() => server.close());
    yield* sleep(10);
    p.sock.resume();
    yield* join(closing);
    yield* wait(p.endedWithin(2000));
    const t = p.text();
    p.stop();
    const second = t.slice(t.indexOf("HTTP/1.1", big.length));
    return { ran, gotB: t.endsWith("\r\n\r\nB"), secondSaysClose: second.includes("connection: close") };
  });
  expect(out).toEqual({ ran: ["/a", "/b"], gotB: true, secondSaysClose: true });
});

test("abort(): a handler that catches the cancel and answers sends nothing, its connection is reset (its 502 went out after the abort; found by review)", async () => {
  const out = await run(function* () {
    const log: string[] = [];
    const server = yield* serve({ handler: function* () {
      try {
        yield* sleep(60_000); // an upstream
        return "ok";
      } catch {
        yield* sleep(300); // a fallback
        log.push("fallback done");
        return { status: 502, body: "upstream failed" };
      }
    } });
    const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
    yield* c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const client = yield* spawn(function* () {
      try {
        const got = yield* c.readAll();
        log.push(`client got ${JSON.stringify(new TextDecoder().decode(got).split("\r\n")[0])}`);
      } catch (e) {
        log.push(`client: ${(e as { code?: string }).code}`);
      }
    });
    yield* sleep(20);
    yield* server.abort();
    log.push(`abort returned, ${server.connections} connections`);
    yield* join(client);
    yield* c.close();
    return log;
  });
  // abort() waits for the handler to end (nothing of the server outlives it), then resets.
  expect(out[0]).toBe("fallback done");
  expect(out.slice(1).sort()).toEqual(["abort returned, 0 connections", "client: ECONNRESET"]);
});

test("abort(): a handler waiting on its request body sees its Cancelled, not the read the reset failed (a first fix reset the connection before the cancel; found by review)", async () => {
  const out = await run(function* () {
    const seen: string[] = [];
    const server = yield* serve({
      handler: function* (req) {
        try {
          const b = yield* req.body();
          return `got ${b.length}`;
        } catch (e) {
          seen.push(e instanceof Cancelled ? "Cancelled" : `${(e as Error).constructor.name}: ${(e as Error).message}`);
          throw e;
        }
      },
    });
    const c = yield* connect({ hostname: "127.0.0.1", port: server.port });
    yield* c.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc");
    yield* sleep(30);
    yield* server.abort();
    yield* c.close();
    return seen;
  });
  expect(out).toEqual(["Cancelled"]);
});
