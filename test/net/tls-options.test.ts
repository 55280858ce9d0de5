/**
 * TLS options as Bun reads them: a listener needs { key, cert }, a settings object Bun takes
 * for no TLS fails the connect at once instead of waiting for a handshake that never comes,
 * and an HTTP server on a TLS listener says https:// (all found by review).
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, spawn, cancel, sleep, moveOnAfter, wait, httpServer } from "../../src/index.ts";
import { listen, connect, netStats, NetError } from "../../src/net/index.ts";
import { HOST, selfSigned } from "./helpers.ts";

describe.skipIf(!Bun.which("openssl"))("TLS options", () => {
  let dir = "";
  let tls = { key: "", cert: "" };
  beforeAll(async () => {
    dir = mkdtempSync(joinPath(tmpdir(), "corun-tls-options-"));
    tls = await selfSigned(dir, "localhost");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("listen() refuses tls without a key and a certificate, at the call (tls: {} accepted nothing; tls: true failed every handshake)", async () => {
    const messages = await run(function* () {
      const out: string[] = [];
      const secret = { passphrase: "hunter2", key: "-----BEGIN ENCRYPTED PRIVATE KEY-----" };
      for (const bad of [{}, true, { key: tls.key }, { cert: tls.cert, key: "" }, null, [], { key: [], cert: [] }, secret] as unknown[]) {
        try {
          const l = yield* listen({ hostname: HOST, port: 0, tls: bad as never });
          yield* l.close();
          out.push("listened");
        } catch (e) {
          out.push(e instanceof TypeError ? e.message : String(e));
        }
      }
      const ok = yield* listen({ hostname: HOST, port: 0, tls, handshakeTimeout: 1000 });
      const plain = yield* listen({ hostname: HOST, port: 0, tls: false });
      out.push(`${ok.tls} ${plain.tls}`);
      yield* ok.close();
      yield* plain.close();
      return out;
    });
    const needs = "listen(options): a TLS listener needs tls: { key, cert } (its private key and certificate); ";
    expect(messages).toEqual([
      `${needs}its key and cert are missing or empty (settings given: none)`,
      `${needs}got true`,
      `${needs}its cert is missing or empty (settings given: key)`,
      `${needs}its key is missing or empty (settings given: cert, key)`,
      `${needs}got null`,
      `${needs}got an array (Bun takes one settings object)`,
      `${needs}its key and cert are missing or empty (settings given: key, cert)`, // empty lists: Bun listened in clear (found by review)
      `${needs}its cert is missing or empty (settings given: passphrase, key)`, // the passphrase is not quoted (found by review)
      "true false",
    ]);
  });

  test("connect() with a tls object Bun reads as no TLS fails at once with EPROTO, naming it (it waited for ever)", async () => {
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0 });
      const srv = yield* spawn(function* () {
        for (;;) yield* l.accept();
      });
      const out: string[] = [];
      for (const settings of [{}, { requestCert: false }, { checkServerIdentity: () => undefined }]) {
        const got = yield* moveOnAfter(3000, function* () {
          try {
            const c = yield* connect({ hostname: HOST, port: l.port, tls: settings });
            yield* c.close();
            return "connected";
          } catch (e) {
            return e instanceof NetError ? `${e.code}: ${e.message}` : String(e);
          }
        });
        out.push(got ?? "hung 3 s");
      }
      yield* cancel(srv);
      yield* l.close();
      return out;
    });
    expect(r).toHaveLength(3);
    expect(r[0]).toStartWith("EPROTO: ");
    expect(r[0]).toContain("tls: {} made a plain TCP connection");
    expect(r[0]).toContain('in task "');
    expect(r[1]).toContain("tls: { requestCert } made a plain TCP connection");
    expect(r[2]).toContain("tls: { checkServerIdentity } made a plain TCP connection"); // a function is named, not dropped (found by review)
  }, 10_000);

  test("an HTTP server on a TLS listener serves HTTPS, and its url says https://", async () => {
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls });
      const server = yield* httpServer(l, function* (req) {
        return `ok ${req.path}`;
      });
      const res = yield* moveOnAfter(3000, () => wait(fetch(`${server.url}/x`, { tls: { rejectUnauthorized: false } }).then((x) => x.text())));
      yield* server.close();
      return { url: server.url, port: l.port, res };
    });
    expect(r.url).toBe(`https://${HOST}:${r.port}`);
    expect(r.res).toBe("ok /x");
  }, 10_000);
});

describe("connect({ tls }) to a peer that takes TCP and never answers the handshake", () => {
  test("fails with ETIMEDOUT after handshakeTimeout, naming the op and the task, and closes the socket (it waited for ever, holding its slot)", async () => {
    const r = await run(function* () {
      const silent = yield* listen({ hostname: HOST, port: 0 });
      const held = yield* spawn(function* () { const c = yield* silent.accept(); yield* sleep(5_000); yield* c.close(); });
      const t0 = performance.now();
      let error: unknown;
      try {
        yield* moveOnAfter(3_000, () => connect({ hostname: HOST, port: silent.port, tls: { rejectUnauthorized: false }, handshakeTimeout: 150 }));
      } catch (e) {
        error = e;
      }
      const took = performance.now() - t0;
      yield* sleep(20);
      const open = (yield* netStats()).connections;
      yield* cancel(held);
      yield* silent.close();
      return { error, took, open };
    });
    expect(r.error).toBeInstanceOf(NetError);
    expect((r.error as NetError).code).toBe("ETIMEDOUT");
    expect((r.error as NetError).message).toContain("tcp.connect");
    expect((r.error as NetError).message).toContain('in task "moveOnAfter');
    expect((r.error as NetError).message).toContain("the TLS handshake took longer than 150 ms");
    expect(r.took).toBeGreaterThanOrEqual(140);
    expect(r.took).toBeLessThan(3_000);
    expect(r.open).toBe(0); // the client's socket is gone (its reset ended the accepted side too)
  });

  test("handshakeTimeout is checked at the call: a number of ms from 1, and only with tls", () => {
    expect(() => connect({ hostname: HOST, port: 1, handshakeTimeout: 100 })).toThrow("connect(options): handshakeTimeout (100 ms) applies only to a TLS connect; add tls or drop it");
    for (const bad of [0, NaN, -5, 2 ** 31, "100"]) {
      expect(() => connect({ hostname: HOST, port: 1, tls: true, handshakeTimeout: bad as never })).toThrow(/^connect\(options\): handshakeTimeout must be a number of ms from 1 to 2\^31-1, got /);
    }
  });

  test("a connect cancelled mid-handshake leaves no timer behind: the process exits at once after run() (the default 10 s limit)", async () => {
    const script = `
      import { run, listen, connect, spawn, sleep } from ${JSON.stringify(joinPath(import.meta.dir, "../../src/index.ts"))};
      await run(function* () {
        const silent = yield* listen({ hostname: "127.0.0.1", port: 0 });
        yield* spawn(function* () { yield* silent.accept(); yield* sleep(60_000); });
        yield* spawn(function* () { yield* connect({ hostname: "127.0.0.1", port: silent.port, tls: { rejectUnauthorized: false } }); });
        yield* sleep(100);
      });
      console.log("run ended");`;
    const t0 = performance.now();
    const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const killer = setTimeout(() => p.kill(), 8_000);
    await p.exited;
    clearTimeout(killer);
    expect(await new Response(p.stdout).text()).toBe("run ended\n");
    expect(p.signalCode).toBeNull();
    expect(performance.now() - t0).toBeLessThan(6_000);
  }, 15_000);
});
