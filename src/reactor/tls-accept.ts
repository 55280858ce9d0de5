/**
 * Handshakes: a TLS listener's connections between the host accepting them and their handshake
 * ending. Each is handed on once its handshake succeeded, dropped if it failed, and closed if it
 * takes longer than the listener's handshake timeout or the listener closes first.
 */
import type { Socket, SocketHandler } from "bun";
import type { TcpHandle } from "./tcp-socket.ts";

/** How long a client may take to finish its TLS handshake before its connection is closed (default of `handshakeTimeout`). */
export const TLS_HANDSHAKE_MS = 10_000;

/**
 * One TLS listener's handshakes under way. `handlers` wraps the driver's socket callbacks: with
 * a handshake callback, the host opens a TLS connection as soon as it is accepted (not after
 * its handshake), so one whose client never finishes it is known, and can be closed.
 *
 * @example
 * ```ts
 * const handshakes = new Handshakes(tlsOptions, (s) => accept(s), () => listenerClosed, 10_000);
 * Bun.listen({ ..., tls: tlsOptions, socket: { ...shared, ...handshakes.handlers(shared) } });
 * handshakes.closeAll(); // with the listener
 * ```
 */
export class Handshakes {
  readonly #pending = new Map<Socket<TcpHandle>, ReturnType<typeof setTimeout>>();
  /** A client certificate the listener asked for and does not trust fails the handshake. */
  readonly #verifies: boolean;
  readonly #accepted: (s: Socket<TcpHandle>) => void;
  readonly #closed: () => boolean;
  readonly #timeoutMs: number;

  constructor(tls: unknown, accepted: (s: Socket<TcpHandle>) => void, closed: () => boolean, timeoutMs = TLS_HANDSHAKE_MS) {
    this.#timeoutMs = timeoutMs;
    const o = (typeof tls === "object" && tls !== null ? tls : {}) as { requestCert?: unknown; rejectUnauthorized?: unknown };
    this.#verifies = o.requestCert === true && o.rejectUnauthorized !== false;
    this.#accepted = accepted;
    this.#closed = closed;
  }

  /** Handshakes under way now. */
  get size(): number {
    return this.#pending.size;
  }

  /** The callbacks that replace `shared`'s for this listener's sockets. */
  handlers(shared: SocketHandler<TcpHandle>): Partial<SocketHandler<TcpHandle>> {
    const { close, data, drain, end } = shared;
    return {
      open: (s) => {
        if (this.#closed()) return s.terminate();
        this.#pending.set(s, setTimeout(() => this.#drop(s), this.#timeoutMs));
      },
      handshake: (s, success, authorizationError) => {
        if (!this.#forget(s)) return;
        // The host reports an untrusted client certificate as a handshake done, with its error,
        // and then closes the socket itself: that is a failed handshake too.
        if (success && !(this.#verifies && authorizationError)) this.#accepted(s);
        else s.terminate();
      },
      // Until it is accepted, a socket has no handle: its events are its handshake's.
      close: (s, error) => {
        if (s.data === undefined) this.#forget(s);
        else close?.(s, error);
      },
      data: (s, bytes) => {
        if (s.data !== undefined) data?.(s, bytes);
      },
      drain: (s) => {
        if (s.data !== undefined) drain?.(s);
      },
      end: (s) => {
        if (s.data === undefined) this.#drop(s);
        else end?.(s);
      },
    };
  }

  /** The listener closes: every handshake under way is dropped (nobody else would close them). */
  closeAll(): void {
    for (const s of [...this.#pending.keys()]) this.#drop(s);
  }

  #forget(s: Socket<TcpHandle>): boolean {
    const timer = this.#pending.get(s);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#pending.delete(s);
    return true;
  }

  #drop(s: Socket<TcpHandle>): void {
    this.#forget(s);
    s.terminate();
  }
}
