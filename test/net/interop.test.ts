import { test, expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, spawn, join, wait, type Co } from "../../src/index.ts";
import { listen, connect, type Conn, type Listener } from "../../src/net/index.ts";

const HOST = "127.0.0.1";

/** A tiny HTTP/1.0-ish responder: read the head, answer with what was asked, close. */
function* respond(c: Conn): Co<void> {
  const head = new TextDecoder().decode((yield* c.readUntil("\r\n\r\n"))!);
  const path = head.split(" ")[1] ?? "?";
  const body = `you asked for ${path}\n`;
  yield* c.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  yield* c.close();
}

function* serve(l: Listener, n: number, handler: (c: Conn) => Co<void>): Co<void> {
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const c = yield* l.accept();
    tasks.push(yield* spawn(() => handler(c)));
  }
  for (const t of tasks) yield* join(t);
}

test("curl talks to a corun HTTP responder", async () => {
  const out = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const srv = yield* spawn(() => serve(l, 3, respond));
    const outs: string[] = [];
    for (const path of ["/a", "/b?x=1", "/c"]) {
      const p = Bun.spawn(["/usr/bin/curl", "-s", "--max-time", "5", `http://127.0.0.1:${l.port}${path}`], { stdout: "pipe" });
      outs.push(yield* wait(new Response(p.stdout).text()));
    }
    yield* join(srv);
    yield* l.close();
    return outs;
  });
  expect(out).toEqual(["you asked for /a\n", "you asked for /b?x=1\n", "you asked for /c\n"]);
});

test("a node:net client in a node subprocess round-trips 1 MiB through a corun echo server", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const srv = yield* spawn(() => serve(l, 1, function* (c) {
      yield* c.forEach(function* (chunk) { yield* c.write(chunk); });
      yield* c.close();
    }));
    const client = `
      const net = require("node:net"); const crypto = require("node:crypto");
      const data = crypto.randomBytes(1 << 20); const got = [];
      const s = net.connect(${l.port}, "127.0.0.1", () => { s.end(data); });
      s.on("data", (b) => got.push(b));
      s.on("end", () => { const all = Buffer.concat(got); console.log(all.length, all.equals(data)); });
    `;
    const p = Bun.spawn(["node", "-e", client], { stdout: "pipe", stderr: "pipe" });
    const out = yield* wait(new Response(p.stdout).text());
    yield* join(srv);
    yield* l.close();
    return out.trim();
  });
  expect(r).toBe(`${1 << 20} true`);
}, 20_000);

test("unix socket echo (in a temp dir)", async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), "corun-unix-"));
  try {
    const path = joinPath(dir, "echo.sock");
    const got = await run(function* () {
      const l = yield* listen({ unix: path });
      expect(l.name).toBe(path);
      const srv = yield* spawn(() => serve(l, 1, function* (c) {
        yield* c.forEach(function* (chunk) { yield* c.write(chunk); });
        yield* c.close();
      }));
      const c = yield* connect({ unix: path });
      yield* c.write("over a unix socket\n");
      const line = yield* c.readLine();
      yield* c.end();
      expect(yield* c.read()).toBeNull();
      yield* c.close();
      yield* join(srv);
      yield* l.close();
      return line;
    });
    expect(got).toBe("over a unix socket");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.skipIf(!Bun.which("openssl"))("TLS echo with a throwaway self-signed certificate (temp dir)", async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), "corun-tls-"));
  try {
    const key = joinPath(dir, "key.pem");
    const cert = joinPath(dir, "cert.pem");
    const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { stderr: "ignore" });
    expect(gen.exitCode).toBe(0);
    const tls = { key: await Bun.file(key).text(), cert: await Bun.file(cert).text() };
    const got = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls });
      const srv = yield* spawn(() => serve(l, 1, function* (c) {
        const line = yield* c.readLine();
        yield* c.write(`secure ${line}\n`);
        yield* c.close();
      }));
      const c = yield* connect({ hostname: HOST, port: l.port, tls: { rejectUnauthorized: false } });
      yield* c.write("hello\n");
      const line = yield* c.readLine();
      yield* c.close();
      yield* join(srv);
      yield* l.close();
      return line;
    });
    expect(got).toBe("secure hello");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reusePort lets two listeners share a port", async () => {
  const same = await run(function* () {
    const a = yield* listen({ hostname: HOST, port: 0, reusePort: true });
    const b = yield* listen({ hostname: HOST, port: a.port, reusePort: true });
    return a.port === b.port;
  });
  expect(same).toBe(true);
});
