/**
 * The TCP driver at its edges: a peer's FIN before our writes meet its reset, bytes put back
 * while another task waits, close() with bytes still waiting for room, accepted connections'
 * names, connects withdrawn in flight, and TLS handshakes that fail or finish after close().
 * Loopback only; every case bounded in time.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, spawn, join, sleep, cancel, interrupt, moveOnAfter, wait, type Co, type Task } from "../../src/index.ts";
import { listen, connect, netStats, NetError, type Conn, type Listener } from "../../src/net/index.ts";
import { HOST, pair, selfSigned } from "./helpers.ts";
import type { Socket } from "bun";

const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

test("the peer answered and closed while we still wrote: its bytes, then null, whatever our writes met", async () => {
  const srv = Bun.listen<{ answered: boolean }>({
    hostname: HOST,
    port: 0,
    socket: {
      open(s) {
        s.data = { answered: false };
      },
      data(s) {
        if (s.data.answered) return;
        s.data.answered = true;
        s.write("RESPONSE");
        s.end();
      },
    },
  });
  try {
    const r = await run(function* () {
      const c = yield* connect({ hostname: HOST, port: srv.port });
      let writeError = "none";
      const up = yield* spawn(function* () {
        try {
          for (let i = 0; i < 200; i++) {
            yield* c.write(new Uint8Array(64 * 1024));
            yield* sleep(1);
          }
        } catch (e) {
          writeError = (e as NetError).code; // EPIPE or ECONNRESET: the peer had closed
        }
      });
      yield* join(up);
      const got = dec(yield* c.readAll());
      const again = yield* c.read();
      yield* c.close();
      return { writeError, got, again };
    });
    expect(r.writeError).not.toBe("none");
    expect(r.got).toBe("RESPONSE");
    expect(r.again).toBeNull();
  } finally {
    srv.stop(true);
  }
}, 10_000);

test("bytes put back with unread() while another task waits to read are handed to it", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const reader = yield* spawn(function* () {
      return dec(yield* server.read());
    });
    yield* sleep(5); // the reader waits
    server.unread(new TextEncoder().encode("A"));
    const got = yield* join(reader);
    yield* client.close();
    yield* server.close();
    return got;
  });
  expect(r).toBe("A");
}, 5000);

test("an accepted connection is named after its peer, not its listener", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0 });
    const acc = yield* spawn(function* () {
      return yield* l.accept();
    });
    const c = yield* connect({ hostname: HOST, port: l.port });
    const s = yield* join(acc);
    const out = { name: s.name, peer: `${s.remoteAddress}:${s.remotePort}`, listener: `${HOST}:${l.port}` };
    yield* c.close();
    yield* s.close();
    yield* l.close();
    return out;
  });
  expect(r.name).toBe(r.peer);
  expect(r.name).not.toBe(r.listener);
}, 5000);

test("close() with bytes still waiting for room sends them all before its FIN (a cancelled write's too)", async () => {
  const r = await run(function* () {
    const { client, server } = yield* pair();
    const big = new Uint8Array(16 << 20).fill(7);
    const w = yield* spawn(function* () {
      yield* client.write(big);
    });
    yield* sleep(20);
    const waiting = w.state; // the kernel took part of it; the rest waits for room
    yield* cancel(w);
    yield* client.close();
    let received = 0;
    let sevens = true;
    for (let b = yield* server.read(); b !== null; b = yield* server.read()) {
      received += b.length;
      if (sevens && b.some((x) => x !== 7)) sevens = false;
    }
    yield* server.close();
    // The client's socket, closed first, waits for the server's FIN (sent just now) before it goes.
    for (let i = 0; i < 100 && (yield* netStats()).connections > 0; i++) yield* sleep(5);
    return { waiting, received, sevens, connections: (yield* netStats()).connections };
  });
  expect(r.waiting).toBe("waiting");
  expect(r.received).toBe(16 << 20);
  expect(r.sevens).toBe(true);
  expect(r.connections).toBe(0);
}, 10_000);

test("close() with unsent bytes on a paused socket: a peer that writes before it reads is not left waiting", async () => {
  const r = await run(function* () {
    const l = yield* listen({ hostname: HOST, port: 0, highWaterMark: 64 * 1024 });
    const acc = yield* spawn(function* () {
      return yield* l.accept();
    });
    const c = yield* connect({ hostname: HOST, port: l.port });
    const s = yield* join(acc);
    let peer = "uploading";
    const client = yield* spawn(function* () {
      try {
        yield* c.write(new Uint8Array(32 << 20)); // uploads first, as an HTTP client does
        for (let b = yield* c.read(); b !== null; b = yield* c.read());
        peer = "done";
      } catch (e) {
        peer = `failed ${(e as NetError).code}`;
      }
    });
    yield* sleep(50); // its bytes fill s's buffer: s stops reading
    const answer = yield* spawn(function* () {
      try {
        yield* s.write(new Uint8Array(32 << 20));
      } catch {
        // closed under it
      }
    });
    yield* sleep(50);
    const paused = s.stats().pauses;
    yield* s.close(); // part of the answer is not sent yet
    for (let i = 0; i < 250 && peer === "uploading"; i++) yield* sleep(20);
    const out = { paused, peer };
    yield* cancel(client);
    yield* cancel(answer);
    yield* c.close();
    yield* l.close();
    return out;
  });
  expect(r.paused).toBeGreaterThan(0);
  expect(r.peer).not.toBe("uploading");
}, 20_000);

test("abort() after close() stops the sending too: the waiting write fails, the peer sees the socket go", async () => {
  let peerClosed = 0;
  const srv = Bun.listen({ hostname: HOST, port: 0, socket: { open: (s) => s.pause(), data: () => undefined, close: () => void peerClosed++, error: () => undefined } });
  try {
    const r = await run(function* () {
      const c = yield* connect({ hostname: HOST, port: srv.port });
      let writer = "writing";
      const w = yield* spawn(function* () {
        try {
          yield* c.write(new Uint8Array(64 << 20)); // the peer never reads: this waits for room
          writer = "wrote";
        } catch (e) {
          writer = `failed ${(e as NetError).code}`;
        }
      });
      yield* sleep(50);
      yield* c.close(); // would send the rest first...
      yield* c.abort(); // ...but abort stops that
      yield* join(w);
      return { writer, connections: (yield* netStats()).connections };
    });
    for (let i = 0; i < 100 && peerClosed === 0; i++) await Bun.sleep(20);
    expect(r).toEqual({ writer: "failed ERR_SOCKET_CLOSED", connections: 0 });
    expect(peerClosed).toBe(1);
  } finally {
    srv.stop(true);
  }
}, 10_000);

/**
 * Run `body` against a loopback listener with backlog 0 that never accepts (python3): once one
 * connection fills its queue, SYNs go unanswered (the kernel retries them for minutes).
 */
async function withSilentListener<T>(body: (port: number) => Promise<T>): Promise<T> {
  const py = Bun.spawn(["python3", "-c", "import socket,time,sys\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0)\nprint(s.getsockname()[1]); sys.stdout.flush(); time.sleep(20)"], { stdout: "pipe" });
  const port = Number(new TextDecoder().decode((await py.stdout.getReader().read()).value).trim());
  try {
    return await body(port);
  } finally {
    py.kill();
  }
}

/** A task connecting to `port` with `limit` connects in flight; a withdrawn connect ends it quietly. */
function dial(port: number, limit: number) {
  return spawn(function* () {
    try {
      yield* connect({ hostname: HOST, port, connectLimit: limit });
    } catch {
      // withdrawn
    }
  });
}

/** A task writing `n` bytes to `c`: "wrote", or the error's code. */
function writer(c: Conn, n: number) {
  return spawn(function* () {
    try {
      yield* c.write(new Uint8Array(n));
      return "wrote";
    } catch (e) {
      return (e as NetError).code;
    }
  });
}

test.skipIf(!Bun.which("python3"))("a connect withdrawn while in flight gives its slot to the next at once", async () => {
  const r = await withSilentListener((port) =>
    run(function* () {
      const first = yield* connect({ hostname: HOST, port, connectLimit: 1 }); // fills the queue
      const a = yield* dial(port, 1); // its SYN goes unanswered
      yield* sleep(100);
      yield* interrupt(a, new Error("gave up")); // as a request's deadline does
      yield* join(a);
      const s1 = yield* netStats();
      const b = yield* dial(port, 1);
      yield* sleep(100);
      const s2 = yield* netStats();
      yield* cancel(b);
      yield* first.close();
      return { started: s2.connectsStarted - s1.connectsStarted };
    }),
  );
  expect(r.started).toBe(1);
}, 15_000);

test.skipIf(!Bun.which("python3"))("the slot a withdrawn connect frees goes to the connect queued first, not to one made in the same tick", async () => {
  const r = await withSilentListener((port) =>
    run(function* () {
      const first = yield* connect({ hostname: HOST, port, connectLimit: 1 }); // fills the queue: later SYNs go unanswered
      const a = yield* dial(port, 1); // in flight, holding the one slot
      yield* sleep(50);
      const b = yield* dial(port, 1); // waits for the slot
      yield* sleep(50);
      const s1 = yield* netStats();
      const x = yield* spawn(function* () {
        yield* interrupt(a, new Error("gave up")); // frees the slot...
        yield* connect({ hostname: HOST, port, connectLimit: 1 }); // ...and connects in the same tick
      });
      yield* sleep(100);
      const s2 = yield* netStats();
      yield* cancel(b);
      yield* cancel(x);
      yield* first.close();
      return { started: s2.connectsStarted - s1.connectsStarted, queued: s2.connectsQueued - s1.connectsQueued };
    }),
  );
  expect(r).toEqual({ started: 1, queued: 1 }); // b started; x waits behind it
}, 15_000);

test("a connection closed while sending its last bytes, then reset by the peer: the waiting write hears the reset", async () => {
  let peer: Socket<undefined> | undefined;
  const srv = Bun.listen({ hostname: HOST, port: 0, socket: { open: (s) => void (peer = s, s.pause()), data: () => undefined, error: () => undefined } });
  try {
    const r = await run(function* () {
      const c = yield* connect({ hostname: HOST, port: srv.port });
      const w = yield* writer(c, 32 << 20);
      yield* sleep(50);
      yield* c.close(); // would send the rest first
      peer!.terminate();
      const code = yield* join(w);
      yield* sleep(20);
      return { code, connections: (yield* netStats()).connections };
    });
    expect(["ECONNRESET", "EPIPE"]).toContain(r.code);
    expect(r.connections).toBe(0);
  } finally {
    srv.stop(true);
  }
}, 10_000);

test("a connection closed with bytes the peer never takes is reset after closeLingerMs; the waiting write fails with ETIMEDOUT", async () => {
  let peerClosed = 0;
  const srv = Bun.listen({ hostname: HOST, port: 0, socket: { open: (s) => s.pause(), data: () => undefined, close: () => void peerClosed++, error: () => undefined } });
  try {
    const r = await run(function* () {
      const c = yield* connect({ hostname: HOST, port: srv.port, closeLingerMs: 100 });
      const w = yield* writer(c, 32 << 20);
      yield* sleep(50);
      yield* c.close();
      const during = (yield* netStats()).connections; // still sending
      const code = yield* join(w);
      yield* sleep(20);
      return { during, code, after: (yield* netStats()).connections };
    });
    for (let i = 0; i < 50 && peerClosed === 0; i++) await Bun.sleep(20);
    expect(r).toEqual({ during: 1, code: "ETIMEDOUT", after: 0 });
    expect(peerClosed).toBe(1);
  } finally {
    srv.stop(true);
  }
}, 10_000);

test.skipIf(!Bun.which("python3"))("a queued connect whose own limit has room starts once the one ahead of it is cancelled", async () => {
  const r = await withSilentListener((port) =>
    run(function* () {
      const first = yield* connect({ hostname: HOST, port }); // fills the queue: later SYNs go unanswered
      const a = yield* dial(port, 1); // in flight
      yield* sleep(30);
      const b = yield* dial(port, 1); // waits: one in flight, its limit 1
      yield* sleep(30);
      const c = yield* dial(port, 8); // its limit has room, but b came first
      yield* sleep(30);
      const s1 = yield* netStats();
      yield* cancel(b); // nothing ahead of c any more
      yield* sleep(50);
      const s2 = yield* netStats();
      yield* cancel(a);
      yield* cancel(c);
      yield* first.close();
      return s2.connectsStarted - s1.connectsStarted;
    }),
  );
  expect(r).toBe(1); // c started
}, 15_000);

test("when the run ends with bytes unsent and unread, the connection keeps neither", async () => {
  const srv = Bun.listen({ hostname: HOST, port: 0, socket: { open: (s) => void (s.write("hello"), s.pause()), data: () => undefined, error: () => undefined } });
  try {
    let conn: Conn | undefined;
    await run(function* () {
      const c = yield* connect({ hostname: HOST, port: srv.port });
      conn = c;
      yield* spawn(function* () {
        try {
          yield* c.write(new Uint8Array(32 << 20)); // the peer never reads
        } catch {
          // cancelled when the run ends
        }
      });
      yield* sleep(100); // "hello" has arrived, unread
    });
    expect({ buffered: conn!.stats().buffered, hasInput: conn!.hasInput, closed: conn!.closed }).toEqual({ buffered: 0, hasInput: false, closed: true });
  } finally {
    srv.stop(true);
  }
}, 10_000);

/**
 * A TLS client (`clientTls`) connects to `l` and sends `text`: what the first connection `l`
 * accepts reads (its text, "a dead connection", or "accept hung" after 3 s).
 */
function* acceptedFrom(l: Listener, text: string, clientTls: Record<string, unknown>): Co<string> {
  const acc = yield* spawn(function* () {
    const s = yield* l.accept();
    const b = yield* s.read();
    yield* s.close();
    return b === null ? "a dead connection" : dec(b)!;
  });
  const c = yield* connect({ hostname: HOST, port: l.port, tls: clientTls });
  yield* c.write(text);
  const got = yield* moveOnAfter(3000, () => join(acc));
  yield* c.close();
  return got ?? "accept hung";
}

describe.skipIf(!Bun.which("openssl"))("TLS", () => {
  let dir = "";
  let tls = { key: "", cert: "" };
  beforeAll(async () => {
    dir = mkdtempSync(joinPath(tmpdir(), "corun-tls-"));
    tls = await selfSigned(dir, "localhost");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a connect that verifies certificates fails on a self-signed one, with its code", async () => {
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls });
      const srv = yield* spawn(function* () {
        for (;;) {
          const s = yield* l.accept();
          yield* s.write("hello");
        }
      });
      let out: string;
      try {
        const c = yield* connect({ hostname: HOST, port: l.port, tls: true });
        out = `connected; read ${dec(yield* c.read())}`;
      } catch (e) {
        out = (e as NetError).code;
      }
      yield* cancel(srv);
      yield* l.close();
      return out;
    });
    expect(r).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  }, 10_000);

  test("TLS connects to a peer that resets during the handshake all fail, and free their slots", async () => {
    const srv = Bun.listen({ hostname: HOST, port: 0, socket: { data: (s) => void s.terminate() } });
    try {
      const r = await run(function* () {
        const ts: Task<string>[] = [];
        for (let i = 0; i < 3; i++) {
          ts.push(
            yield* spawn(function* () {
              try {
                yield* connect({ hostname: HOST, port: srv.port, tls: { rejectUnauthorized: false }, connectLimit: 1 });
                return "connected";
              } catch (e) {
                return e instanceof NetError ? "failed" : String(e);
              }
            }),
          );
        }
        const out: string[] = [];
        for (const t of ts) out.push(yield* join(t));
        return out;
      });
      expect(r).toEqual(["failed", "failed", "failed"]);
    } finally {
      srv.stop(true);
    }
  }, 10_000);

  test("with rejectUnauthorized: false, a handshake that fails (the peer does not speak TLS) still fails the connect", async () => {
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0 }); // plaintext: reads the ClientHello, then closes
      const srv = yield* spawn(function* () {
        const s = yield* l.accept();
        yield* s.read();
        yield* s.close();
      });
      const out = yield* moveOnAfter(3000, function* () {
        try {
          yield* connect({ hostname: HOST, port: l.port, tls: { rejectUnauthorized: false } });
          return "connected";
        } catch (e) {
          return `${(e as NetError).code} ${(e as NetError).op}`;
        }
      });
      yield* cancel(srv);
      yield* l.close();
      return out ?? "hung";
    });
    expect(r).toBe("ECONNRESET tcp.connect");
  }, 10_000);

  test("a TLS connect withdrawn while the peer never answers its handshake closes its socket", async () => {
    let opened = 0;
    let closed = 0;
    const srv = Bun.listen({ hostname: HOST, port: 0, socket: { open: () => void opened++, data: () => undefined, close: () => void closed++, error: () => undefined } });
    try {
      const state = await run(function* () {
        const t = yield* spawn(function* () {
          yield* connect({ hostname: HOST, port: srv.port, tls: { rejectUnauthorized: false } });
        });
        yield* sleep(100); // TCP is connected; the peer never answers the handshake
        yield* cancel(t);
        return t.state;
      });
      for (let i = 0; i < 50 && closed === 0; i++) await Bun.sleep(20);
      expect(state).toBe("cancelled");
      expect({ opened, closed }).toEqual({ opened: 1, closed: 1 });
    } finally {
      srv.stop(true);
    }
  }, 10_000);

  test("a TLS listener closed during a handshake does not take that connection", async () => {
    let opened = false;
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls });
      Bun.connect({ hostname: HOST, port: l.port, tls: { rejectUnauthorized: false }, socket: { open: () => void (opened = true), handshake: () => undefined, data: () => undefined } }).catch(() => undefined);
      for (let i = 0; i < 200 && !opened; i++) yield* sleep(0);
      yield* l.close(); // TCP is connected; the handshake is still going on
      yield* sleep(200);
      const s = yield* netStats();
      return { accepted: s.accepted, connections: s.connections };
    });
    expect(opened).toBe(true);
    expect(r).toEqual({ accepted: 0, connections: 0 });
  }, 10_000);

  test("a client that fails the TLS handshake is never accepted: accept() gets the next, good connection", async () => {
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls });
      // Plain text to a TLS port: the handshake fails and the connection is dropped, unseen.
      const plain = Bun.connect({ hostname: HOST, port: l.port, socket: { open: (s) => void s.write("GET / HTTP/1.1\r\n\r\n"), data: () => undefined, error: () => undefined } }).catch(() => undefined);
      yield* wait(plain);
      yield* sleep(50);
      const got = yield* acceptedFrom(l, "hello", { rejectUnauthorized: false });
      yield* l.close();
      return got;
    });
    expect(r).toBe("hello");
  }, 10_000);

  test("a silent client mid-handshake is closed when the TLS listener closes, while the run goes on", async () => {
    let closedByServer = false;
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls });
      const silent = yield* wait(Bun.connect({ hostname: HOST, port: l.port, socket: { data: () => undefined, close: () => void (closedByServer = true), error: () => undefined } }));
      yield* sleep(50); // accepted by the host, its handshake never starts
      yield* l.close();
      for (let i = 0; i < 100 && !closedByServer; i++) yield* sleep(10);
      silent.end();
      return closedByServer;
    });
    expect(r).toBe(true);
  }, 10_000);

  test("a client whose certificate the listener asked for and does not trust is dropped unseen: accept() gets the next, good client (found by review)", async () => {
    const stranger = await selfSigned(dir, "stranger");
    const r = await run(function* () {
      // Client certificates required, trusted only if signed by our own (rejectUnauthorized by default).
      const l = yield* listen({ hostname: HOST, port: 0, tls: { ...tls, ca: tls.cert, requestCert: true } });
      const bad = Bun.connect({ hostname: HOST, port: l.port, tls: { ...stranger, rejectUnauthorized: false }, socket: { handshake: (s) => void s.write("from the stranger"), data: () => undefined, error: () => undefined } }).catch(() => undefined);
      yield* wait(bad);
      yield* sleep(100);
      const got = yield* acceptedFrom(l, "hello", { ...tls, rejectUnauthorized: false });
      const accepted = (yield* netStats()).accepted;
      yield* l.close();
      return { got, accepted };
    });
    expect(r).toEqual({ got: "hello", accepted: 1 });
  }, 10_000);

  test("a client that does not finish its TLS handshake within handshakeTimeout is closed, unseen, while the listener goes on", async () => {
    let closedByServer = false;
    const r = await run(function* () {
      const l = yield* listen({ hostname: HOST, port: 0, tls, handshakeTimeout: 100 });
      const t0 = performance.now();
      const silent = yield* wait(Bun.connect({ hostname: HOST, port: l.port, socket: { data: () => undefined, close: () => void (closedByServer = true), error: () => undefined } }));
      for (let i = 0; i < 300 && !closedByServer; i++) yield* sleep(10);
      const after = performance.now() - t0;
      silent.end();
      // The listener still serves a client that does finish its handshake.
      const got = yield* acceptedFrom(l, "still here", { rejectUnauthorized: false });
      yield* l.close();
      return { closedByServer, early: after < 90, got, accepted: (yield* netStats()).accepted };
    });
    expect(r).toEqual({ closedByServer: true, early: false, got: "still here", accepted: 1 });
    expect(() => listen({ hostname: HOST, port: 0, tls, handshakeTimeout: 0 })).toThrow(/handshakeTimeout must be a number of ms from 1/);
    expect(() => listen({ hostname: HOST, port: 0, tls, handshakeTimeout: 0.5 })).toThrow(/handshakeTimeout must be a number of ms from 1/); // under 1 ms (found by review)
    // Without tls there is no handshake to time: an error, not a silently ignored option.
    expect(() => listen({ hostname: HOST, port: 0, handshakeTimeout: 100 })).toThrow(/handshakeTimeout \(100 ms\) applies only to a TLS listener/);
    expect(() => listen({ hostname: HOST, port: 0, tls: false, handshakeTimeout: 100 })).toThrow(/handshakeTimeout \(100 ms\) applies only to a TLS listener/);
  }, 10_000);

  test("a process whose TLS listener has a silent client mid-handshake exits when run() ends (it never did; found by review)", async () => {
    const src = joinPath(import.meta.dir, "../../src/index.ts");
    const script = `
      import { run, sleep, listen } from ${JSON.stringify(src)};
      const tls = ${JSON.stringify(tls)};
      await run(function* () {
        const l = yield* listen({ hostname: "127.0.0.1", port: 0, tls });
        console.log(l.port);
        yield* sleep(300); // the parent connects meanwhile and never starts a handshake
      });
    `;
    const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    const reader = p.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    let closedByServer = false;
    const silent = await Bun.connect({ hostname: HOST, port: Number(text.trim()), socket: { data: () => undefined, close: () => void (closedByServer = true), error: () => undefined } });
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      p.kill();
    }, 5_000);
    await p.exited;
    clearTimeout(killer);
    silent.end();
    expect({ killed, closedByServer }).toEqual({ killed: false, closedByServer: true });
  }, 15_000);
});

test("a listener or connection used from another, concurrent run() is refused with EBADF (it hung both; found by review)", async () => {
  let inner: unknown[] = [];
  const outer = await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const mine = yield* l.accept();
    const errors = yield* wait(
      run(function* () {
        const out: unknown[] = [];
        try {
          yield* l.accept();
        } catch (error) {
          out.push(error);
        }
        try {
          yield* c.read();
        } catch (error) {
          out.push(error);
        }
        return out;
      }),
    );
    inner = errors;
    yield* mine.close();
    yield* c.close();
    yield* l.close();
    return "outer done";
  });
  expect(outer).toBe("outer done");
  expect(inner.map((e) => (e as NetError).code)).toEqual(["EBADF", "EBADF"]);
  expect(String((inner[0] as Error).message)).toContain("belongs to another run()");
});
