/**
 * Connects in waves for the TCP driver: at most `connectLimit` Bun.connect calls in flight
 * per destination (below Bun's listen backlog of 512, past which a SYN is dropped and retried
 * a second later); the rest wait in a FIFO and start as earlier ones settle.
 * Calls Bun.connect; imports only types, the socket handle and net errors.
 */
import type { Socket, SocketHandler } from "bun";
import type { CompletionSink, Ticket } from "./reactor.ts";
import { TcpHandle } from "./tcp-socket.ts";
import { TLS_HANDSHAKE_MS } from "./tls-accept.ts";
import { NetCode, NetError, hostPort, toNetError } from "../net/errors.ts";
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
  /** In-flight connects: ticket → how to withdraw it (for cancel). */
  readonly #connecting = new Map<Ticket, () => boolean>();
  #closed = false;
  /** Where queued connects complete (the driver's sink, from the first connect on). */
  #sink: CompletionSink | undefined = undefined;
  started = 0;
  queued = 0;
  maxInflight = 0;

  constructor(host: ConnectHost) {
    this.#host = host;
  }

  /** Start a connect now, or queue it behind the destination's in-flight ones. */
  connect(t: Ticket, sink: CompletionSink): void {
    const o = t.a as ConnectOptions;
    const key = o.unix !== undefined ? o.unix : hostPort(o.hostname ?? "127.0.0.1", o.port);
    this.#sink = sink;
    if (this.#closed) return sink.fail(t, new NetError(NetCode.Closed, t.op, key, t.taskName));
    let d = this.#dests.get(key);
    if (d === undefined) this.#dests.set(key, (d = { inflight: 0, queue: [] }));
    // First come, first served: behind connects already waiting (a slot a withdrawn connect
    // freed this tick is theirs), even when a slot is free.
    if (d.queue.length === 0 && d.inflight < (o.connectLimit ?? DEFAULT_CONNECT_LIMIT)) this.#start(t, key, d, sink);
    else {
      this.queued++;
      d.queue.push(t);
    }
  }

  /**
   * A waiting task was cancelled: a queued connect never starts; an in-flight one gives its
   * slot to the next at once (a SYN the peer never answers would hold it for minutes) and its
   * socket is closed if it opens later.
   */
  cancel(t: Ticket): void {
    const withdraw = this.#connecting.get(t);
    if (withdraw !== undefined) {
      this.#connecting.delete(t);
      withdraw();
      return;
    }
    for (const [key, d] of this.#dests) {
      const i = d.queue.indexOf(t);
      if (i < 0) continue;
      d.queue.splice(i, 1);
      // The ones behind it may fit now (connects to one destination can carry different limits).
      if (i === 0) this.#admitLater(key, d);
      return;
    }
  }

  /** End of run: nothing queued starts; in-flight sockets are closed as they open. */
  close(): void {
    this.#closed = true;
    for (const d of this.#dests.values()) d.queue.length = 0;
    // Withdrawn: one mid-handshake (TLS) is closed now, one still connecting as it opens.
    // (Defensive: a run ends after all its tasks, whose cancels withdrew their connects already.)
    for (const withdraw of this.#connecting.values()) withdraw();
    this.#connecting.clear();
  }

  #start(t: Ticket, key: string, d: Dest, sink: CompletionSink): void {
    const o = t.a as ConnectOptions;
    const h = new TcpHandle(key, o.highWaterMark ?? this.#host.highWaterMark, o.closeLingerMs);
    d.inflight++;
    if (d.inflight > this.maxInflight) this.maxInflight = d.inflight;
    this.started++;
    let settled = false;
    /** The handshake's time limit (TLS), armed once TCP has connected; cleared however the attempt ends (a timer left would hold the process). */
    let handshakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
    // The slot comes back once: when the attempt settles, or when its task is cancelled first
    // (then the next connect starts after this tick's other cancels, which may be of it).
    const release = (cancelled = false): boolean => {
      if (handshakeTimer !== undefined) clearTimeout(handshakeTimer);
      if (settled) return false;
      settled = true;
      d.inflight--;
      if (!cancelled) this.#admit(key, d, sink);
      else this.#admitLater(key, d);
      return true;
    };
    // Withdrawn: the slot goes back, and a socket that has connected (a TLS handshake under
    // way) is closed now; one still connecting is closed when it opens (it is settled then).
    this.#connecting.set(t, () => {
      const freed = release(true);
      if (h.socket !== undefined) h.terminate();
      return freed;
    });
    /** The attempt settled: true if its ticket still wants the result. */
    const settle = (): boolean => {
      release();
      return this.#connecting.delete(t) && !this.#closed;
    };
    const fail = (error: unknown, fallback: string): void => {
      if (settle()) sink.fail(t, toNetError(error, t.op, key, t.taskName, fallback));
    };
    const ready = (s: Socket<TcpHandle>): void => {
      h.socket = s;
      if (!settle()) return h.terminate(); // cancelled meanwhile: nobody will use it
      this.#host.opened(t, h, sink);
    };
    const shared = this.#host.handlers;
    const handlers: SocketHandler<TcpHandle> = {
      ...shared,
      // With TLS, `open` comes when TCP connects and `handshake` when TLS has: the connect
      // settles on the handshake, and fails with its error (a certificate the peer may not use).
      open: (s) => {
        if (!o.tls) return ready(s);
        h.socket = s;
        if (settled) return h.terminate(); // withdrawn while TCP connected: its handshake may never end
        // Armed only while unsettled, and cleared as the attempt settles: it fires on an attempt still under way.
        const ms = o.handshakeTimeout ?? TLS_HANDSHAKE_MS;
        handshakeTimer = setTimeout(() => {
          fail(Object.assign(new Error(`the TLS handshake took longer than ${ms} ms`), { code: "ETIMEDOUT" }), "ETIMEDOUT");
          s.terminate();
        }, ms);
        if (!isTls(s)) {
          // Bun reads a settings object with none of its TLS options ({}, { requestCert: false })
          // as no TLS: no handshake would ever come, and the connection is not what was asked for.
          const given = typeof o.tls === "object" ? Object.keys(o.tls) : [];
          fail(new Error(`tls: ${given.length > 0 ? `{ ${given.join(", ")} }` : "{}"} made a plain TCP connection (Bun reads settings without one that asks for TLS as no TLS): pass tls: true, or add serverName, ca or rejectUnauthorized, for TLS`), "EPROTO");
          s.terminate();
        }
      },
      connectError: (_s, error) => fail(error, "ECONNREFUSED"),
      close: (s, error) => {
        if (!settled) fail(error ?? new Error("the connection closed before it was set up"), "ECONNRESET");
        shared.close?.(s, error);
      },
    };
    if (o.tls) {
      // `success` says the peer's certificate was verified; with rejectUnauthorized: false an
      // unverified certificate is accepted, but only that: a handshake that failed (a reset, a
      // peer that does not speak TLS) fails the connect either way.
      const insecure = typeof o.tls === "object" && o.tls.rejectUnauthorized === false;
      handlers.handshake = (s, success, authorizationError) => {
        if (success || (insecure && isCertificateError(authorizationError))) return ready(s);
        fail(authorizationError ?? new Error("the TLS handshake failed"), "ECONNRESET");
        s.terminate();
      };
    }
    const common = { data: h, allowHalfOpen: true, socket: handlers, tls: o.tls as never };
    let p: Promise<Socket<TcpHandle>>;
    try {
      p = o.unix !== undefined
        ? Bun.connect<TcpHandle>({ unix: o.unix, ...common })
        : Bun.connect<TcpHandle>({ hostname: o.hostname ?? "127.0.0.1", port: o.port, ...common });
    } catch (error) {
      return fail(error, "EINVAL");
    }
    p.then(undefined, (error: unknown) => fail(error, "ECONNREFUSED"));
  }

  /** Admit what fits once this tick's other cancels are done (they may be of the next in line). */
  #admitLater(key: string, d: Dest): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    queueMicrotask(() => {
      if (!this.#closed && this.#dests.get(key) === d) this.#admit(key, d, sink);
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

/** True if Bun made `s` a TLS socket (a plain one has no TLS version, even before its handshake). */
function isTls(s: Socket<TcpHandle>): boolean {
  const version = (s as { getTLSVersion?: () => string | null }).getTLSVersion;
  return typeof version !== "function" || version.call(s) !== null; // no way to tell: wait for the handshake, as before
}

/** Codes of certificate verification errors (OpenSSL's X509_V_ERR names, and Node's alt-name check). */
const CERT_CODE = /CERT|SELF_SIGNED|ISSUER|VERIFY|CRL|INVALID_CA|PURPOSE|PATH_LENGTH|HOSTNAME|ALTNAME|UNTRUSTED|REJECTED|REVOKED/;

/** True if the handshake's error is about the peer's certificate, not a failed handshake. */
function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CERT_CODE.test(code);
}
