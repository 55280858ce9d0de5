/**
 * The syscall descriptor: an immutable `{ op, a, b }` record. `yield d` hands it to the
 * scheduler raw; `yield* d` returns a typed result through one shared, allocation-free
 * iterator. Being immutable, one descriptor may be shared by any number of tasks at once.
 */

import type { Co } from "./types.ts";

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
  Interrupt: 8,
  RaiseLater: 9,
} as const;
/** One of the values of `Op`. */
export type Op = (typeof Op)[keyof typeof Op];

/**
 * Not for users: the kernel that is stepping a task right now. `yield* d` offers it kernel-only
 * syscalls (and `yield* task`) first: it returns the result, or NOT_INLINE to have the
 * syscall yielded to it the usual way, or throws the error to raise in the task.
 */
export interface InlineHost {
  inline(d: Syscall<unknown> | object): unknown;
  /** The task whose generator is running right now, if any. */
  readonly running: object | undefined;
}

/** @internal returned by `InlineHost.inline` to decline. */
export const NOT_INLINE: unique symbol = Symbol("not inline");

let host: InlineHost | undefined = undefined;

/**
 * @internal Make `h` the stepping kernel (undefined for none); returns the one it replaces.
 * Handing the host back also lets go of the last `yield*` result, which nothing reads after
 * the step that took it (a large buffer would otherwise stay reachable until the next one).
 */
export function swapInlineHost(h: InlineHost | undefined): InlineHost | undefined {
  const prev = host;
  host = h;
  if (h === undefined) delegate.forget();
  return prev;
}

/**
 * @internal The task whose generator is running right now (its code called this), or
 * undefined outside any task: in plain code, a promise callback, an `onEnd` callback.
 */
export function runningTask(): object | undefined {
  return host?.running;
}

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
export class Syscall<T = unknown> implements Iterable<Syscall<T>, T, unknown> {
  /** The op name, e.g. `"sleep"`; I/O ops are named after what they do (`"read"`). */
  declare readonly op: string;
  /** @internal kernel op code (`Op.Io` for reactor operations). */
  declare readonly code: Op;
  /** @internal first argument. */
  declare readonly a: unknown;
  /** @internal second argument. */
  declare readonly b: unknown;
  /** Iterator-result view, on the prototype: a descriptor passed through `yield*` is "not done". */
  declare readonly done: false;

  constructor(op: string, code: Op, a?: unknown, b?: unknown) {
    this.op = op;
    this.code = code;
    this.a = a;
    this.b = b;
  }

  /** Iterator-result view: the value a `yield*` hands up to the scheduler is the descriptor. */
  get value(): Syscall<T> {
    return this;
  }

  /**
   * Used by `yield*`: returns the one shared delegate iterator, primed with this descriptor.
   * The language calls `next()` right after this, synchronously, so sharing is safe. A
   * kernel-only syscall made by the task being stepped (spawn, current, a join of an ended
   * task) is completed here by its kernel, so the generator does not suspend at all.
   */
  [Symbol.iterator](): Iterator<Syscall<T>, T, unknown> {
    delegate.pending = this;
    return delegate as Iterator<Syscall<T>, T, unknown>;
  }

  /** A readable form for error messages and `ps()`. */
  toString(): string {
    if (this.code === Op.Suspend) return this.b === undefined ? `${this.op}()` : `${this.op}(${String(this.b)})`;
    return this.a === undefined ? `${this.op}()` : `${this.op}(${describe(this.a)})`;
  }
}
Object.defineProperty(Syscall.prototype, "done", { value: false, writable: false, enumerable: false });

/**
 * @internal A descriptor of an op the kernel may answer at the `yield*` (spawn, join, current,
 * raiseLater). A class of its own so that the plain descriptors' `yield*` (sleep, I/O), inlined
 * into every coroutine that makes one, stays a two-line iterator.
 */
export class InlineSyscall<T = unknown> extends Syscall<T> {
  override [Symbol.iterator](): Iterator<Syscall<T>, T, unknown> {
    if (answeredInline(this)) return delegate as Iterator<Syscall<T>, T, unknown>;
    delegate.pending = this;
    return delegate as Iterator<Syscall<T>, T, unknown>;
  }
}
Object.defineProperty(InlineSyscall, "name", { value: "Syscall" }); // in messages and describe(), a descriptor is a Syscall

/**
 * The delegate iterator behind every `yield* d`. Its first `next()` returns the primed
 * iterator result: a descriptor is its own ("not done", value itself), so the generator
 * passes it up to the scheduler untouched; a result worked out inline is "done". The next
 * `next(v)` returns `v` as the finished result. A generator reads a result's `done` and
 * `value` at once, so one shared result object serves every syscall; nothing is allocated.
 */
class DelegateIterator {
  pending: object | undefined = undefined;
  readonly #finished = { done: true as const, value: undefined as unknown };

  next(value?: unknown): IteratorResult<unknown, unknown> {
    const d = this.pending;
    if (d !== undefined) {
      this.pending = undefined;
      return d as IteratorResult<unknown, unknown>;
    }
    this.#finished.value = value;
    return this.#finished;
  }

  /** Prime with a result the kernel worked out inline: the `yield*` returns it without suspending. */
  completed(value: unknown): void {
    this.#finished.value = value;
    this.pending = this.#finished;
  }

  /** Let go of the last result handed through (the kernel calls this after each tick's steps). */
  forget(): void {
    this.#finished.value = undefined;
  }

  /** An error thrown into a `yield*` propagates to the caller. */
  throw(error?: unknown): IteratorResult<unknown, unknown> {
    this.pending = undefined;
    throw error;
  }
}

const delegate = new DelegateIterator();

/**
 * @internal `Task[Symbol.iterator]`: `yield* task` joins it. An ended task is joined inline by
 * the stepping kernel (see `InlineHost`); otherwise a `join` descriptor is yielded.
 */
export function delegateJoin<T>(task: object): Iterator<Syscall<T>, T, unknown> {
  if (!answeredInline(task)) delegate.pending = new InlineSyscall<T>("join", Op.Join, task);
  return delegate as Iterator<Syscall<T>, T, unknown>;
}

/**
 * Offer `x` (a kernel-only descriptor, or a task to join) to the stepping kernel. True if it
 * answered: the delegate is then primed with the result. Throws the error it gives, to be
 * raised at the `yield*`.
 */
function answeredInline(x: object): boolean {
  const h = host;
  if (h === undefined) return false;
  const r = h.inline(x);
  if (r === NOT_INLINE) return false;
  delegate.completed(r);
  return true;
}

/**
 * @internal The I/O ops that release a resource (a connection's close or abort, a listener's,
 * a datagram socket's or a file's close), added by the modules that make them. A cancel or
 * error waiting for a task's next yield (see step.ts) is not raised in place of one of these,
 * but at the yield after: cleanup such as `finally { yield* conn.close() }` is never skipped.
 */
export const RELEASE_OPS = new Set<string>();

/** True if `value` is a syscall descriptor. */
export function isSyscall(value: unknown): value is Syscall<unknown> {
  return value instanceof Syscall;
}

/** True if `x` is a coroutine to `yield*`: a generator object (`next` and `throw`), not an async one. */
export function isCoroutine(x: unknown): x is Co<unknown> {
  return x !== null && typeof x === "object" && typeof (x as Co<unknown>).next === "function" && typeof (x as Co<unknown>).throw === "function" && !(Symbol.asyncIterator in x);
}

/** The kind of function `fn` is, by its constructor's name (`"GeneratorFunction"`, `"AsyncFunction"`...), or undefined for no function. */
function kindOf(fn: unknown): unknown {
  return typeof fn === "function" ? (fn as { constructor?: { name?: unknown } }).constructor?.name : undefined;
}

/** True if `fn` is a generator function (`function*`): a mistake where a plain function is wanted. */
export function isGeneratorFunction(fn: unknown): boolean {
  return kindOf(fn) === "GeneratorFunction";
}

/** True if `fn` is an async function or async generator function: a mistake where a `function*` is wanted. */
export function isAsyncFunction(fn: unknown): boolean {
  const kind = kindOf(fn);
  return kind === "AsyncFunction" || kind === "AsyncGeneratorFunction";
}

/**
 * @internal The TypeError for an async function given where a task body belongs (`op` names
 * the call, `where` the task), or undefined for anything else. It must be refused before it is
 * called: calling it runs its body (only the promise it returns could be refused after).
 */
export function asyncBodyError(fn: unknown, op: string, where = ""): TypeError | undefined {
  if (kindOf(fn) !== "AsyncFunction") return undefined;
  return new TypeError(`${op}: ${(fn as () => unknown).name || "an anonymous function"} is an async function${where}, and a corun task is a generator function: write it as function* and wait for promises in it with yield* wait(p)`);
}

/**
 * @internal The reason to give when a task body, or what its function returned (`fromFunction`),
 * is `made`, no generator. A promise a function returned gets a hint, and its rejection is
 * marked handled: the TypeError about it is the error to report, not an unhandled rejection
 * later. A promise given as the body is the caller's own, left as it is.
 */
export function notGeneratorHint(made: unknown, fromFunction: boolean): string {
  if (made instanceof Promise) {
    if (!fromFunction) return "a promise is not a task body: wait for it with yield* wait(p)";
    ignoreRejection(made);
    return "a task body is a generator function, not one returning a promise: wait for a promise in one with yield* wait(p)";
  }
  return "did you write function instead of function*?";
}

/**
 * @internal Mark a promise user code returned where none belongs as handled: the TypeError
 * about it is the error to report, not an unhandled rejection after it.
 */
export function ignoreRejection(value: unknown): void {
  if (value instanceof Promise) value.catch(() => {});
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
      if (Array.isArray(value)) return safeJson(value);
      const tag = Object.prototype.toString.call(value);
      if (tag === "[object Generator]") return "a generator object";
      if (tag === "[object AsyncGenerator]") return "an async generator object";
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
