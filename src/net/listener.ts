/**
 * Listener and `listen()`: accept TCP (or unix, or TLS) connections from a coroutine.
 * Descriptors for the TCP driver; imports no Bun API (the driver module is loaded for its
 * registration only).
 */
import { io } from "../syscalls.ts";
import { describe, RELEASE_OPS, type Syscall } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";
import type { ListenerHandle } from "../reactor/tcp.ts";
import type { TcpHandle } from "../reactor/tcp-socket.ts";
import { Conn } from "./conn.ts";
import type { ListenOptions } from "./options.ts";
import "../reactor/tcp.ts";

// Closing is cleanup: a cancel pending at its yield waits for the next one (RELEASE_OPS).
RELEASE_OPS.add("tcp.lclose");

/** @internal the driver calls this to hand a new connection to the task. */
export const wrapConn = (h: unknown): Conn => new Conn(h as TcpHandle);
const wrapListener = (h: unknown): Listener => new Listener(h as ListenerHandle);

/**
 * A listening socket. Get one from `listen()`.
 *
 * @example
 * ```ts
 * import { run, listen, spawn } from "corun";
 * await run(function* () {
 *   const server = yield* listen({ hostname: "127.0.0.1", port: 0 });
 *   console.log(server.port > 0); // true
 *   yield* server.close();
 * });
 * ```
 */
export class Listener {
  readonly #h: ListenerHandle;

  /** Not for users: made by the driver through `listen()`. */
  constructor(handle: ListenerHandle) {
    this.#h = handle;
  }

  /** The port bound (the free port picked when you asked for 0); 0 for unix sockets. */
  get port(): number {
    return this.#h.port;
  }
  /** The address bound, e.g. `127.0.0.1`. */
  get hostname(): string {
    return this.#h.hostname;
  }
  /** `host:port` or the unix path. */
  get name(): string {
    return this.#h.name;
  }
  /** Connections accepted so far. */
  get accepted(): number {
    return this.#h.accepted;
  }
  /** True once it is closed (by `close()`, or as its `run()` ended). */
  get closed(): boolean {
    return this.#h.closed;
  }
  /** True for a TLS listener (`tls: { key, cert }`). */
  get tls(): boolean {
    return this.#h.handshakes !== undefined;
  }

  /**
   * The next incoming connection. Connections that arrive while no task accepts wait in
   * a queue. Throws `NetError` `ERR_SOCKET_CLOSED` once the listener is closed.
   *
   * @example
   * ```ts
   * for (;;) {
   *   const conn = yield* server.accept();
   *   yield* spawn(function* () { yield* conn.write("hi\n"); yield* conn.close(); });
   * }
   * ```
   */
  accept(): Syscall<Conn> {
    return io("tcp.accept", this.#h, wrapConn);
  }

  /**
   * Stop listening. Connections accepted earlier stay open; queued ones are closed and
   * tasks waiting in `accept()` get `ERR_SOCKET_CLOSED`. Closing twice is harmless.
   *
   * @example
   * ```ts
   * yield* server.close();
   * ```
   */
  close(): Syscall<void> {
    return io("tcp.lclose", this.#h);
  }

  /** `Listener 127.0.0.1:8080` */
  toString(): string {
    return `Listener ${this.#h.name}`;
  }
}

/**
 * Listen on a TCP port (`{ hostname, port }`, port 0 for any free one) or a unix socket
 * (`{ unix: path }`), optionally with `tls: { key, cert }` or `reusePort`. Throws `NetError`
 * with `code: "EADDRINUSE"` if the address is taken. Closed when `run()` ends.
 *
 * @example
 * ```ts
 * import { run, listen } from "corun";
 * await run(function* () {
 *   const server = yield* listen({ hostname: "127.0.0.1", port: 0 });
 *   const conn = yield* server.accept();
 *   yield* conn.write("hello\n");
 *   yield* conn.close();
 * });
 * ```
 */
export function listen(options: ListenOptions): Syscall<Listener> {
  checkOptions(options, "listen");
  checkKeys(options, LISTEN_KEYS, "listen(options)");
  const reuse: unknown = (options as { reusePort?: unknown }).reusePort;
  if (reuse !== undefined && typeof reuse !== "boolean") throw new TypeError(`listen(options): reusePort must be true or false, got ${describe(reuse)}`);
  if (reuse === true && options.unix !== undefined) throw new TypeError("listen(options): reusePort applies to a TCP port, not to a unix socket; drop it or listen on { hostname, port }");
  if (options.unix === undefined) checkPort(options.port, "listen", true);
  checkHwm(options.highWaterMark, "listen");
  checkLinger(options.closeLingerMs, "listen");
  const hs = options.handshakeTimeout;
  if (hs !== undefined && (typeof hs !== "number" || !(hs >= 1) || hs > 2 ** 31 - 1)) {
    throw new RangeError(`listen(options): handshakeTimeout must be a number of ms from 1 to 2^31-1, got ${describe(hs)}`);
  }
  const tlsProblem = tlsSettingsProblem(options.tls as unknown);
  if (tlsProblem !== undefined) {
    // Bun reads tls: {} (or empty key and cert lists) as no TLS, the clients' bytes dropped until
    // the handshake timeout reset them, and tls: true as TLS without a certificate (every handshake failed).
    throw new TypeError(`listen(options): a TLS listener needs tls: { key, cert } (its private key and certificate); ${tlsProblem}`);
  }
  if (hs !== undefined && !options.tls) {
    // Without tls there is no handshake: the timeout would be silently ignored.
    throw new TypeError(`listen(options): handshakeTimeout (${hs} ms) applies only to a TLS listener; add tls: { key, cert } or drop it`);
  }
  return io("tcp.listen", { ...options }, wrapListener);
}

/** What is wrong with a listener's `tls`, without quoting it (it may hold a passphrase); undefined if nothing (or no TLS). */
function tlsSettingsProblem(tls: unknown): string | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === null || typeof tls !== "object") return `got ${typeof tls === "string" ? "a string" : describe(tls)}`;
  if (Array.isArray(tls)) return "got an array (Bun takes one settings object)";
  const empty = (v: unknown): boolean => v == null || v === "" || (Array.isArray(v) && v.length === 0);
  const missing = (["key", "cert"] as const).filter((k) => empty((tls as Record<string, unknown>)[k]));
  if (missing.length === 0) return undefined;
  const keys = Object.keys(tls);
  return `its ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing or empty (settings given: ${keys.length > 0 ? keys.join(", ") : "none"})`;
}

const LISTEN_KEYS = Object.keys(
  { hostname: 1, port: 1, unix: 1, reusePort: 1, tls: 1, highWaterMark: 1, closeLingerMs: 1, handshakeTimeout: 1 } satisfies Record<keyof ListenOptions, 1>,
);

/** @internal shared argument checks. */
export function checkOptions(options: unknown, fn: string): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${fn}(options): expected { hostname, port } or { unix: path }, got ${describe(options)}`);
  }
  const unix = (options as { unix?: unknown }).unix;
  if (unix !== undefined && (typeof unix !== "string" || unix === "")) {
    throw new TypeError(`${fn}(options): unix must be a non-empty path string, got ${describe(unix)}`);
  }
  const host = (options as { hostname?: unknown }).hostname;
  const port = (options as { port?: unknown }).port;
  if (unix !== undefined && (host !== undefined || port !== undefined)) {
    // Bun would take the path and drop the rest without a word.
    throw new TypeError(`${fn}(options): unix (a socket path) and ${host !== undefined ? "hostname" : "port"} (a TCP address) are two kinds of address: give one`);
  }
  if (host !== undefined && (typeof host !== "string" || host === "")) {
    // "" would reach Bun as no host at all, which is not what connect or a listener documents: say which, or leave it out.
    throw new TypeError(`${fn}(options): hostname must be a non-empty string (leave it out for the default), got ${describe(host)}`);
  }
}

/** @internal */
export function checkPort(port: unknown, fn: string, zeroOk: boolean, args = "options"): void {
  if (typeof port !== "number" || !Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 65535) {
    throw new RangeError(`${fn}(${args}): port must be an integer ${zeroOk ? 0 : 1}..65535, got ${describe(port)}`);
  }
}

/** @internal */
export function checkLinger(ms: unknown, fn: string): void {
  if (ms !== undefined && (typeof ms !== "number" || !(ms >= 0) || ms > 2 ** 31 - 1)) {
    throw new RangeError(`${fn}(options): closeLingerMs must be a number of ms from 0 to 2^31-1, got ${describe(ms)}`);
  }
}

/** @internal */
export function checkHwm(hwm: unknown, fn: string): void {
  if (hwm !== undefined && (typeof hwm !== "number" || !(hwm >= 1))) {
    throw new RangeError(`${fn}(options): highWaterMark must be a number >= 1, got ${describe(hwm)}`);
  }
}
