/**
 * Connects in waves for the TCP driver: at most `connectLimit` Bun.connect calls in flight
 * per destination (below Bun's listen backlog of 512, past which a SYN is dropped and retried
 * a second later); the rest wait in a FIFO and start as earlier ones settle.
 * Calls Bun.connect; imports only types, the socket handle and net errors.
 */
import type { Socket, SocketHandler } from "bun";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { TcpHandle } from "./tcp-socket.ts";
import { NetCode, NetError, toNetError } from "../net/errors.ts";
import type { ConnectOptions } from "../net/options.ts";

/** Default most connects in flight to one destination. */
export const DEFAULT_CONNECT_LIMIT = 256;

interface Dest {
  inflight: number;
  queue: Ticket[];
}

/** What the connector needs from its driver. */
export interface ConnectHost {
  /** Socket callbacks shared by every connection (data, drain, end, close, error). */
  readonly handlers: SocketHandler<TcpHandle>;
  readonly highWaterMark: number;
  /** A connection opened for a live ticket: the driver records it and completes the ticket. */
  opened(t: Ticket, h: TcpHandle, sink: CompletionSink): void;
}

/** The connect queue of one TCP driver. */
export class Connector {
  readonly #host: ConnectHost;
  readonly #dests = new Map<string, Dest>();
  /** In-flight connects: ticket → handle (for cancel). */
  readonly #connecting = new Map<Ticket, TcpHandle>();
  #closed = false;
  started = 0;
  queued = 0;
  maxInflight = 0;

  constructor(host: ConnectHost) {
    this.#host = host;
  }

  /** Start a connect now, or queue it behind the destination's in-flight ones. */
  connect(t: Ticket, sink: CompletionSink): void {
    const o = t.a as ConnectOptions;
    const key = o.unix !== undefined ? o.unix : `${o.hostname ?? "127.0.0.1"}:${o.port}`;
    if (this.#closed) return sink.fail(t, new NetError(NetCode.Closed, t.op, key, t.taskName));
    let d = this.#dests.get(key);
    if (d === undefined) this.#dests.set(key, (d = { inflight: 0, queue: [] }));
    if (d.inflight < (o.connectLimit ?? DEFAULT_CONNECT_LIMIT)) this.#start(t, key, d, sink);
    else {
      this.queued++;
      d.queue.push(t);
    }
  }

  /** A waiting task was cancelled: a queued connect never starts; an in-flight one is closed when it opens. */
  cancel(t: Ticket): void {
    if (this.#connecting.delete(t)) return;
    for (const d of this.#dests.values()) {
      const i = d.queue.indexOf(t);
      if (i >= 0) d.queue.splice(i, 1);
    }
  }

  /** End of run: nothing queued starts; in-flight sockets are closed as they open. */
  close(): void {
    this.#closed = true;
    for (const d of this.#dests.values()) d.queue.length = 0;
    this.#connecting.clear();
  }

  #start(t: Ticket, key: string, d: Dest, sink: CompletionSink): void {
    const o = t.a as ConnectOptions;
    const h = new TcpHandle(key, o.highWaterMark ?? this.#host.highWaterMark);
    d.inflight++;
    if (d.inflight > this.maxInflight) this.maxInflight = d.inflight;
    this.started++;
    this.#connecting.set(t, h);
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      d.inflight--;
      this.#admit(key, d, sink);
      return this.#connecting.delete(t) && !this.#closed;
    };
    const handlers: SocketHandler<TcpHandle> = {
      ...this.#host.handlers,
      open: (s) => {
        h.socket = s;
        if (!settle()) return h.terminate(); // cancelled meanwhile: nobody will use it
        this.#host.opened(t, h, sink);
      },
      connectError: (_s, error) => {
        if (settle()) sink.fail(t, toNetError(error, t.op, key, t.taskName, "ECONNREFUSED"));
      },
    };
    const common = { data: h, allowHalfOpen: true, socket: handlers, tls: o.tls as never };
    let p: Promise<Socket<TcpHandle>>;
    try {
      p = o.unix !== undefined
        ? Bun.connect<TcpHandle>({ unix: o.unix, ...common })
        : Bun.connect<TcpHandle>({ hostname: o.hostname ?? "127.0.0.1", port: o.port, ...common });
    } catch (error) {
      if (settle()) sink.fail(t, toNetError(error, t.op, key, t.taskName, "EINVAL"));
      return;
    }
    p.then(undefined, (error: unknown) => {
      if (settle()) sink.fail(t, toNetError(error, t.op, key, t.taskName, "ECONNREFUSED"));
    });
  }

  #admit(key: string, d: Dest, sink: CompletionSink): void {
    while (d.queue.length > 0) {
      const next = d.queue[0]!;
      const limit = (next.a as ConnectOptions).connectLimit ?? DEFAULT_CONNECT_LIMIT;
      if (d.inflight >= limit) return;
      d.queue.shift();
      this.#start(next, key, d, sink);
    }
    if (d.inflight === 0) this.#dests.delete(key);
  }
}
