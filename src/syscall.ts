/**
 * The syscall descriptor: a small `{ op, a, b }` record that is also its own one-shot
 * iterator, so `yield d` hands it to the scheduler raw and `yield* d` returns a typed result.
 * Imports nothing but types.
 */

/** Op codes the kernel handles itself; anything else is submitted to the reactor as I/O. */
export const Op = {
  Io: 0,
  Sleep: 1,
  Spawn: 2,
  Join: 3,
  Cancel: 4,
  Current: 5,
  Wait: 6,
  Suspend: 7,
} as const;
/** One of the values of `Op`. */
export type Op = (typeof Op)[keyof typeof Op];

/**
 * A syscall descriptor. Made by the constructors in `syscalls.ts` (`sleep`, `spawn`, ...),
 * never by hand in user code. `yield d` gives an untyped result; `yield* d` a typed one.
 *
 * @example
 * ```ts
 * import { run, sleep, current } from "corun";
 * await run(function* () {
 *   yield sleep(5);               // raw form: the result is `unknown`
 *   const me = yield* current();  // typed form: `me` is a Task
 *   return me.name;
 * });
 * ```
 */
export class Syscall<T = unknown> implements Iterator<Syscall<T>, T, unknown> {
  /** The op name, e.g. `"sleep"`; I/O ops are named after what they do (`"read"`). */
  declare readonly op: string;
  /** @internal kernel op code (`Op.Io` for reactor operations). */
  declare readonly code: Op;
  /** @internal first argument. */
  declare readonly a: unknown;
  /** @internal second argument. */
  declare readonly b: unknown;
  /** @internal 0: next() yields the descriptor; 1: next(v) returns v. Resets, so sequential reuse works. */
  declare _phase: number;
  /** @internal iterator-result view of this descriptor (see `next`). */
  declare done: boolean;
  /** @internal */ declare value: unknown;

  constructor(op: string, code: Op, a?: unknown, b?: unknown) {
    this.op = op;
    this.code = code;
    this.a = a;
    this.b = b;
    this._phase = 0;
    this.done = false;
    this.value = undefined;
  }

  /**
   * Part of the iterator protocol used by `yield*`. The descriptor is its own iterator
   * result (`done`/`value`), so `yield* d` allocates nothing: a generator passes an inner
   * result through to its caller untouched, and the kernel reads it at once.
   */
  next(value?: unknown): IteratorResult<Syscall<T>, T> {
    if (this._phase === 0) {
      this._phase = 1;
      this.done = false;
      this.value = this;
    } else {
      this._phase = 0;
      this.done = true;
      this.value = value;
    }
    return this as unknown as IteratorResult<Syscall<T>, T>;
  }

  /** Part of the iterator protocol: an error thrown into `yield*` propagates to the caller. */
  throw(error?: unknown): IteratorResult<Syscall<T>, T> {
    this._phase = 0;
    throw error;
  }

  /** Part of the iterator protocol. */
  [Symbol.iterator](): Syscall<T> {
    return this;
  }

  /** A readable form for error messages and `ps()`. */
  toString(): string {
    if (this.code === Op.Suspend) return this.b === undefined ? `${this.op}()` : `${this.op}(${String(this.b)})`;
    return this.a === undefined ? `${this.op}()` : `${this.op}(${describe(this.a)})`;
  }
}

/** True if `value` is a syscall descriptor. */
export function isSyscall(value: unknown): value is Syscall<unknown> {
  return value instanceof Syscall;
}

/** A short, safe rendering of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
    case "function":
      return `function ${value.name || "(anonymous)"}`;
    case "object": {
      const name = (value as object).constructor?.name;
      const label = (value as { name?: unknown }).name;
      if (typeof label === "string") return `${name ?? "object"} ${JSON.stringify(label)}`;
      return name && name !== "Object" ? `[object ${name}]` : safeJson(value);
    }
    case "symbol":
      return value.toString();
    case "bigint":
      return `${value}n`;
    default:
      return String(value);
  }
}

function safeJson(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 60 ? s.slice(0, 60) + "…" : s;
  } catch {
    return "[object]";
  }
}
