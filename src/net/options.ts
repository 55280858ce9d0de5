/**
 * The option types of corun's network functions (`listen`, `connect`, `udp`), in one place.
 * Types only: imports nothing at run time.
 */

/**
 * TLS settings handed to Bun as they are (`key`, `cert`, `ca`, `rejectUnauthorized`...).
 *
 * @example
 * ```ts
 * import type { TlsOptions } from "corun";
 * const server: TlsOptions = { key: Bun.file("key.pem"), cert: Bun.file("cert.pem") }; // listen({ port, tls: server })
 * const client: TlsOptions = { rejectUnauthorized: false }; // connect({ hostname, port, tls: client })
 * ```
 */
export type TlsOptions = boolean | Record<string, unknown>;

/**
 * Where to listen: a TCP host and port, or a unix socket path.
 *
 * @example
 * ```ts
 * import { run, listen, type ListenOptions } from "corun";
 * const local: ListenOptions = { hostname: "127.0.0.1", port: 0, highWaterMark: 64 * 1024 }; // or { unix: "/tmp/app.sock" }
 * await run(function* () {
 *   const server = yield* listen(local);
 *   console.log(server.port > 0); // true
 *   yield* server.close();
 * });
 * ```
 */
export type ListenOptions = (
  | {
      /** Interface to bind, default `"0.0.0.0"`. Use `"127.0.0.1"` for local-only. */
      hostname?: string | undefined;
      /** Port; `0` picks a free one (read it back from `listener.port`). */
      port: number;
      /** Let several listeners (processes) bind the same port (`SO_REUSEPORT`). */
      reusePort?: boolean | undefined;
      unix?: undefined;
    }
  | {
      /** Path of a unix domain socket to create. */
      unix: string;
      hostname?: undefined;
      port?: undefined;
      reusePort?: undefined;
    }
) & {
  /** Serve TLS with these settings: `{ key, cert }` at least (anything else, `true` or `{}`, is a TypeError). */
  tls?: TlsOptions | undefined;
  /** Bytes buffered per accepted connection before reading pauses (default 256 KiB). */
  highWaterMark?: number | undefined;
  /**
   * How long an accepted connection's `close()` may take to send bytes the peer has no room for yet before the
   * connection is reset and the writes still waiting fail with `ETIMEDOUT` (default 30,000 ms);
   * also the most it then waits for the peer's FIN, if shorter than 2 s.
   */
  closeLingerMs?: number | undefined;
  /** TLS: how long a client may take to finish its handshake before its connection is closed, unseen (default 10,000 ms; given without `tls`, `listen` throws). */
  handshakeTimeout?: number | undefined;
};

/**
 * Where to connect: a TCP host and port, or a unix socket path.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "corun";
 * const api: ConnectOptions = { hostname: "example.com", port: 443, tls: true, handshakeTimeout: 5_000 };
 * const local: ConnectOptions = { unix: "/tmp/app.sock", closeLingerMs: 1_000 }; // yield* connect(api)
 * ```
 */
export type ConnectOptions = (
  | {
      /** Host name or address, default `"127.0.0.1"`. */
      hostname?: string | undefined;
      port: number;
      unix?: undefined;
    }
  | {
      /** Path of a unix domain socket. */
      unix: string;
      hostname?: undefined;
      port?: undefined;
    }
) & {
  /** Use TLS (`true`, or settings such as `{ rejectUnauthorized: false }`; settings Bun reads as no TLS, such as `{}`, fail the connect with EPROTO). */
  tls?: TlsOptions | undefined;
  /** Bytes buffered before reading pauses (default 256 KiB). */
  highWaterMark?: number | undefined;
  /**
   * How long `close()` may take to send bytes the peer has no room for yet before the
   * connection is reset and the writes still waiting fail with `ETIMEDOUT` (default 30,000 ms);
   * also the most it then waits for the peer's FIN, if shorter than 2 s.
   */
  closeLingerMs?: number | undefined;
  /**
   * Most connects in flight at once to the same destination; more wait their turn
   * (default 256, below Bun's listen backlog of 512, past which a SYN is dropped and
   * retried a second later).
   */
  connectLimit?: number | undefined;
  /**
   * TLS: how long the handshake may take once TCP has connected before the connect fails with
   * `ETIMEDOUT` and the socket is closed (default 10,000 ms, as a listener's; given without `tls`,
   * `connect` throws). A peer that takes TCP and never answers the handshake would otherwise hold
   * the connect, and its slot, for ever.
   */
  handshakeTimeout?: number | undefined;
};

/**
 * Options for `udp()`.
 *
 * @example
 * ```ts
 * import { run, udp, type UdpOptions } from "corun";
 * const options: UdpOptions = { hostname: "127.0.0.1", port: 0, maxQueued: 1024 };
 * await run(function* () {
 *   const sock = yield* udp(options);
 *   yield* sock.close();
 * });
 * ```
 */
export interface UdpOptions {
  /** Local port, `0` (default) for any free one. */
  port?: number | undefined;
  /** Local address, default `"127.0.0.1"`. */
  hostname?: string | undefined;
  /** Datagrams buffered while no task calls `recv()`; older ones are dropped past this (default 4096). */
  maxQueued?: number | undefined;
}
