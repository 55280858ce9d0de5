/**
 * The UDP driver: the `udp.*` ops (bind, send, recv, close) on Bun.udpSocket, one instance
 * per reactor. Datagrams sent in one tick leave through one `sendMany` (one sendmmsg);
 * those the kernel did not take are resent on drain. Only reactor files call Bun.
 */
import type { udp } from "bun";
import { isIP } from "node:net";
import { BunReactor, type IoDriver } from "./bun.ts";
import type { CompletionSink, Submission, Ticket } from "./reactor.ts";
import { NetCode, NetError, earlierSendError, hostPort, toNetError } from "../net/errors.ts";
import type { UdpOptions } from "../net/options.ts";

/**
 * A received datagram.
 *
 * @example
 * ```ts
 * import type { Datagram, UdpSocket } from "corun";
 * // An echo: each datagram sent back where it came from (yield* echo(sock, yield* sock.recv())).
 * const echo = (sock: UdpSocket, d: Datagram) => sock.send(d.data, d.port, d.address);
 * ```
 */
export interface Datagram {
  data: Uint8Array;
  /** The sender's port and address. */
  port: number;
  address: string;
}

/**
 * Per-socket counters, read with `socket.stats()`.
 *
 * @example
 * ```ts
 * import type { UdpSocket, UdpStats } from "corun";
 * const lossy = (sock: UdpSocket): boolean => { const s: UdpStats = sock.stats(); return s.dropped > 0 || s.errors > 0; };
 * ```
 */
export interface UdpStats {
  /** `send()` calls made by tasks. */
  sendOps: number;
  /** Host send calls made: one `sendMany` for a tick's datagrams, and single sends after one it refused or took in part. */
  hostSends: number;
  /** Datagrams the kernel took. */
  sent: number;
  /** Datagrams received. */
  received: number;
  /** Datagrams dropped because `maxQueued` were waiting for `recv()`. */
  dropped: number;
  /**
   * Errors the host reported for datagrams already sent, such as `ECONNREFUSED` for one that
   * reached a port nobody listens on (an ICMP reply): they cannot be tied to a `send()`, so
   * they are counted here, and the socket goes on. The last one is `socket.lastError`.
   */
  errors: number;
}

/** The driver's record of a UDP socket. Opaque to users: `UdpSocket` wraps it. */
export class UdpHandle {
  /** For errors: `udp host:port`, the port asked for until bound, then the one bound. */
  name: string;
  socket: udp.Socket<"buffer"> | undefined = undefined;
  port = 0;
  hostname = "";
  readonly maxQueued: number;
  inbox: Datagram[] = [];
  readers: Ticket[] = [];
  /** Flat [data, port, address, ...] waiting to be sent, and their tickets. */
  out: (Uint8Array | string | number)[] = [];
  outTickets: Ticket[] = [];
  waitingDrain = false;
  touched = false;
  closed = false;
  /** The driver (so the run()) it belongs to: another run's ops on it are refused. */
  owner: object | undefined = undefined;
  readonly counters: UdpStats = { sendOps: 0, hostSends: 0, sent: 0, received: 0, dropped: 0, errors: 0 };
  /** The last error the host reported for a datagram already sent (see `UdpStats.errors`). */
  lastError: NetError | undefined = undefined;
  constructor(name: string, maxQueued: number) {
    this.name = name;
    this.maxQueued = maxQueued;
  }
}

class UdpDriver implements IoDriver {
  #sink: CompletionSink | undefined;
  readonly #socks = new Set<UdpHandle>();
  readonly #binding = new Set<Ticket>();
  #touched: UdpHandle[] = [];

  submit(batch: readonly Submission[], sink: CompletionSink): void {
    this.#sink = sink;
    for (const t of batch) {
      const h = t.a as UdpHandle;
      // A socket of another run() (whose completions would go to that run's kernel): refused.
      if (t.op !== "udp.bind" && h?.owner !== this) {
        sink.fail(t, new NetError("EBADF", t.op, String(h?.name ?? ""), t.taskName, "the socket belongs to another run(): a socket is used by the run() that opened it"));
        continue;
      }
      switch (t.op) {
        case "udp.send": {
          if (h.closed) {
            sink.fail(t, new NetError(NetCode.Closed, t.op, h.name, t.taskName));
            break;
          }
          if (!isSendArgs(t.b)) {
            // Only a descriptor made by hand gets here (UdpSocket.send checks): thrown here, it would fail the whole run.
            sink.fail(t, new TypeError(`udp driver: task "${t.taskName}" yielded udp.send on ${h.name} with ${Array.isArray(t.b) ? "an array that is not" : `${typeof t.b}, not`} [data (a string or Uint8Array), port (1-65535), address (an IP address)] (a descriptor made by hand?)`));
            break;
          }
          h.counters.sendOps++; // a send taken (a refused one is not counted)
          const [data, port, address] = t.b;
          h.out.push(data, port, address);
          h.outTickets.push(t);
          if (!h.touched) {
            h.touched = true;
            this.#touched.push(h);
          }
          break;
        }
        case "udp.recv":
          if (h.inbox.length > 0) sink.complete(t, h.inbox.shift());
          else if (h.closed) sink.fail(t, new NetError(NetCode.Closed, t.op, h.name, t.taskName));
          else h.readers.push(t);
          break;
        case "udp.bind":
          this.#bind(t, sink);
          break;
        case "udp.close":
          this.#flush(h, sink);
          this.#close(h, sink);
          sink.complete(t, undefined);
          break;
        default:
          sink.fail(t, new TypeError(`udp driver: unknown op "${t.op}" from task "${t.taskName}"`));
      }
    }
    const touched = this.#touched;
    if (touched.length > 0) {
      this.#touched = [];
      for (const h of touched) this.#flush(h, sink);
    }
  }

  cancel(t: Ticket): void {
    this.#binding.delete(t);
    const h = t.a as UdpHandle;
    if (t.op === "udp.recv") {
      const i = h.readers.indexOf(t);
      if (i >= 0) h.readers.splice(i, 1);
    } else if (t.op === "udp.send") {
      const i = h.outTickets.indexOf(t);
      if (i >= 0) h.outTickets[i] = CANCELLED; // the datagram still goes
    }
  }

  close(): void {
    for (const h of this.#socks) this.#close(h, undefined);
    this.#socks.clear();
    this.#binding.clear();
  }

  #bind(t: Ticket, sink: CompletionSink): void {
    const o = t.a as UdpOptions;
    const hostname = o.hostname ?? "127.0.0.1";
    const h = new UdpHandle(`udp ${hostPort(hostname, o.port ?? 0)}`, o.maxQueued ?? 4096);
    h.owner = this;
    const wrap = t.b as ((h: UdpHandle) => unknown) | undefined;
    this.#binding.add(t);
    let binding: Promise<udp.Socket<"buffer">>;
    try {
      binding = Bun.udpSocket({
        hostname,
        port: o.port ?? 0,
        socket: {
          data: (_s, data, port, address) => this.#onData(h, { data, port, address }),
          drain: () => {
            h.waitingDrain = false;
            this.#flush(h, this.#sink!);
          },
          // An ICMP error for a datagram sent earlier (nothing listens on that port, say). With no
          // handler Bun reports it as an uncaught exception, which ends the process.
          // (Bun 1.4.5 passes the error alone, the socket as `this`, though its types say (socket, error).)
          error: (...args: unknown[]) => {
            const error = args.find((a) => a instanceof Error) ?? args.find((a) => a !== h.socket && a !== undefined);
            h.counters.errors++;
            h.lastError = earlierSendError(error, h.name); // no one send, so no one task
          },
        },
      });
    } catch (error) {
      // Refused at once (a host name that does not resolve, say): only this bind fails.
      this.#binding.delete(t);
      return sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
    }
    binding.then(
      (s) => {
        if (!this.#binding.delete(t)) return s.close(); // cancelled, or the run ended
        h.socket = s;
        h.port = s.port;
        h.hostname = s.hostname;
        h.name = `udp ${hostPort(s.hostname, s.port)}`;
        this.#socks.add(h);
        sink.complete(t, wrap === undefined ? h : wrap(h));
      },
      (error: unknown) => {
        if (this.#binding.delete(t)) sink.fail(t, toNetError(error, t.op, h.name, t.taskName));
      },
    );
  }

  #onData(h: UdpHandle, d: Datagram): void {
    h.counters.received++;
    const r = h.readers.shift();
    if (r !== undefined) return this.#sink!.complete(r, d);
    if (h.inbox.length >= h.maxQueued) {
      h.inbox.shift();
      h.counters.dropped++;
    }
    h.inbox.push(d);
  }

  /** One sendMany for every datagram queued; what the kernel refused waits for drain. */
  #flush(h: UdpHandle, sink: CompletionSink): void {
    h.touched = false;
    const s = h.socket;
    if (s === undefined || h.waitingDrain || h.outTickets.length === 0) return;
    let n: number;
    try {
      n = s.sendMany(h.out);
    } catch {
      n = 0; // one bad datagram refuses the whole batch: send them one by one below
    }
    h.counters.hostSends++;
    h.counters.sent += n;
    const tickets = h.outTickets;
    for (let i = 0; i < n; i++) if (tickets[i] !== CANCELLED) sink.complete(tickets[i]!, true);
    // Short (or refused): the datagram at `i` would block, or is bad. One at a time from there:
    // a bad one fails alone; the first that would block waits for drain with the rest.
    let i = n;
    let resent = -1; // the datagram made again after an earlier one's error: once each
    for (; i < tickets.length; i++) {
      const t = tickets[i]!;
      const out = h.out;
      let sent: boolean;
      try {
        sent = s.send(out[i * 3] as Uint8Array, out[i * 3 + 1] as number, out[i * 3 + 2] as string);
      } catch (error) {
        // An ICMP reply to an earlier datagram (nothing listens there) comes back as the error of
        // the next send on the socket: it is that datagram's (the socket's error handler counts
        // it), not this one's, which is sent again, once (then an error is its own: no route).
        if (isLateError(error) && resent !== i) {
          resent = i;
          i--;
          continue;
        }
        if (t !== CANCELLED) sink.fail(t, sendError(h, t, out[i * 3] as Uint8Array | string, out[i * 3 + 1] as number, out[i * 3 + 2] as string, error));
        continue;
      }
      h.counters.hostSends++;
      if (!sent) break;
      h.counters.sent++;
      if (t !== CANCELLED) sink.complete(t, true);
    }
    if (i < tickets.length) {
      h.out = h.out.slice(i * 3);
      h.outTickets = tickets.slice(i);
      h.waitingDrain = true;
    } else {
      h.out = [];
      h.outTickets = [];
    }
  }

  #close(h: UdpHandle, sink: CompletionSink | undefined): void {
    if (h.closed) return;
    h.closed = true;
    this.#socks.delete(h);
    h.socket?.close();
    if (sink !== undefined) {
      for (const r of h.readers.splice(0)) sink.fail(r, new NetError(NetCode.Closed, r.op, h.name, r.taskName));
      for (const t of h.outTickets) if (t !== CANCELLED) sink.fail(t, new NetError(NetCode.Closed, t.op, h.name, t.taskName));
    }
    h.out = [];
    h.outTickets = [];
    h.inbox = []; // as TCP drops bytes not read at close: a later recv() fails, and the queue's memory goes
  }
}

/** The errors an ICMP reply leaves on a UDP socket for its next operation, whatever that is. */
const LATE_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN"]);

function isLateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && LATE_ERRORS.has(code);
}

/** A datagram the host refused: the error names where it was going and its size. */
function sendError(h: UdpHandle, t: Ticket, data: Uint8Array | string, port: number, address: string, error: unknown): NetError {
  const to = hostPort(address, port);
  const e = toNetError(error, t.op, `${h.name} → ${to}`, t.taskName);
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
  return new NetError(e.code, e.op, e.address, t.taskName, `${e.detail} (a datagram of ${size} bytes)`, error);
}

/** What UdpSocket.send puts in its descriptor: `[data, port, address]`. */
function isSendArgs(b: unknown): b is [Uint8Array | string, number, string] {
  if (!Array.isArray(b) || b.length !== 3) return false;
  const [data, port, address] = b as unknown[];
  return (typeof data === "string" || data instanceof Uint8Array) && Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536 && typeof address === "string" && isIP(address) !== 0;
}

const CANCELLED: Ticket = { op: "udp.send", a: undefined, b: undefined, taskName: "(cancelled)" };

/** The ops this driver handles. */
export const UDP_OPS = ["udp.bind", "udp.send", "udp.recv", "udp.close"] as const;

BunReactor.register(UDP_OPS, () => new UdpDriver());
