/**
 * The TCP driver: the `tcp.*` ops (listen, accept, connect, read, write, end, close, stats)
 * on Bun.listen / Bun.connect, one instance per reactor. It receives a tick's ops as one
 * batch: writes are coalesced per socket and flushed once at the end of the batch, and
 * connects are admitted in waves (tcp-connect.ts). Only reactor files call Bun.
 */
import type { Socket, SocketHandler, SocketListener } from "bun";
import { BunReactor, type IoDriver } from "./bun.ts";
import type { CompletionSink, Submission, Ticket } from "./reactor.ts";
import { TcpHandle } from "./tcp-socket.ts";
import { ZERO, addCounters, type ConnStats, type TcpDriverStats } from "./tcp-stats.ts";
import { NetCode, NetError, hostPort, toNetError } from "../net/errors.ts";
import type { ListenOptions } from "../net/options.ts";
import { Connector, DEFAULT_CONNECT_LIMIT } from "./tcp-connect.ts";
import { Handshakes } from "./tls-accept.ts";

/** Default inbound high-water mark per connection. */
export const DEFAULT_HIGH_WATER_MARK = 256 * 1024;
export { DEFAULT_CONNECT_LIMIT };

/** Turns a driver handle into the user's object (Conn, Listener), passed as the op's `b`. */
export type Wrap<H> = ((h: H) => unknown) | undefined;

/** The driver's record of a listening socket. Opaque to users: `Listener` wraps it. */
export class ListenerHandle {
  /** `host:port` (the bound port) or the unix path. */
  name: string;
  listener: SocketListener<TcpHandle> | undefined = undefined;
  port = 0;
  hostname = "";
  readonly backlog: TcpHandle[] = [];
  readonly accepters: Ticket[] = [];
  /** TLS: connections accepted by the host whose handshake is under way (closed with the listener). */
  handshakes: Handshakes | undefined = undefined;
  closed = false;
  accepted = 0;
  /** The driver (so the run()) it belongs to. */
  owner: object | undefined = undefined;
  constructor(name: string) {
    this.name = name;
  }
}

class TcpDriver implements IoDriver {
  #sink: CompletionSink | undefined;
  readonly #socks = new Set<TcpHandle>();
  readonly #listeners = new Set<ListenerHandle>();
  #touched: TcpHandle[] = [];
  readonly #retired: ConnStats = { ...ZERO };
  #accepted = 0;
  #closed = false;

  submit(batch: readonly Submission[], sink: CompletionSink): void {
    this.#sink = sink;
    for (const t of batch) {
      // A connection or listener of another run() (whose driver would complete the op into the
      // other run's kernel): refused, naming it.
      if ((t.a as { owner?: unknown } | undefined)?.owner !== this && t.op !== "tcp.connect" && t.op !== "tcp.listen" && t.op !== "tcp.stats") {
        sink.fail(t, new NetError("EBADF", t.op, String((t.a as { name?: unknown } | undefined)?.name ?? ""), t.taskName, "the connection or listener belongs to another run(): a socket is used by the run() that opened it"));
        continue;
      }
      try {
        this.#one(t, sink);
      } catch (error) {
        // A bug or a bad argument in one op fails that op alone, withdrawn from wherever it was
        // queued: thrown out of the batch, every op in it would fail while their sockets still
        // held them (a later read's bytes completing a dead ticket, lost).
        try {
          this.cancel(t);
        } catch {
          // what the op was given is no socket of its kind: the op's own error is the one to report
        }
        sink.fail(t, error);
      }
    }
    // The coalescing point: one socket.write per socket for everything this tick queued.
    const touched = this.#touched;
    if (touched.length > 0) {
      this.#touched = [];
      for (const h of touched) {
        h.touched = false;
        h.flush(sink);
      }
    }
  }

  #one(t: Submission, sink: CompletionSink): void {
    switch (t.op) {
      case "tcp.read":
        (t.a as TcpHandle).inbound.read(t, sink);
        break;
      case "tcp.write": {
        const h = t.a as TcpHandle;
        const bytes = toBytes(t.b);
        if (bytes === undefined) {
          // Only a descriptor made by hand gets here (Conn.write checks): its text form must not go out instead.
          sink.fail(t, new TypeError(`tcp driver: task "${t.taskName}" yielded tcp.write on ${h.name} with ${t.b === null ? "null" : typeof t.b}: the data must be a string or bytes (a descriptor made by hand?)`));
          break;
        }
        if (h.outbound.queueWrite(t, bytes, sink) && !h.touched) {
          h.touched = true;
          this.#touched.push(h);
        }
        break;
      }
      case "tcp.end": {
        const h = t.a as TcpHandle;
        h.outbound.queueEnd(t, sink);
        if (!h.touched) {
          h.touched = true;
          this.#touched.push(h);
        }
        break;
      }
      case "tcp.close":
        this.#closeConn(t.a as TcpHandle, t, sink);
        break;
      case "tcp.abort": {
        const h = t.a as TcpHandle;
        h.terminate(sink);
        this.#retire(h);
        sink.complete(t, undefined);
        break;
      }
      case "tcp.accept":
        this.#accept(t, sink);
        break;
      case "tcp.connect":
        this.#connector.connect(t, sink);
        break;
      case "tcp.listen":
        this.#listen(t, sink);
        break;
      case "tcp.lclose":
        this.#closeListener(t.a as ListenerHandle, sink);
        sink.complete(t, undefined);
        break;
      case "tcp.stats":
        sink.complete(t, this.stats());
        break;
      default:
        sink.fail(t, new TypeError(`tcp driver: unknown op "${t.op}" from task "${t.taskName}"`));
    }
  }

  cancel(t: Ticket): void {
    switch (t.op) {
      case "tcp.read":
      case "tcp.write":
      case "tcp.end":
        (t.a as TcpHandle).cancel(t);
        return;
      case "tcp.accept": {
        const l = t.a as ListenerHandle;
        const i = l.accepters.indexOf(t);
        if (i >= 0) l.accepters.splice(i, 1);
        return;
      }
      case "tcp.connect":
        this.#connector.cancel(t);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#listeners) this.#closeListener(l, undefined);
    for (const h of this.#socks) h.close(undefined, undefined);
    this.#socks.clear();
    this.#connector.close();
  }

  stats(): TcpDriverStats {
    const sum = { ...this.#retired };
    let buffered = 0;
    let unsent = 0;
    for (const h of this.#socks) {
      addCounters(sum, h.counters);
      buffered += h.inbound.buffered;
      unsent += h.outbound.unsentBytes;
    }
    return {
      hostWrites: sum.hostWrites, writeOps: sum.writeOps, bytesWritten: sum.bytesWritten, bytesRead: sum.bytesRead,
      partialWrites: sum.partialWrites, pauses: sum.pauses, buffered, unsent,
      listeners: this.#listeners.size, connections: this.#socks.size,
      connectsStarted: this.#connector.started, connectsQueued: this.#connector.queued,
      maxConnectsInFlight: this.#connector.maxInflight, accepted: this.#accepted,
    };
  }

  // ─── Sockets' life ──────────────────────────────────────────────────────────
  #retire(h: TcpHandle): void {
    if (!this.#socks.delete(h)) return;
    addCounters(this.#retired, h.counters);
  }

  #closeConn(h: TcpHandle, t: Ticket, sink: CompletionSink): void {
    h.close(sink, t);
    if (!h.closing) this.#retire(h); // one still sending its last bytes, or awaiting the peer's FIN, is retired when its socket closes
  }

  /** Socket callbacks shared by every connection (the handle rides in `socket.data`). */
  readonly #handlers: SocketHandler<TcpHandle> = {
    data: (s, data) => s.data.inbound.onData(data, this.#sink!),
    drain: (s) => s.data.onDrain(this.#sink!),
    end: (s) => s.data.onEnd(this.#sink!),
    close: (s, error) => {
      const h = s.data;
      if (h === undefined) return;
      h.onClose(error, this.#sink!);
      this.#retire(h);
    },
    error: (s, error) => {
      const h = s.data;
      if (h !== undefined && h.error === undefined) h.error = toNetError(error, "tcp", h.name, "");
    },
  };

  /** Connect admission in waves (tcp-connect.ts); opened sockets come back here. */
  readonly #connector = new Connector({
    handlers: this.#handlers,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
    opened: (t, h, sink) => {
      h.owner = this;
      h.run = sink;
      this.#socks.add(h);
      sink.complete(t, wrapped(t, h));
    },
  });

  // ─── Listening and accepting ────────────────────────────────────────────────
  #listen(t: Ticket, sink: CompletionSink): void {
    const o = t.a as ListenOptions;
    const name = o.unix !== undefined ? o.unix : hostPort(o.hostname ?? "0.0.0.0", o.port);
    if (this.#closed) return sink.fail(t, new NetError(NetCode.Closed, t.op, name, t.taskName));
    const lh = new ListenerHandle(name);
    lh.owner = this;
    const hwm = o.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    const accepted = (s: Socket<TcpHandle>): void => {
      if (lh.closed) return s.terminate();
      const h = new TcpHandle(lh.name, hwm, o.closeLingerMs, true);
      h.owner = this;
      h.run = sink;
      h.socket = s;
      s.data = h;
      this.#socks.add(h);
      this.#accepted++;
      lh.accepted++;
      const waiter = lh.accepters.shift();
      if (waiter !== undefined) this.#sink!.complete(waiter, wrapped(waiter, h));
      else lh.backlog.push(h);
    };
    const handlers: SocketHandler<TcpHandle> = { ...this.#handlers, open: accepted };
    if (o.tls) {
      lh.handshakes = new Handshakes(o.tls, accepted, () => lh.closed, o.handshakeTimeout);
      Object.assign(handlers, lh.handshakes.handlers(this.#handlers));
    }
    try {
      const common = { allowHalfOpen: true, socket: handlers, tls: o.tls as never };
      const l =
        o.unix !== undefined
          ? Bun.listen<TcpHandle>({ unix: o.unix, ...common })
          : Bun.listen<TcpHandle>({ hostname: o.hostname ?? "0.0.0.0", port: o.port, ...common, ...(o.reusePort ? { reusePort: true } : {}) } as never);
      lh.listener = l as SocketListener<TcpHandle>;
      lh.port = (l as { port?: number }).port ?? 0;
      lh.hostname = (l as { hostname?: string }).hostname ?? "";
      if (o.unix === undefined) lh.name = hostPort(lh.hostname || o.hostname || "0.0.0.0", lh.port);
    } catch (error) {
      return sink.fail(t, toNetError(error, t.op, name, t.taskName));
    }
    this.#listeners.add(lh);
    sink.complete(t, wrapped(t, lh));
  }

  #accept(t: Ticket, sink: CompletionSink): void {
    const l = t.a as ListenerHandle;
    if (l.closed) return sink.fail(t, new NetError(NetCode.Closed, t.op, l.name, t.taskName, "accept on a closed listener"));
    const h = l.backlog.shift();
    if (h !== undefined) sink.complete(t, wrapped(t, h));
    else l.accepters.push(t);
  }

  #closeListener(l: ListenerHandle, sink: CompletionSink | undefined): void {
    if (l.closed) return;
    l.closed = true;
    this.#listeners.delete(l);
    l.listener?.stop(false);
    l.handshakes?.closeAll(); // not accepted yet: nobody else will close them
    for (const h of l.backlog.splice(0)) {
      h.close(undefined, undefined);
      this.#retire(h);
    }
    for (const a of l.accepters.splice(0)) sink?.fail(a, new NetError(NetCode.Closed, a.op, l.name, a.taskName, "the listener was closed"));
  }
}

function wrapped(t: Ticket, h: unknown): unknown {
  const wrap = t.b as Wrap<unknown>;
  return wrap === undefined ? h : wrap(h);
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}

/** The ops this driver handles. */
export const TCP_OPS = ["tcp.listen", "tcp.accept", "tcp.lclose", "tcp.connect", "tcp.read", "tcp.write", "tcp.end", "tcp.close", "tcp.abort", "tcp.stats"] as const;

BunReactor.register(TCP_OPS, () => new TcpDriver());

export { TcpHandle, type ConnStats, type TcpDriverStats };
