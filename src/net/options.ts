/**
 * The option types of corun's network functions (`listen`, `connect`, `udp`), in one place.
 * Types only: imports nothing at run time.
 */

/** TLS settings handed to Bun as they are (`key`, `cert`, `ca`, `rejectUnauthorized`...). */
export type TlsOptions = boolean | Record<string, unknown>;

/** Where to listen: a TCP host and port, or a unix socket path. */
export type ListenOptions = (
  | {
      /** Interface to bind, default `"0.0.0.0"`. Use `"127.0.0.1"` for local-only. */
      hostname?: string;
      /** Port; `0` picks a free one (read it back from `listener.port`). */
      port: number;
      /** Let several listeners (processes) bind the same port (`SO_REUSEPORT`). */
      reusePort?: boolean;
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
  tls?: TlsOptions;
  /** Bytes buffered per accepted connection before reading pauses (default 256 KiB). */
  highWaterMark?: number;
  /**
   * How long an accepted connection's `close()` may take to send bytes the peer has no room for yet before the
   * connection is reset and the writes still waiting fail with `ETIMEDOUT` (default 30,000 ms);
   * also the most it then waits for the peer's FIN, if shorter than 2 s.
   */
  closeLingerMs?: number;
  /** TLS: how long a client may take to finish its handshake before its connection is closed, unseen (default 10,000 ms; given without `tls`, `listen` throws). */
  handshakeTimeout?: number;
};

/** Where to connect: a TCP host and port, or a unix socket path. */
export type ConnectOptions = (
  | {
      /** Host name or address, default `"127.0.0.1"`. */
      hostname?: string;
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
  tls?: TlsOptions;
  /** Bytes buffered before reading pauses (default 256 KiB). */
  highWaterMark?: number;
  /**
   * How long `close()` may take to send bytes the peer has no room for yet before the
   * connection is reset and the writes still waiting fail with `ETIMEDOUT` (default 30,000 ms);
   * also the most it then waits for the peer's FIN, if shorter than 2 s.
   */
  closeLingerMs?: number;
  /**
   * Most connects in flight at once to the same destination; more wait their turn
   * (default 256, below Bun's listen backlog of 512, past which a SYN is dropped and
   * retried a second later).
   */
  connectLimit?: number;
  /**
   * TLS: how long the handshake may take once TCP has connected before the connect fails with
   * `ETIMEDOUT` and the socket is closed (default 10,000 ms, as a listener's; given without `tls`,
   * `connect` throws). A peer that takes TCP and never answers the handshake would otherwise hold
   * the connect, and its slot, for ever.
   */
  handshakeTimeout?: number;
};

/** Options for `udp()`. */
export interface UdpOptions {
  /** Local port, `0` (default) for any free one. */
  port?: number;
  /** Local address, default `"127.0.0.1"`. */
  hostname?: string;
  /** Datagrams buffered while no task calls `recv()`; older ones are dropped past this (default 4096). */
  maxQueued?: number;
}
