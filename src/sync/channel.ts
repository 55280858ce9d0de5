/**
 * `channel<T>(capacity)`: a FIFO-fair, cancellation-safe channel between tasks, built on
 * `suspend` only (no kernel changes). Capacity 0 is a rendezvous. Promise-side access lives
 * in src/interop/channel-iterable.ts, multi-channel waits in select.ts. No Bun APIs.
 */
import { suspend } from "../syscalls.ts";
import { describe, runningTask, type Syscall } from "../syscall.ts";
import type { Co, Waker } from "../types.ts";
import { ChannelClosed } from "./errors.ts";
import { Waiter, WaitList } from "./wait-list.ts";
import { WaitOp, coroutineMethods } from "./wait-op.ts";

/**
 * What `recv` returns: a value, or `done` once the channel is closed and drained.
 *
 * @example
 * ```ts
 * import { run, channel, type RecvResult } from "corun";
 * await run(function* () {
 *   const ch = channel<string>(1);
 *   yield* ch.send("hi");
 *   ch.close();
 *   const r: RecvResult<string> = yield* ch.recv();
 *   if (!r.done) console.log(r.value); // hi
 * });
 * ```
 */
export type RecvResult<T> = { value: T; done: false } | { value: undefined; done: true };

/** A send that must wait: `w` (holding its value) is queued by the descriptor returned. */
let stageSend: <T>(ch: Channel<T>, w: Waiter<T>) => Syscall<unknown>;
/** A receive that must wait: `w` is queued by the descriptor returned. */
let stageRecv: (ch: Channel<unknown>, w: Waiter<undefined>) => Syscall<unknown>;

const DONE: RecvResult<never> = Object.freeze({ value: undefined, done: true }) as RecvResult<never>;
let channels = 0;

/**
 * A channel. `send` waits while the buffer is full (or, at capacity 0, until a receiver
 * takes the value); `recv` waits while it is empty. Waiters are served first come, first
 * served. A task cancelled while waiting leaves the queue and its value is neither lost nor
 * delivered twice. `close()` lets receivers drain what is buffered, then they get `{ done: true }`;
 * senders (waiting or later) get `ChannelClosed`.
 *
 * @example
 * ```ts
 * import { run, spawn, channel } from "corun";
 * await run(function* () {
 *   const ch = channel<number>(0, "numbers");
 *   yield* spawn(function* () { for (let i = 0; i < 3; i++) yield* ch.send(i); ch.close(); });
 *   for (let r = yield* ch.recv(); !r.done; r = yield* ch.recv()) console.log(r.value); // 0 1 2
 * });
 * ```
 */
export class Channel<T> {
  /** Buffer size (0: rendezvous). */
  readonly capacity: number;
  /** For messages and `ps()`. */
  readonly name: string;
  #buf: T[] = [];
  #head = 0;
  #closed = false;
  /** @internal receivers waiting (select cases included). */
  readonly recvq = new WaitList<undefined>();
  /** @internal senders waiting, each with its value. */
  readonly sendq = new WaitList<T>();
  #stage: Waiter<T> | Waiter<undefined> | undefined = undefined;
  readonly #recvD: Syscall<unknown>;
  readonly #sendD: Syscall<unknown>;

  constructor(capacity = 0, name?: string) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`channel(capacity): capacity must be an integer >= 0, got ${describe(capacity)}`);
    }
    if (name !== undefined && typeof name !== "string") throw new TypeError(`channel(capacity, name): name must be a string, got ${describe(name)}`);
    this.capacity = capacity;
    this.name = name ?? `channel-${++channels}`;
    const label = `channel "${this.name}"`;
    const recvSetup = (w: Waker<unknown>) => this.#park(this.recvq, w);
    const sendSetup = (w: Waker<unknown>) => this.#park(this.sendq, w);
    this.#recvD = suspend(recvSetup, "recv", label);
    this.#sendD = suspend(sendSetup, "send", label);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Values buffered now. */
  get length(): number {
    return this.#buf.length - this.#head;
  }

  /**
   * Send `value`, waiting for room (or for a receiver, at capacity 0). Throws `ChannelClosed`
   * if the channel is closed, or closes while this send waits. If the sending task is
   * cancelled while waiting, the value was not sent — unless a receiver had already taken it
   * in the same instant, in which case it was delivered exactly once. Like a generator, the
   * coroutine it returns does nothing until run (`yield*`), and runs once.
   */
  send(value: T): Co<void> {
    return new SendOp(this, value) as unknown as Co<void>;
  }

  /**
   * Receive the next value: `{ value, done: false }`, or `{ value: undefined, done: true }`
   * once the channel is closed and its buffer drained. Never throws `ChannelClosed`.
   * Cancellation-safe: a value handed to this task just before it was cancelled is returned,
   * and the `Cancelled` raised at the task's next yield; it is never lost.
   */
  recv(): Co<RecvResult<T>> {
    return new RecvOp(this) as unknown as Co<RecvResult<T>>;
  }

  static {
    // For the ops below only: reached through these, not through members a subclass could shadow.
    stageSend = (ch, w) => {
      ch.#stage = w;
      return ch.#sendD;
    };
    stageRecv = (ch, w) => {
      ch.#stage = w;
      return ch.#recvD;
    };
  }

  /** Send without waiting: true if the value was buffered or handed to a receiver. Throws `ChannelClosed` if closed. */
  trySend(value: T): boolean {
    if (this.#closed) throw new ChannelClosed(this.name, "send", runningTask());
    for (let r = this.recvq.shift(); r !== undefined; r = this.recvq.shift()) {
      if (r.deliver(r.index < 0 ? { value, done: false } : { index: r.index, value, done: false })) return true;
    }
    if (this.#buf.length - this.#head < this.capacity) {
      this.#buf.push(value);
      return true;
    }
    return false;
  }

  /** Receive without waiting: a result, or `undefined` if it would have to wait. */
  tryRecv(): RecvResult<T> | undefined {
    if (this.#buf.length > this.#head) {
      const value = this.#take();
      // Room was made: move the oldest waiting sender's value into the buffer.
      for (let s = this.sendq.shift(); s !== undefined; s = this.sendq.shift()) {
        if (s.deliver(s.index < 0 ? undefined : { index: s.index, value: undefined, done: false })) {
          this.#buf.push(s.value);
          break;
        }
      }
      return { value, done: false };
    }
    for (let s = this.sendq.shift(); s !== undefined; s = this.sendq.shift()) {
      if (s.deliver(s.index < 0 ? undefined : { index: s.index, value: undefined, done: false })) return { value: s.value, done: false };
    }
    return this.#closed ? DONE : undefined;
  }

  /**
   * Close the channel. Buffered values can still be received; waiting receivers get
   * `{ done: true }`, waiting senders `ChannelClosed`. Closing twice is harmless.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.recvq.drain()) r.deliver(r.index < 0 ? DONE : { index: r.index, value: undefined, done: true });
    for (const s of this.sendq.drain()) s.waker?.throw(new ChannelClosed(this.name, "send", s.waker.task));
  }

  /**
   * @internal A receiver `w` was handed a value but was cancelled before it could use it:
   * put the value back at the front, for the next receiver. No-op if nothing was taken.
   */
  restore(w: Waiter<undefined>): void {
    w.leave();
    const r = w.delivered as RecvResult<T> | undefined;
    if (!w.taken || r === undefined || r.done) return;
    w.taken = false;
    const value = r.value as T;
    for (let q = this.recvq.shift(); q !== undefined; q = this.recvq.shift()) {
      if (q.deliver(q.index < 0 ? { value, done: false } : { index: q.index, value, done: false })) return;
    }
    // Front of the buffer, even beyond capacity: order and the value are kept.
    if (this.#head > 0) this.#buf[--this.#head] = value;
    else this.#buf.unshift(value);
  }

  /** @internal queue a receiver that a setup (select, promise side) prepared. */
  enqueueRecv(w: Waiter<undefined>, waker: Waker<unknown>): void {
    w.waker = waker;
    this.recvq.push(w);
  }

  /** @internal queue a sender that a setup (select, promise side) prepared. */
  enqueueSend(w: Waiter<T>, waker: Waker<unknown>): void {
    w.waker = waker;
    this.sendq.push(w);
  }

  #park<V>(list: WaitList<V>, waker: Waker<unknown>): () => void {
    const w = this.#stage as Waiter<V>;
    this.#stage = undefined;
    w.waker = waker;
    list.push(w);
    return () => w.leave();
  }

  #take(): T {
    const buf = this.#buf;
    const value = buf[this.#head] as T;
    buf[this.#head++] = undefined as T;
    if (this.#head === buf.length) {
      buf.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= buf.length) {
      this.#buf = buf.slice(this.#head);
      this.#head = 0;
    }
    return value;
  }

  /** `channel "name" (n buffered)` */
  toString(): string {
    return `channel "${this.name}" (${this.length}/${this.capacity})`;
  }
}

/**
 * Make a channel of capacity `capacity` (0 = rendezvous: `send` waits for a receiver).
 *
 * @example
 * ```ts
 * import { run, spawn, channel } from "corun";
 * const got = await run(function* () {
 *   const ch = channel<string>(1);
 *   yield* ch.send("hi");           // fits in the buffer: returns at once
 *   return (yield* ch.recv()).value;
 * });
 * console.log(got); // hi
 * ```
 */
export function channel<T>(capacity = 0, name?: string): Channel<T> {
  return new Channel<T>(capacity, name);
}

/** `Channel.send`: buffered or handed over at once, else waits with its value queued. */
class SendOp<T> extends WaitOp<void> {
  readonly #ch: Channel<T>;
  readonly #value: T;

  constructor(ch: Channel<T>, value: T) {
    super();
    this.#ch = ch;
    this.#value = value;
  }

  protected begin(): undefined | Syscall<unknown> {
    if (this.#ch.trySend(this.#value)) return undefined;
    return stageSend(this.#ch, new Waiter<T>(this.#value));
  }
}

/** `Channel.recv`: a value at once, else waits; an error thrown in while waiting hands back a value it was given. */
class RecvOp<T> extends WaitOp<RecvResult<T>> {
  readonly #ch: Channel<T>;
  #w: Waiter<undefined> | undefined = undefined;

  constructor(ch: Channel<T>) {
    super();
    this.#ch = ch;
  }

  protected begin(): RecvResult<T> | Syscall<unknown> {
    const now = this.#ch.tryRecv();
    if (now !== undefined) return now;
    return stageRecv(this.#ch as Channel<unknown>, (this.#w = new Waiter<undefined>(undefined)));
  }

  protected override woken(value: unknown): RecvResult<T> {
    this.#w = undefined; // an op kept after it ended keeps nothing delivered
    return value as RecvResult<T>;
  }

  protected override failed(): void {
    const w = this.#w!;
    this.#w = undefined;
    this.#ch.restore(w);
  }
}

coroutineMethods(Channel.prototype, ["send", "recv"]);
