/**
 * WaitOp: what a primitive's wait (`recv`, `send`, `acquire`, `Event.wait`) returns — a
 * coroutine without a generator. It tries at once and, only if it must wait, yields the
 * primitive's suspend descriptor. A generator per call cost a channel pipeline half its speed.
 */
import { Syscall } from "../syscall.ts";

const FRESH = 0;
const WAITING = 1;
const DONE = 2;

/**
 * A one-step coroutine with a generator's protocol (`next`, `throw`, `return`, iterator
 * helpers, tag "Generator"), so `yield* op`, `spawn(op)`, `timeout(ms, op)` and the rest take
 * it as they take a generator. Like a generator it does nothing until its first `next()`, and
 * runs once. Subclasses say how to try (`begin`), what a wake-up returns (`woken`) and how to
 * undo a wait that an error ended (`failed`).
 *
 * @example
 * ```ts
 * // inside corun: Channel.recv() returns a RecvOp, a WaitOp
 * const r = yield* ch.recv(); // no generator made; one suspend only if nothing is buffered
 * ```
 */
export abstract class WaitOp<R> {
  #state = FRESH;

  /** Try at once: the result (done), or the descriptor to wait on (a Syscall: with its waiter staged). */
  protected abstract begin(): R | Syscall<unknown>;

  /** The result when woken with `value` (default: undefined, as a plain `yield d` gives nothing back). */
  protected woken(_value: unknown): R {
    return undefined as R;
  }

  /** An error was thrown in while waiting: leave the queue, hand on what was taken. An error of its own replaces the one thrown in. */
  protected failed(): void {}

  next(value?: unknown): IteratorResult<Syscall<unknown>, R> {
    switch (this.#state) {
      case FRESH: {
        this.#state = DONE; // if begin() throws, the op is over, as a generator that threw
        const r = this.begin();
        if (r instanceof Syscall) {
          this.#state = WAITING;
          return { value: r, done: false };
        }
        return { value: r, done: true };
      }
      case WAITING:
        this.#state = DONE;
        return { value: this.woken(value), done: true };
      default:
        return { value: undefined as R, done: true };
    }
  }

  throw(error: unknown): IteratorResult<Syscall<unknown>, R> {
    const waiting = this.#state === WAITING;
    this.#state = DONE;
    if (waiting) this.failed();
    throw error;
  }

  return(value?: R): IteratorResult<Syscall<unknown>, R> {
    this.#state = DONE;
    return { value: value as R, done: true };
  }
}

/**
 * Mark `proto`'s methods `names`, which return a WaitOp, as generator functions (so are their
 * bound copies): code that refuses a function returning a coroutine where a plain callback
 * belongs (`serve`'s `onError: ch.send.bind(ch)` would drop every report) still sees one.
 *
 * @example
 * ```ts
 * coroutineMethods(Channel.prototype, ["send", "recv"]);
 * ```
 */
export function coroutineMethods(proto: object, names: readonly string[]): void {
  const generatorFunction = Object.getPrototypeOf(function* () {}) as object;
  for (const name of names) Object.setPrototypeOf((proto as Record<string, object>)[name]!, generatorFunction);
}

// `[Symbol.iterator]` (itself) and the iterator helpers, as a generator has them; named as one in messages.
Object.setPrototypeOf(WaitOp.prototype, Iterator.prototype);
Object.defineProperty(WaitOp.prototype, Symbol.toStringTag, { value: "Generator", configurable: true });
