/**
 * `Event`: a flag tasks can wait for. `set()` wakes every waiter; `clear()` resets it.
 * Built on `suspend`; imports no kernel internals.
 */
import { suspend } from "../syscalls.ts";
import { describe, type Syscall } from "../syscall.ts";
import type { Co, Waker } from "../types.ts";
import { Waiter, WaitList } from "./wait-list.ts";
import { WaitOp, coroutineMethods } from "./wait-op.ts";

/** wait's first step: undefined if set, else the descriptor to wait on (not a member: a subclass could shadow one). */
let waitStep: (e: Event) => Syscall<unknown> | undefined;

/**
 * A one-bit broadcast: `wait()` returns at once if set, else waits for `set()`.
 *
 * @example
 * ```ts
 * import { run, spawn, sleep, Event } from "corun";
 * await run(function* () {
 *   const ready = new Event("ready");
 *   yield* spawn(function* () { yield* sleep(10); ready.set(); });
 *   yield* ready.wait(); // returns after 10 ms
 * });
 * ```
 */
export class Event {
  /** For messages and `ps()`. */
  readonly name: string;
  #set = false;
  readonly #q = new WaitList<undefined>();
  readonly #d: Syscall<unknown>;

  constructor(name = "event") {
    if (typeof name !== "string") throw new TypeError(`new Event(name): name must be a string, got ${describe(name)}`);
    this.name = name;
    const setup = (w: Waker<unknown>) => {
      const me = new Waiter<undefined>(undefined);
      me.waker = w;
      this.#q.push(me);
      return () => me.leave();
    };
    this.#d = suspend(setup, "event", `event "${name}"`);
  }

  /** True after `set()` until `clear()`. */
  get isSet(): boolean {
    return this.#set;
  }

  /** Set the flag and wake every waiting task (in arrival order). */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    for (const w of this.#q.drain()) w.deliver(undefined);
  }

  /** Reset the flag: later `wait()` calls wait again. */
  clear(): void {
    this.#set = false;
  }

  /** Wait until the flag is set. */
  wait(): Co<void> {
    return new EventWait(this) as unknown as Co<void>;
  }

  static {
    waitStep = (e) => (e.#set ? undefined : e.#d);
  }
}

/** `Event.wait`: done at once if the flag is set, else waits. */
class EventWait extends WaitOp<void> {
  readonly #e: Event;

  constructor(e: Event) {
    super();
    this.#e = e;
  }

  protected begin(): undefined | Syscall<unknown> {
    return waitStep(this.#e);
  }
}

coroutineMethods(Event.prototype, ["wait"]);
