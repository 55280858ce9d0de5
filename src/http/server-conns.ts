/**
 * The HTTP server's open connections, and what `server.close()` does with them: wake the idle
 * ones (their tasks decide: close, or serve a request that has begun to arrive), then wait
 * until every connection it must wait for has ended. Built on corun syscalls only.
 */
import { suspend, current, interrupt, cancel } from "../syscalls.ts";
import { all } from "../structure/combinators.ts";
import type { Co, Waker } from "../types.ts";
import type { Task } from "../task.ts";
import type { Conn } from "../net/conn.ts";

/** One connection of the server. */
export interface ConnState {
  conn: Conn;
  /** Waiting for the next request head (none of it may have come yet). */
  idle: boolean;
  /** The task serving it. */
  task: Task<unknown> | undefined;
  /** Calls of close() its handler (or a task it started) is inside now. */
  closing: number;
  /** Bytes of the next head have come (blank lines before one do not count): a 408 then answers a request, not an idle wait. */
  headBegun: boolean;
  /** The head coming in now begins as a HEAD request's: an answer to it before it is whole (408, 431) has no body. */
  headRequest: boolean;
}

/** What close() interrupts an idle connection's read with: the connection's task then decides. */
export const SHUTDOWN = new Error("the server is closing");

/**
 * The connections open now, and the `close()` calls waiting for them.
 *
 * @example
 * ```ts
 * const conns = new ServerConns();
 * const s = conns.add(conn);      // as it is accepted
 * conns.delete(s);                // as its task ends: close() calls waiting re-check
 * yield* conns.drain();           // in close(): wake the idle ones, wait for the rest
 * ```
 */
export class ServerConns {
  readonly #all = new Set<ConnState>();
  /** Tasks waiting in `drain` for connections to end (any number may close at once). */
  readonly #waiting = new Set<Waker<void>>();

  get size(): number {
    return this.#all.size;
  }

  add(conn: Conn): ConnState {
    const s: ConnState = { conn, idle: true, task: undefined, closing: 0, headBegun: false, headRequest: false };
    this.#all.add(s);
    return s;
  }

  delete(s: ConnState): void {
    this.#all.delete(s);
    this.#wake();
  }

  /**
   * Cancel every connection's task but the caller's own, all at once, wait for them to end, and
   * reset their connections (one closed on the way may still wait for its client's FIN). The
   * cancel comes first, so a handler sees its `Cancelled` where it waits, not a read failed by
   * the reset; what it answers after it is not sent (the exchange resets instead: `aborting`).
   */
  *cancelAll(): Co<void> {
    const mine = yield* this.#mine();
    const others = [...this.#all].filter((s) => s.task !== undefined && !mine.includes(s));
    yield* all(others.map((s) => () => cancel(s.task!)));
    for (const s of others) yield* s.conn.abort();
  }

  /** The connections whose task is the caller or an ancestor of it (a handler calling close()). */
  *#mine(): Co<ConnState[]> {
    const chain = new Set<Task<unknown>>();
    for (let t: Task<unknown> | undefined = yield* current(); t !== undefined; t = t.parent) chain.add(t);
    return [...this.#all].filter((s) => s.task !== undefined && chain.has(s.task));
  }

  /**
   * Wake every idle connection's task, then wait until every connection has ended. Called from
   * a handler (or a task it started): not for its own connection, nor for those of handlers
   * inside `drain` now (each would wait for the other).
   */
  *drain(): Co<void> {
    for (const s of this.#all) if (s.idle && s.task !== undefined) yield* interrupt(s.task, SHUTDOWN);
    const mine = yield* this.#mine();
    for (const s of mine) s.closing++;
    try {
      this.#wake(); // others in drain() may wait for this handler no more
      const waitsFor = (s: ConnState): boolean => mine.length === 0 || (!mine.includes(s) && s.closing === 0);
      while ([...this.#all].some(waitsFor)) {
        yield* suspend<void>((w) => {
          this.#waiting.add(w);
          return () => void this.#waiting.delete(w);
        }, "http.close");
      }
    } finally {
      for (const s of mine) s.closing--;
      this.#wake(); // this handler goes on: a drain() that skipped it waits for it again
    }
  }

  /** Wake every drain() waiting: it re-checks (it may wait for all but some connections). */
  #wake(): void {
    if (this.#waiting.size === 0) return;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const w of waiting) w.resume();
  }
}
