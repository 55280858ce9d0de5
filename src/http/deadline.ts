/**
 * One request's deadline, without a task per request: the watchdog's reaper wakes the request
 * out of a pool wait or a connect, or aborts its connection mid-exchange; only a connect runs
 * in a child task (it cannot be interrupted otherwise). Imports no Bun API.
 */
import { cancel, spawn, suspend } from "../syscalls.ts";
import { Cancelled } from "../errors.ts";
import type { Co, Waker } from "../types.ts";
import { connect } from "../net/connect.ts";
import type { Conn } from "../net/conn.ts";
import type { ConnectOptions } from "../net/options.ts";
import { abortConn, closeConn } from "./close.ts";
import { HttpCode, HttpError } from "./errors.ts";

/** What the reaper needs to interrupt a request wherever it is. */
export class Exchange {
  /** Set once the deadline passed. */
  timedOut = false;
  /** The suspension to throw into (a pool wait or a connect), while there is one. */
  waker: Waker<unknown> | undefined = undefined;
  /** The connection in use, while there is one. */
  conn: Conn | undefined = undefined;
  readonly ms: number;
  readonly href: string;
  constructor(ms: number, href: string) {
    this.ms = ms;
    this.href = href;
  }

  /** The error the request fails with once timed out. */
  error(): HttpError {
    return new HttpError(HttpCode.Timeout, `no complete response within ${this.ms} ms`, this.href);
  }

  /** The deadline passed (runs in the reaper task): interrupt whatever the request waits on. */
  *expire(): Co<void> {
    this.timedOut = true;
    const w = this.waker;
    if (w !== undefined && w.throw(this.error())) return;
    const c = this.conn;
    if (c !== undefined) yield* abortConn(c); // its pending read or write fails at once
  }
}

interface Connecting {
  conn: Conn | undefined;
  error: unknown;
  done: boolean;
  waker: Waker<void> | undefined;
}

function* connectChild(options: ConnectOptions, st: Connecting): Co<void> {
  try {
    st.conn = yield* connect(options);
  } catch (error) {
    if (error instanceof Cancelled) throw error;
    st.error = error;
  } finally {
    st.done = true;
    st.waker?.resume();
  }
}

/**
 * Connect so that `ex`'s deadline (or a cancel) can interrupt: the connect runs in a child
 * task, abandoned (cancelled; the driver closes the socket if it opens later) when the
 * request gives up, or closed if it connected in the same instant.
 */
export function* connectWithin(options: ConnectOptions, ex: Exchange | undefined): Co<Conn> {
  if (ex === undefined) return yield* connect(options);
  const st: Connecting = { conn: undefined, error: undefined, done: false, waker: undefined };
  const child = yield* spawn(() => connectChild(options, st), { name: "http.connect" });
  let ok = false;
  try {
    if (!st.done) {
      yield* suspend<void>((w) => {
        st.waker = w;
        ex.waker = w as Waker<unknown>;
        return () => void (st.waker = undefined);
      }, "http.connect");
    }
    ex.waker = undefined;
    if (st.error !== undefined) throw st.error;
    ok = true;
    return st.conn!;
  } finally {
    ex.waker = undefined;
    if (!ok) {
      if (!st.done) yield* cancel(child);
      else if (st.conn !== undefined) yield* closeConn(st.conn);
    }
  }
}
