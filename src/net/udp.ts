/**
 * `udp()` and UdpSocket: datagrams from coroutines through the UDP driver, which sends a
 * tick's datagrams with one `sendMany`. Descriptors only; imports no Bun API.
 */
import { isIP } from "node:net";
import { io } from "../syscalls.ts";
import { describe, RELEASE_OPS, type Syscall } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";
import type { Datagram, UdpHandle, UdpStats } from "../reactor/udp.ts";
import type { UdpOptions } from "./options.ts";
import { checkPort } from "./listener.ts";
import type { NetError } from "./errors.ts";
import "../reactor/udp.ts";

// Closing is cleanup: a cancel pending at its yield waits for the next one (RELEASE_OPS).
RELEASE_OPS.add("udp.close");

const wrapUdp = (h: unknown): UdpSocket => new UdpSocket(h as UdpHandle);

/**
 * A bound UDP socket. Get one from `udp()`.
 *
 * @example
 * ```ts
 * import { run, udp } from "corun";
 * await run(function* () {
 *   const a = yield* udp({ port: 0 });
 *   const b = yield* udp({ port: 0 });
 *   yield* a.send("ping", b.port, "127.0.0.1");
 *   const d = yield* b.recv();
 *   console.log(new TextDecoder().decode(d.data), d.port === a.port); // ping true
 * });
 * ```
 */
export class UdpSocket {
  readonly #h: UdpHandle;

  /** Not for users: made by the driver through `udp()`. */
  constructor(handle: UdpHandle) {
    this.#h = handle;
  }

  /** The local port. */
  get port(): number {
    return this.#h.port;
  }
  /** The local address. */
  get hostname(): string {
    return this.#h.hostname;
  }

  /**
   * Send one datagram to `port` at `host` (default `127.0.0.1`). Returns once the kernel took
   * it; datagrams sent in one tick go out in one `sendMany`.
   *
   * @example
   * ```ts
   * yield* sock.send(new Uint8Array([1, 2, 3]), 9000, "127.0.0.1");
   * ```
   */
  send(data: Uint8Array | string, port: number, host = "127.0.0.1"): Syscall<boolean> {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`udp.send(data): expected a Uint8Array or a string, got ${describe(data)}`);
    }
    checkPort(port, "udp.send", false, "data, port");
    if (typeof host !== "string" || isIP(host) === 0) {
      throw new TypeError(`udp.send(data, port, host): host must be an IP address such as "127.0.0.1", got ${describe(host)}`);
    }
    return io("udp.send", this.#h, [data, port, host]);
  }

  /**
   * The next datagram (`{ data, port, address }`). Datagrams that arrive while nobody
   * receives are queued (up to `maxQueued`, then the oldest are dropped and counted).
   *
   * @example
   * ```ts
   * const { data, port, address } = yield* sock.recv();
   * ```
   */
  recv(): Syscall<Datagram> {
    return io("udp.recv", this.#h);
  }

  /**
   * The last error the host reported for a datagram already sent, such as `ECONNREFUSED`
   * (nothing listens at that port: an ICMP reply), or undefined. Such errors cannot be tied to
   * a `send()`; `stats().errors` counts them, and the socket goes on.
   *
   * @example
   * ```ts
   * if (sock.lastError?.code === "ECONNREFUSED") console.log("the peer has gone");
   * ```
   */
  get lastError(): NetError | undefined {
    return this.#h.lastError;
  }

  /**
   * Close the socket; waiting `recv()`s, and later ones, fail with `ERR_SOCKET_CLOSED` (datagrams
   * queued and not received are dropped, as a connection's unread bytes are). Closed when `run()` ends anyway.
   *
   * @example
   * ```ts
   * yield* sock.close();
   * ```
   */
  close(): Syscall<void> {
    return io("udp.close", this.#h);
  }

  /**
   * Counters: send ops vs host sends (batching), sent, received, dropped.
   *
   * @example
   * ```ts
   * const { sendOps, hostSends } = sock.stats();
   * ```
   */
  stats(): UdpStats {
    return { ...this.#h.counters };
  }
}

const UDP_KEYS = Object.keys({ hostname: 1, port: 1, maxQueued: 1 } satisfies Record<keyof UdpOptions, 1>);

/**
 * Bind a UDP socket (`{ port: 0 }` for any free port, `hostname` default `127.0.0.1`).
 *
 * @example
 * ```ts
 * import { run, udp } from "corun";
 * await run(function* () {
 *   const sock = yield* udp({ port: 0 });
 *   console.log(sock.port > 0); // true
 *   yield* sock.close();
 * });
 * ```
 */
export function udp(options: UdpOptions = {}): Syscall<UdpSocket> {
  if (options === null || typeof options !== "object") throw new TypeError(`udp(options): expected an object, got ${describe(options)}`);
  checkKeys(options, UDP_KEYS, "udp(options)");
  if (options.port !== undefined) checkPort(options.port, "udp", true);
  // "" would reach Bun as no host at all: a socket on every interface, not the default 127.0.0.1.
  if (options.hostname !== undefined && (typeof options.hostname !== "string" || options.hostname === "")) {
    throw new TypeError(`udp(options): hostname must be a non-empty string (leave it out for 127.0.0.1), got ${describe(options.hostname)}`);
  }
  const q = options.maxQueued;
  if (q !== undefined && (!Number.isInteger(q) || q < 1)) throw new RangeError(`udp(options): maxQueued must be an integer >= 1, got ${describe(q)}`);
  return io("udp.bind", { ...options }, wrapUdp);
}

export type { Datagram, UdpStats };
