/**
 * Scenario "echo": a TCP echo server and its clients in one process, on 127.0.0.1.
 * Phase 1: C connections each do R ping-pong round trips of 64 bytes (round trips/s).
 * Phase 2: a few connections stream bytes through the echo and read them back (MB/s).
 * Each peer first runs an untimed warm-up of the ping-pong (a quarter of the rounds).
 * Peers: corun (server and clients as coroutines), raw Bun.listen/Bun.connect callbacks,
 * node:net with async iteration. Run alone with `bun bench/scenarios/echo.ts [--quick]`.
 */
import * as net from "node:net";
import { once } from "node:events";
import type { Socket, SocketListener } from "bun";
import { run, spawn, join, listen, connect, netStats, type Conn, type Task, type Co } from "../../src/index.ts";
import type { PeerOptions, Scenario } from "../scenario.ts";
import { runStandalone } from "../harness/standalone.ts";

interface Sizes {
  /** Ping-pong: connections and round trips each. */
  conns: number;
  rounds: number;
  /** Streaming: connections and bytes each (sent and echoed back). */
  streams: number;
  bytes: number;
}

const MSG = 64;
const BLOCK = 64 * 1024;

function sizes(opts: PeerOptions): Sizes {
  if (opts.tiny) return { conns: 4, rounds: 50, streams: 2, bytes: 1 << 20 };
  if (opts.quick) return { conns: 50, rounds: 400, streams: 4, bytes: 16 << 20 };
  return { conns: 100, rounds: 2000, streams: 4, bytes: 64 << 20 };
}

/** Round trips per connection of the untimed warm-up (every peer gets the same). */
function warm(s: Sizes): number {
  return Math.max(10, Math.floor(s.rounds / 4));
}

function figures(s: Sizes, pingMs: number, streamMs: number, extra: Record<string, number> = {}): Record<string, number> {
  return {
    roundTripsPerSec: Math.round((s.conns * s.rounds) / (pingMs / 1000)),
    mbPerSec: Math.round(((s.streams * s.bytes) / 1e6 / (streamMs / 1000)) * 10) / 10,
    pingMs: Math.round(pingMs),
    streamMs: Math.round(streamMs),
    ...extra,
  };
}

// ─── corun ─────────────────────────────────────────────────────────────────────
function* pingClient(port: number, rounds: number): Co<void> {
  const c: Conn = yield* connect({ hostname: "127.0.0.1", port });
  const msg = new Uint8Array(MSG).fill(42);
  for (let i = 0; i < rounds; i++) {
    yield* c.write(msg);
    let got = 0;
    while (got < MSG) {
      const b = yield* c.read();
      if (b === null) throw new Error("echo: server closed early");
      got += b.length;
    }
  }
  yield* c.close();
}

function* streamClient(port: number, bytes: number): Co<void> {
  const c = yield* connect({ hostname: "127.0.0.1", port });
  const writer = yield* spawn(function* () {
    const block = new Uint8Array(BLOCK).fill(7);
    for (let sent = 0; sent < bytes; sent += BLOCK) yield* c.write(block);
  });
  let got = 0;
  while (got < bytes) {
    const b = yield* c.read();
    if (b === null) throw new Error("echo: server closed early");
    got += b.length;
  }
  yield* join(writer);
  yield* c.close();
}

async function corunPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const s = sizes(opts);
  return run(function* () {
    const server = yield* listen({ hostname: "127.0.0.1", port: 0 });
    yield* spawn(function* () {
      for (;;) {
        const c = yield* server.accept();
        yield* spawn(function* () {
          for (let b = yield* c.read(); b !== null; b = yield* c.read()) yield* c.write(b);
          yield* c.close();
        });
      }
    });
    const phase = function* (n: number, make: () => Co<void>): Co<number> {
      const t0 = performance.now();
      const ts: Task<void>[] = [];
      for (let i = 0; i < n; i++) ts.push(yield* spawn(make));
      for (const t of ts) yield* join(t);
      return performance.now() - t0;
    };
    yield* phase(s.conns, () => pingClient(server.port, warm(s))); // warm-up, not timed
    const pingMs = yield* phase(s.conns, () => pingClient(server.port, s.rounds));
    const streamMs = yield* phase(s.streams, () => streamClient(server.port, s.bytes));
    const st = yield* netStats(); // the server is closed when run() ends
    return figures(s, pingMs, streamMs, { writesPerHostWrite: Math.round((st.writeOps / st.hostWrites) * 100) / 100 });
  });
}

// ─── shared by the Promise-based peers ───────────────────────────────────────────
/** Time the warm-up (untimed), ping and stream phases, each client a concurrent promise. */
async function promisePhases(
  s: ReturnType<typeof sizes>,
  pingOne: (rounds: number) => Promise<void>,
  streamOne: () => Promise<void>,
): Promise<{ pingMs: number; streamMs: number }> {
  const phase = async (n: number, one: () => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, one));
    return performance.now() - t0;
  };
  await phase(s.conns, () => pingOne(warm(s))); // warm-up, not timed
  const pingMs = await phase(s.conns, () => pingOne(s.rounds));
  const streamMs = await phase(s.streams, streamOne);
  return { pingMs, streamMs };
}

// ─── raw Bun callbacks ─────────────────────────────────────────────────────────
/** A socket's unsent bytes, resent on drain (Bun's write takes what the kernel accepts). */
interface Out {
  pending: Uint8Array[];
  onDrained?: () => void;
}

function send(s: Socket<Out>, data: Uint8Array): void {
  const o = s.data;
  if (o.pending.length > 0) {
    o.pending.push(data);
    return;
  }
  const n = s.write(data);
  if (n < data.length) o.pending.push(data.subarray(Math.max(0, n)));
}

function drain(s: Socket<Out>): void {
  const o = s.data;
  while (o.pending.length > 0) {
    const d = o.pending[0]!;
    const n = s.write(d);
    if (n < d.length) {
      o.pending[0] = d.subarray(Math.max(0, n));
      return;
    }
    o.pending.shift();
  }
  o.onDrained?.();
}

async function rawPeer(opts: PeerOptions): Promise<Record<string, number>> {
  const s = sizes(opts);
  const server: SocketListener<Out> = Bun.listen<Out>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: (sock) => void (sock.data = { pending: [] }),
      data: (sock, d) => send(sock, d),
      drain,
    },
  }) as SocketListener<Out>;
  const port = (server as unknown as { port: number }).port;

  const pingOne = (rounds: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const msg = new Uint8Array(MSG).fill(42);
      let round = 0;
      let got = 0;
      Bun.connect<Out>({
        hostname: "127.0.0.1",
        port,
        data: { pending: [] },
        socket: {
          open: (sock) => send(sock, msg),
          data: (sock, d) => {
            got += d.length;
            if (got < MSG) return;
            got = 0;
            if (++round === rounds) {
              sock.end();
              resolve();
            } else send(sock, msg);
          },
          drain,
          connectError: (_sock, e) => reject(e),
        },
      });
    });

  const streamOne = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const block = new Uint8Array(BLOCK).fill(7);
      let sent = 0;
      let got = 0;
      const pump = (sock: Socket<Out>): void => {
        while (sent < s.bytes && sock.data.pending.length === 0) {
          send(sock, block);
          sent += BLOCK;
        }
      };
      Bun.connect<Out>({
        hostname: "127.0.0.1",
        port,
        data: { pending: [] },
        socket: {
          open: (sock) => {
            sock.data.onDrained = () => pump(sock);
            pump(sock);
          },
          data: (sock, d) => {
            got += d.length;
            if (got >= s.bytes) {
              sock.end();
              resolve();
            }
          },
          drain,
          connectError: (_sock, e) => reject(e),
        },
      });
    });

  const { pingMs, streamMs } = await promisePhases(s, pingOne, streamOne);
  server.stop(true);
  return figures(s, pingMs, streamMs);
}

// ─── node:net with async iteration ─────────────────────────────────────────────
async function nodePeer(opts: PeerOptions): Promise<Record<string, number>> {
  const s = sizes(opts);
  const server = net.createServer((sock) => {
    void (async () => {
      try {
        for await (const chunk of sock) if (!sock.write(chunk)) await once(sock, "drain");
        sock.end();
      } catch {
        sock.destroy();
      }
    })();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;

  const dial = async (): Promise<net.Socket> => {
    const sock = net.connect(port, "127.0.0.1");
    await once(sock, "connect");
    return sock;
  };
  const pingOne = async (rounds: number): Promise<void> => {
    const sock = await dial();
    const it = sock[Symbol.asyncIterator]();
    const msg = Buffer.alloc(MSG, 42);
    for (let i = 0; i < rounds; i++) {
      sock.write(msg);
      let got = 0;
      while (got < MSG) {
        const r = await it.next();
        if (r.done) throw new Error("echo: server closed early");
        got += (r.value as Buffer).length;
      }
    }
    sock.end();
  };
  const streamOne = async (): Promise<void> => {
    const sock = await dial();
    const block = Buffer.alloc(BLOCK, 7);
    const writer = (async () => {
      for (let sent = 0; sent < s.bytes; sent += BLOCK) if (!sock.write(block)) await once(sock, "drain");
    })();
    let got = 0;
    for await (const chunk of sock) {
      got += (chunk as Buffer).length;
      if (got >= s.bytes) break;
    }
    await writer;
    sock.destroy();
  };
  const { pingMs, streamMs } = await promisePhases(s, pingOne, streamOne);
  server.close();
  server.unref();
  return figures(s, pingMs, streamMs);
}

export const scenario: Scenario = {
  name: "echo",
  description:
    "TCP echo on 127.0.0.1: 64-byte ping-pong over many connections (round trips/s), then streaming through the echo (MB/s); " +
    "corun coroutines vs raw Bun.listen/Bun.connect callbacks vs node:net with async iteration",
  primary: { metric: "roundTripsPerSec", better: "higher" },
  targets: [{ metric: "roundTripsPerSec", vs: "bun callbacks", min: 0.8, label: "≥ 0.8× raw Bun callbacks" }],
  rounds: (opts) => (opts.tiny ? 1 : opts.quick ? 3 : 5),
  peers: {
    corun: corunPeer,
    "bun callbacks": rawPeer,
    "node:net": nodePeer,
  },
};

if (import.meta.main) await runStandalone(scenario);
