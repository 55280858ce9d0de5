/**
 * One request's deadline, without a task per request: the watchdog's reaper wakes the request
 * out of a pool wait, interrupts its connect, or aborts its connection mid-exchange.
 * Imports no Bun API.
 */
import { current, interrupt } from "../syscalls.ts";
import type { Co, Waker } from "../types.ts";
import type { Task } from "../task.ts";
import { connect } from "../net/connect.ts";
import type { Conn } from "../net/conn.ts";
import type { ConnectOptions } from "../net/options.ts";
import { abortConn } from "./close.ts";
import { HttpCode, HttpError } from "./errors.ts";

/** What the reaper needs to interrupt a request wherever it is. */
export class Exchange {
  /** Set once the deadline passed. */
  timedOut = false;
  /** The suspension to throw into (a pool wait), while there is one. */
  waker: Waker<unknown> | undefined = undefined;
  /** The request's task while it waits for a connect. */
  connecting: Task<unknown> | undefined = undefined;
  /** The connection in use, while there is one. */
  conn: Conn | undefined = undefined;
  /** The task running a streamed response's `use`, while it runs (interrupted wherever it waits). */
  using: Task<unknown> | undefined = undefined;
  readonly ms: number;
  readonly href: string;
  constructor(ms: number, href: string) {
    this.ms = ms;
    this.href = href;
  }

  /** The deadline passed while the request still waited for a connection of its pool. */
  #inPool = false;

  /** The error the request fails with once timed out. */
  error(): HttpError {
    const why = this.#inPool ? " (it was still waiting for a connection: every one the client may open to this host, maxConnectionsPerHost, was in use)" : "";
    return new HttpError(HttpCode.Timeout, `no complete response within ${this.ms} ms${why}`, this.href);
  }

  /** The deadline passed (runs in the reaper task): interrupt whatever the request waits on. */
  *expire(): Co<void> {
    this.timedOut = true;
    const w = this.waker;
    this.#inPool = w !== undefined;
    if (w !== undefined && w.throw(this.error())) return;
    // A connect in progress is withdrawn (the driver closes the socket if it opens later).
    if (this.connecting !== undefined && (yield* interrupt(this.connecting, this.error()))) return;
    // A streamed response's `use`, wherever it waits (a read of the body, a sleep, a channel):
    // the TIMEOUT is thrown into it first, so it sees that, not the connection's reset.
    if (this.using !== undefined) yield* interrupt(this.using, this.error());
    const c = this.conn;
    if (c !== undefined) yield* abortConn(c); // its pending read or write fails at once
  }
}

/**
 * Connect so that `ex`'s deadline (or a cancel) can interrupt it. If the deadline passes just
 * as the connect succeeds, the caller sees `ex.timedOut` and closes the connection.
 */
export function* connectWithin(options: ConnectOptions, ex: Exchange | undefined): Co<Conn> {
  if (ex === undefined) return yield* connect(options);
  ex.connecting = yield* current();
  try {
    return yield* connect(options);
  } finally {
    ex.connecting = undefined;
  }
}
