/**
 * `select(cases)`: wait on several channels at once and take the first case that can
 * proceed (checked in order, then whichever wakes first). One waker is shared by every
 * case, so exactly one case fires. Built on `suspend` (and its timed form, for `timeout`);
 * imports only channel code and those.
 */
import { suspend } from "../syscalls.ts";
import type { Co, Waker } from "../types.ts";
import { Channel } from "./channel.ts";
import { describe } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";
import { Waiter } from "./wait-list.ts";
import { suspendFor } from "../timed-wait.ts";

/**
 * A receive case: made by `recvFrom(ch)`.
 *
 * @example
 * ```ts
 * import { channel, recvFrom, type RecvCase } from "corun";
 * const c: RecvCase<number> = recvFrom(channel<number>(1)); // yield* select([c]) receives from it
 * ```
 */
export interface RecvCase<T> {
  readonly kind: "recv";
  readonly channel: Channel<T>;
}
/**
 * A send case: made by `sendTo(ch, value)`.
 *
 * @example
 * ```ts
 * import { channel, sendTo, type SendCase } from "corun";
 * const c: SendCase<number> = sendTo(channel<number>(1), 5); // yield* select([c]) sends 5
 * ```
 */
export interface SendCase<T> {
  readonly kind: "send";
  readonly channel: Channel<T>;
  readonly value: T;
}
/**
 * One case of a `select`.
 *
 * @example
 * ```ts
 * import { channel, recvFrom, sendTo, type Case } from "corun";
 * const jobs = channel<string>(1), results = channel<string>(1);
 * const cases: Case<string>[] = [recvFrom(jobs), sendTo(results, "done")]; // yield* select(cases)
 * ```
 */
export type Case<T = unknown> = RecvCase<T> | SendCase<T>;

/**
 * What `select` returns: `index` of the case that fired (-1: none was ready and
 * `{ wait: false }` was given, or none fired within `{ timeout }`); for a receive, `value`/`done` as from `recv()`;
 * for a send, `value` is undefined and `done` false.
 *
 * @example
 * ```ts
 * import { run, channel, select, recvFrom, type Selected } from "corun";
 * await run(function* () {
 *   const a = channel<number>(1), b = channel<number>(1);
 *   yield* b.send(2);
 *   const r: Selected<number> = yield* select([recvFrom(a), recvFrom(b)]);
 *   console.log(r.index, r.value, r.done); // 1 2 false
 * });
 * ```
 */
export interface Selected<V = unknown> {
  index: number;
  value: V | undefined;
  done: boolean;
}

type ValueOf<C> = C extends RecvCase<infer T> ? T : never;

/**
 * A receive case for `select`.
 *
 * @example
 * ```ts
 * import { channel, recvFrom } from "corun";
 * const c = recvFrom(channel<number>(1)); // c.kind === "recv"
 * ```
 */
export function recvFrom<T>(ch: Channel<T>): RecvCase<T> {
  return { kind: "recv", channel: ch };
}

/**
 * A send case for `select`.
 *
 * @example
 * ```ts
 * import { channel, sendTo } from "corun";
 * const c = sendTo(channel<number>(1), 5); // c.kind === "send"
 * ```
 */
export function sendTo<T>(ch: Channel<T>, value: T): SendCase<T> {
  return { kind: "send", channel: ch, value };
}

/**
 * Options for `select`.
 *
 * @example
 * ```ts
 * import { run, channel, select, recvFrom, type SelectOptions } from "corun";
 * const poll: SelectOptions = { wait: false };
 * const briefly: SelectOptions = { timeout: 100 }; // give up after 100 ms: index -1
 * await run(function* () {
 *   const r = yield* select([recvFrom(channel<number>(1))], poll);
 *   console.log(r.index); // -1: nothing was ready
 * });
 * ```
 */
export interface SelectOptions {
  /** false: never wait; return `{ index: -1 }` if no case is ready now (Go's `default:`). A `timeout` then has nothing to limit. */
  wait?: boolean | undefined;
  /**
   * Wait at most this many milliseconds (a number >= 0; `Infinity`, the default, for no
   * limit, as is one too large for the clock, past 2^52 ms), then return `{ index: -1 }` with
   * no case performed (Go's `case <-time.After(ms)`). The limit takes effect at the end of
   * the tick it comes due in: a case that fires in that tick wins.
   * One timer in the scheduler's deadline queue, taken back when a case fires: much cheaper
   * than `moveOnAfter(ms, () => select(cases))`, which runs the select in a task of its own.
   */
  timeout?: number | undefined;
}

/** What a timed-out select's wait resumes with. */
const TIMED_OUT: unique symbol = Symbol("select timed out");

const SELECT_KEYS = Object.keys({ wait: 1, timeout: 1 } satisfies Record<keyof SelectOptions, 1>);

/**
 * Wait until one of `cases` can proceed and perform it (only that one). Ready cases are
 * taken in the order given. A send case on a closed channel throws `ChannelClosed`. If the
 * task is cancelled while waiting, no case happened; if a case happened in the same instant
 * (a value was handed over), it stands: `select` returns it and the `Cancelled` is raised at
 * the task's next yield, so no value is lost. With `{ timeout: ms }` it gives up after `ms`:
 * `index` -1, no case performed.
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, channel, select, recvFrom } from "corun";
 * await run(function* () {
 *   const fast = channel<string>(), slow = channel<string>();
 *   yield* spawn(function* () { yield* sleep(5); yield* fast.send("fast"); });
 *   yield* spawn(function* () { yield* sleep(50); yield* slow.send("slow"); });
 *   const r = yield* select([recvFrom(slow), recvFrom(fast)]);
 *   console.log(r.index, r.value); // 1 fast
 *   console.log((yield* select([recvFrom(fast)], { timeout: 10 })).index); // -1: nothing within 10 ms
 * });
 * ```
 */
export function* select<C extends readonly Case<unknown>[]>(cases: C, options?: SelectOptions): Co<Selected<ValueOf<C[number]>>> {
  if (!Array.isArray(cases) || cases.length === 0) throw new TypeError(`select(cases): expected a non-empty array of recvFrom()/sendTo() cases, got ${describe(cases)}`);
  if (options !== undefined && (options === null || typeof options !== "object" || (options.wait !== undefined && typeof options.wait !== "boolean"))) {
    // { wait: 0 } or { wait: "no" } would wait: say so instead.
    throw new TypeError(`select(cases, options): options must be { wait?: boolean, timeout?: ms }, got ${describe(options)}`);
  }
  if (options !== undefined) checkKeys(options, SELECT_KEYS, "select(cases, options)");
  const limit = options?.timeout;
  if (limit !== undefined && (typeof limit !== "number" || !(limit >= 0))) {
    const E = typeof limit === "number" ? RangeError : TypeError;
    throw new E(`select(cases, { timeout }): timeout must be a number of ms >= 0 (Infinity for no limit), got ${describe(limit)}`);
  }
  for (let i = 0; i < cases.length; i++) {
    // Every case checked before any is tried: a bad one is an error even when another is ready.
    const c = cases[i] as Case<unknown> | null | undefined;
    if (c === null || typeof c !== "object" || (c.kind !== "recv" && c.kind !== "send")) throw new TypeError(`select: case ${i} is ${describe(c)}, not a recvFrom()/sendTo() case`);
    if (!(c.channel instanceof Channel)) throw new TypeError(`select: case ${i}'s channel is ${describe(c.channel)}, not a Channel (made by channel())`);
  }
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i] as Case<unknown>;
    if (c.kind === "recv") {
      const r = c.channel.tryRecv();
      if (r !== undefined) return { index: i, value: r.value as ValueOf<C[number]>, done: r.done };
    } else if (c.kind === "send") {
      if (c.channel.trySend(c.value)) return { index: i, value: undefined, done: false };
    } else throw new TypeError(`select: case ${i} is not a recvFrom()/sendTo() case`);
  }
  if (options?.wait === false || limit === 0) return { index: -1, value: undefined, done: false };

  const waiters = cases.map((c: Case<unknown>, i) => new Waiter<unknown>(c.kind === "send" ? c.value : undefined, i));
  const setup = (waker: Waker<unknown>) => {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i] as Case<unknown>;
      if (c.kind === "recv") c.channel.enqueueRecv(waiters[i] as Waiter<undefined>, waker);
      else c.channel.enqueueSend(waiters[i]!, waker);
    }
    return leaveAll;
  };
  const leaveAll = () => {
    for (const w of waiters) w.leave();
  };
  try {
    if (limit === undefined || limit === Infinity) return (yield suspend(setup, "select")) as Selected<ValueOf<C[number]>>;
    const r = yield suspendFor(setup, limit, TIMED_OUT, "select", `timeout ${limit} ms`);
    return (r === TIMED_OUT ? { index: -1, value: undefined, done: false } : r) as Selected<ValueOf<C[number]>>;
  } catch (error) {
    // Cancelled after a receive case was served: hand that value back.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i] as Case<unknown>;
      const w = waiters[i]!;
      if (c.kind === "recv" && w.taken) {
        const r = w.delivered as Selected;
        w.delivered = r.done ? undefined : { value: r.value, done: false };
        c.channel.restore(w as Waiter<undefined>);
      }
    }
    throw error;
  } finally {
    leaveAll();
  }
}
