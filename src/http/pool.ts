/**
 * ConnPool: keep-alive connections per `host:port` — idle connections are reused, at most
 * `cap` are open per host, and requests beyond it wait (FIFO) for a connection or a slot.
 * Cancellation-safe: a waiter cancelled in the instant it was served passes its lease on.
 */
import { closeConn } from "./close.ts";
import { suspend } from "../syscalls.ts";
import type { Co, Waker } from "../types.ts";
import { Waiter, WaitList } from "../sync/wait-list.ts";
import type { Conn } from "../net/conn.ts";
import type { Exchange } from "./deadline.ts";

/** What `acquire` grants: an idle connection to reuse, or a slot to open a new one in. */
export interface Lease {
  /** An open keep-alive connection, or undefined: connect yourself (the slot is yours). */
  conn: Conn | undefined;
  /** True if `conn` served an earlier request. */
  reused: boolean;
}

interface Host {
  /** Idle connections, oldest first (reused from the end), and when each went idle (`clock()`). */
  idle: Conn[];
  idleAt: number[];
  /** Connections open or being opened, idle ones included. */
  open: number;
  /** Requests waiting for a connection or a slot, oldest first: a waiter handed one has `taken` set and it in `delivered` (a Conn, or null: a slot). */
  waiters: WaitList<undefined>;
}

/** Counters of a pool. */
export interface PoolStats {
  /** Connections open now (idle ones included) over all hosts. */
  open: number;
  /** Idle keep-alive connections now. */
  idle: number;
  /** Requests waiting for a connection now. */
  waiting: number;
}

/** Connections per host, capped; see the file header. */
export class ConnPool {
  readonly #cap: number;
  readonly #hosts = new Map<string, Host>();
  readonly #clock: () => number;

  /** `clock()`: a coarse time stamped on each connection that goes idle (see `takeIdleSince`). */
  constructor(cap: number, clock: () => number = () => 0) {
    this.#cap = cap;
    this.#clock = clock;
  }

  /** Idle connections now, over all hosts (read by the idle reaper a few times a second). */
  get idleCount(): number {
    let n = 0;
    for (const h of this.#hosts.values()) n += h.idle.length;
    return n;
  }

  #host(key: string): Host {
    let h = this.#hosts.get(key);
    if (h === undefined) this.#hosts.set(key, (h = { idle: [], idleAt: [], open: 0, waiters: new WaitList() }));
    return h;
  }

  /**
   * A connection to reuse or a slot to connect in, waiting while `cap` are busy. With
   * `fresh`, an idle connection is not reused (it is closed to make room if need be).
   */
  *acquire(key: string, fresh = false, ex?: Exchange): Co<Lease> {
    const h = this.#host(key);
    // An idle connection closed here hands its slot to this lease: the count never drops
    // while the close is in flight, so a release meanwhile cannot retire the host record.
    let closing: Conn | undefined;
    if (fresh && h.open >= this.#cap && h.idle.length > 0) {
      closing = h.idle.shift()!;
      h.idleAt.shift();
    }
    while (!fresh && closing === undefined && h.idle.length > 0) {
      const c = h.idle.pop()!;
      h.idleAt.pop();
      if (!c.closed && !c.hasInput) return { conn: c, reused: true };
      // While idle, the server closed it, or sent bytes no request asked for (a 408, a FIN):
      // reusing it would read them as the next response.
      closing = c;
    }
    if (closing !== undefined) {
      yield* this.#closeInSlot(key, closing);
      return { conn: undefined, reused: false };
    }
    if (h.open < this.#cap) {
      h.open++;
      return { conn: undefined, reused: false };
    }
    const me = new Waiter(undefined);
    h.waiters.push(me);
    let c: Conn | null;
    try {
      c = yield* suspend<Conn | null>((w) => {
        me.waker = w as Waker<unknown>;
        // A deadline can throw into this wait (see deadline.ts).
        if (ex !== undefined) ex.waker = w as Waker<unknown>;
        return () => me.leave();
      }, "http.pool");
      if (ex !== undefined) ex.waker = undefined;
      if (c === null) return { conn: undefined, reused: false };
      if (!fresh) return { conn: c, reused: true };
    } catch (error) {
      if (ex !== undefined) ex.waker = undefined;
      me.leave();
      // Served and cancelled in the same instant: pass the connection or slot on.
      if (me.taken) {
        const value = me.delivered as Conn | null;
        this.release(key, value ?? undefined, value !== null);
      }
      throw error;
    }
    // Handed a keep-alive connection while this lease wants a fresh one: close it in the slot.
    yield* this.#closeInSlot(key, c);
    return { conn: undefined, reused: false };
  }

  /** Close `conn`, whose slot the caller holds; if the close throws (a cancel), the slot goes back. */
  *#closeInSlot(key: string, conn: Conn): Co<void> {
    try {
      yield* closeConn(conn);
    } catch (error) {
      this.release(key, undefined, false);
      throw error;
    }
  }

  /**
   * Give a lease back: a reusable open connection goes to the next waiter or the idle list;
   * otherwise (the caller has closed it, or never connected) the slot goes to the next waiter.
   */
  release(key: string, conn: Conn | undefined, reusable: boolean): void {
    const h = this.#host(key);
    const value = reusable && conn !== undefined && !conn.closed ? conn : null;
    for (let w = h.waiters.shift(); w !== undefined; w = h.waiters.shift()) {
      if (w.deliver(value)) return;
    }
    if (value !== null) {
      h.idle.push(value);
      h.idleAt.push(this.#clock());
      return;
    }
    h.open--;
    if (h.open === 0 && h.waiters.size === 0) this.#hosts.delete(key);
  }

  /** Take out, with their slots (to close them), the connections idle since `clock()` ≤ `limit`, oldest first. */
  takeIdleSince(limit: number): Conn[] {
    const out: Conn[] = [];
    for (const [key, h] of this.#hosts) {
      let n = 0;
      while (n < h.idleAt.length && h.idleAt[n]! <= limit) n++;
      if (n === 0) continue;
      for (const c of h.idle.splice(0, n)) out.push(c);
      h.idleAt.splice(0, n);
      h.open -= n;
      if (h.open === 0 && h.waiters.size === 0) this.#hosts.delete(key);
    }
    return out;
  }

  /** Take every idle connection out of the pool (to close them). */
  drainIdle(): Conn[] {
    const out: Conn[] = [];
    for (const [key, h] of this.#hosts) {
      h.open -= h.idle.length;
      out.push(...h.idle.splice(0));
      h.idleAt.length = 0;
      if (h.open === 0 && h.waiters.size === 0) this.#hosts.delete(key);
    }
    return out;
  }

  /** Open, idle and waiting counts. */
  stats(): PoolStats {
    let open = 0;
    let idle = 0;
    let waiting = 0;
    for (const h of this.#hosts.values()) {
      // An idle connection already closed (the run that opened it has ended) is not open: the
      // next request that finds it replaces it.
      let gone = 0;
      for (const c of h.idle) if (c.closed) gone++;
      open += h.open - gone;
      idle += h.idle.length - gone;
      waiting += h.waiters.size;
    }
    return { open, idle, waiting };
  }
}

