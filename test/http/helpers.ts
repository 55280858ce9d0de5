/**
 * Helpers for the HTTP tests: run curl (always bounded by --max-time) and talk raw bytes to a
 * server with node:net (bounded by a timer), both as promises a corun task can `wait` for.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** Run /usr/bin/curl with `args` (plus --max-time 5 and --silent); resolves with exit code and output. */
export async function curl(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(["/usr/bin/curl", "--max-time", "5", "--silent", "--show-error", ...args], {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

/** Send `chunks` (with `gapMs` between them) to 127.0.0.1:port; resolve with all bytes received until the server closes. */
export function raw(port: number, chunks: string[], opts: { gapMs?: number; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    let got = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw: no close after ${opts.timeoutMs ?? 3000} ms; got ${JSON.stringify(got)}`));
    }, opts.timeoutMs ?? 3000);
    sock.on("data", (d) => (got += d.toString("latin1")));
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.on("error", () => {});
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(Buffer.from(c, "latin1")); // one byte per character, so tests can send any byte
        if (opts.gapMs) await Bun.sleep(opts.gapMs);
      }
    });
  });
}

/** A raw TCP server on 127.0.0.1 that answers every connection with `reply(requestText)` (or stays silent for null). */
export function rawServer(reply: (req: string) => string | null, opts: { close?: boolean } = {}): Promise<{ port: number; server: Server; connections: () => number }> {
  let count = 0;
  const server = createServer((sock) => {
    count++;
    let buf = "";
    let answered = false;
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      if (answered || !buf.includes("\r\n\r\n")) return;
      answered = true;
      const r = reply(buf);
      if (r === null) return;
      sock.write(r);
      if (opts.close !== false) sock.end();
    });
    sock.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, server, connections: () => count })));
}

/** A keep-alive HTTP/1.1 server for pool tests (see `keepAliveServer`). */
export interface KeepAliveServer {
  port: number;
  /** Sockets open now, on the server's side. */
  live(): number;
  /** Most requests in progress at once. */
  maxBusy(): number;
  stop(): void;
}

/**
 * A node:net keep-alive server on 127.0.0.1 answering every request "ok" (HTTP/1.0 requests
 * with a close): `GET /slow` after 150 ms, `GET /slow?ms=N` after N ms, others at once.
 * It counts its live sockets and the most requests in progress at once.
 */
export function keepAliveServer(): Promise<KeepAliveServer> {
  const socks = new Set<Socket>();
  let busy = 0;
  let maxBusy = 0;
  const server = createServer((sock) => {
    socks.add(sock);
    sock.on("close", () => socks.delete(sock));
    sock.on("error", () => {});
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      for (let i = buf.indexOf("\r\n\r\n"); i >= 0; i = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        const http10 = / HTTP\/1\.0\r?$/m.test(head.split("\n")[0]!);
        const delay = /^GET \/slow\?ms=(\d+)/.exec(head)?.[1] ?? (head.startsWith("GET /slow") ? "150" : undefined);
        busy++;
        maxBusy = Math.max(maxBusy, busy);
        const answer = (): void => {
          busy--;
          if (sock.destroyed) return;
          if (http10) sock.end("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
          else sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        };
        if (delay === undefined) answer();
        else setTimeout(answer, Number(delay));
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as { port: number }).port,
        live: () => socks.size,
        maxBusy: () => maxBusy,
        stop: () => {
          for (const s of socks) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

/**
 * A node:net client on 127.0.0.1:port kept open for the test to drive: `send` raw text, read
 * what came so far (`text`), and promises for its connect and its close (whether by a FIN or
 * a reset: `error` tells). `stop()` destroys it; tests always call it.
 */
export class Peer {
  readonly sock: Socket;
  #got: Buffer[] = [];
  error: Error | undefined = undefined;
  closed = false;
  readonly connected: Promise<void>;
  readonly ended: Promise<void>;
  /** `halfOpen`: the client's side stays open after the server's FIN (it keeps "sending"). */
  constructor(port: number, halfOpen = false) {
    this.sock = createConnection({ host: "127.0.0.1", port, allowHalfOpen: halfOpen });
    this.connected = new Promise((resolve) => this.sock.once("connect", () => resolve()));
    this.ended = new Promise((resolve) => this.sock.once("close", () => { this.closed = true; resolve(); }));
    this.sock.on("error", (e) => (this.error = e));
    this.sock.on("data", (d: Buffer) => this.#got.push(d));
  }
  send(text: string): void {
    this.sock.write(Buffer.from(text, "latin1"));
  }
  /** Everything received so far, one character per byte. */
  text(): string {
    return Buffer.concat(this.#got).toString("latin1");
  }
  /** Bytes received so far. */
  get received(): number {
    return this.#got.reduce((n, b) => n + b.length, 0);
  }
  /** Resolves once closed, or after `ms` (then `closed` is still false). */
  endedWithin(ms: number): Promise<void> {
    return Promise.race([this.ended, Bun.sleep(ms)]);
  }
  stop(): void {
    this.sock.destroy();
  }
}

/**
 * A node:net server on 127.0.0.1 that calls `onRequest(sock, head, connIndex, requestIndexOnConn)`
 * for every request head it receives (a Content-Length body is skipped), to answer as a test
 * scripts it: whole, in part, then a reset... `stop()` destroys every socket and closes it.
 */
export function scripted(onRequest: (sock: Socket, head: string, conn: number, n: number) => void): Promise<{ port: number; stop: () => void }> {
  let conns = 0;
  const socks = new Set<Socket>();
  const server = createServer((sock) => {
    const ci = conns++;
    socks.add(sock);
    sock.on("close", () => socks.delete(sock));
    sock.on("error", () => {});
    let buf = "";
    let n = 0;
    let skip = 0;
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      for (;;) {
        if (skip > 0) {
          const k = Math.min(skip, buf.length);
          buf = buf.slice(k);
          skip -= k;
          if (skip > 0) return;
        }
        const i = buf.indexOf("\r\n\r\n");
        if (i < 0) return;
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        skip = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        onRequest(sock, head, ci, n++);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as { port: number }).port,
        stop: () => {
          for (const s of socks) s.destroy();
          server.close();
        },
      }),
    ),
  );
}
