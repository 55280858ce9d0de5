/**
 * NetError: the one error class of corun's I/O layer (sockets, UDP, files). It carries the
 * system error code (`ECONNREFUSED`, `EADDRINUSE`...), the op, the address and the task.
 * Imports nothing; the reactor drivers make these, user code catches them.
 */

/**
 * Codes corun itself uses (system codes such as `ECONNRESET` are passed through from the host).
 *
 * @example
 * ```ts
 * import { run, listen, connect, NetCode, NetError } from "corun";
 * await run(function* () {
 *   const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
 *   const c = yield* connect({ hostname: "127.0.0.1", port: l.port });
 *   yield* c.close();
 *   try { yield* c.write("late"); } catch (e) { console.log((e as NetError).code === NetCode.Closed); } // true
 *   yield* l.close();
 * });
 * ```
 */
export const NetCode = {
  /** The socket, listener or file was closed locally (by `close()` or by the end of `run()`). */
  Closed: "ERR_SOCKET_CLOSED",
  /** A write after `end()` (the sending side is shut). */
  WriteAfterEnd: "ERR_WRITE_AFTER_END",
  /** The peer closed the connection while bytes were still waiting to be sent. */
  PeerClosed: "EPIPE",
  /**
   * A connection closed with bytes unsent was reset: the peer did not take them within
   * `closeLingerMs`. Also a TLS connect whose handshake outran its `handshakeTimeout`.
   */
  TimedOut: "ETIMEDOUT",
  /** The stream ended before `readExactly` had its bytes. */
  UnexpectedEof: "ERR_UNEXPECTED_EOF",
  /** `readUntil`, `readLine` or `readAll` passed its `maxBytes` (the bytes stay for the next read). */
  TooLong: "ERR_TOO_LONG",
} as const;

/**
 * An I/O operation failed. `code` is the system or corun code, `op` the reactor op
 * (`tcp.connect`, `tcp.read`...), `address` what it was talking to and `taskName` who asked.
 *
 * @example
 * ```ts
 * import { run, connect, NetError } from "corun";
 * await run(function* () {
 *   try {
 *     yield* connect({ hostname: "127.0.0.1", port: 1 });
 *   } catch (e) {
 *     if (e instanceof NetError) console.log(e.code); // ECONNREFUSED
 *   }
 * });
 * ```
 */
export class NetError extends Error {
  override name = "NetError";
  /** `ECONNREFUSED`, `ECONNRESET`, `EADDRINUSE`, `ERR_SOCKET_CLOSED`, ... */
  readonly code: string;
  /** The reactor op that failed, e.g. `tcp.read`. */
  readonly op: string;
  /** The address or path involved, e.g. `127.0.0.1:8080`. */
  readonly address: string;
  /** The task that made the call ("" if no one task did: then the message names none). */
  readonly taskName: string;
  /** What the code means here (the host's own words when it gave some), "" if nothing more. */
  readonly detail: string;
  constructor(code: string, op: string, address: string, taskName: string, detail?: string, cause?: unknown) {
    const why = detail ?? describeCode(code);
    const who = taskName ? ` in task "${taskName}"` : "";
    super(`${op} ${address}${who} failed: ${code}${why ? ` (${why})` : ""}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.op = op;
    this.address = address;
    this.taskName = taskName;
    this.detail = why;
  }
}

const MEANINGS: Record<string, string> = {
  ECONNREFUSED: "connection refused: nothing listens there",
  ECONNRESET: "connection reset by peer",
  EADDRINUSE: "address already in use",
  EPIPE: "the peer closed the connection",
  ENOENT: "no such file or directory",
  ETIMEDOUT: "timed out",
  ERR_SOCKET_CLOSED: "it was closed",
  ERR_WRITE_AFTER_END: "write after end(): the sending side is shut",
};

function describeCode(code: string): string {
  return MEANINGS[code] ?? "";
}

/** Turn a host error into a NetError (keeping its `code` when it has one). */
export function toNetError(error: unknown, op: string, address: string, taskName: string, fallbackCode = "EIO"): NetError {
  if (error instanceof NetError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const c = typeof code === "string" && code ? code : fallbackCode;
  const meaning = describeCode(c);
  // The host's words may say it already ("ECONNRESET: connection reset by peer, read"): not twice.
  const said = meaning !== "" && message.toLowerCase().includes(meaning.toLowerCase());
  return new NetError(c, op, address, taskName, meaning && !said ? `${meaning}; ${message}` : message, error);
}

/** @internal `host:port` as errors and names show it, an IPv6 address in brackets (`[::1]:8080`). */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * @internal The error an ICMP reply leaves on a socket: it belongs to a datagram this socket sent
 * earlier, to some destination the host does not name, so it says so (a plain ECONNREFUSED
 * next to the socket's own address read as if this socket's port were dead).
 */
export function earlierSendError(error: unknown, name: string): NetError {
  const e = toNetError(error, "udp.send", name, "");
  const what = e.code === "ECONNREFUSED" ? "refused where it was sent: nothing listens there (an ICMP port unreachable)" : "failed where it was sent (an ICMP error)";
  const host = error instanceof Error ? `; ${error.message}` : "";
  return new NetError(e.code, "udp.send", name, "", `a datagram this socket sent earlier was ${what}${host}`, error);
}

