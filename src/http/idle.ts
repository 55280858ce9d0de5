/**
 * IdleReaper: closes a client's keep-alive connections that stayed idle longer than its
 * `idleTimeout`, from one task that wakes every quarter second while the client has requests
 * in flight or idle connections (so an idle client keeps no timer). Built on sleep and spawn.
 */
import { sleep } from "../syscalls.ts";
import type { Co } from "../types.ts";
import type { ConnPool } from "./pool.ts";
import { closeConn } from "./close.ts";
import { NetError } from "../net/errors.ts";
import { OnDemandTask } from "./watchdog.ts";
import { TickClock } from "./tick-clock.ts";

/** How often the reaper looks, in ms: an idle connection is closed up to this much late. */
export const IDLE_TICK_MS = 250;

/**
 * The idle-connection reaper of one client. Requests call `begin()`/`end()` around their
 * work (in flight, the reaper stays up, so a connection they leave idle gets its expiry) and
 * `start()` at their start; the pool stamps each idle connection with `tick`.
 *
 * @example
 * ```ts
 * const reaper = new IdleReaper(4000, "http-client-idle");
 * const pool = new ConnPool(256, () => reaper.tick);
 * reaper.attach(pool);
 * ```
 */
export class IdleReaper {
  readonly #ticks: number;
  readonly #reaper: OnDemandTask;
  #pool: ConnPool | undefined = undefined;
  readonly #clock = new TickClock(IDLE_TICK_MS);
  #inFlight = 0;

  /** `idleTimeout` in ms; `name` names the reaper task. */
  constructor(idleTimeout: number, name: string) {
    this.#ticks = Math.ceil(idleTimeout / IDLE_TICK_MS);
    this.#reaper = new OnDemandTask(name);
  }

  /** The pool whose idle connections it closes. */
  attach(pool: ConnPool): void {
    this.#pool = pool;
  }

  /** The reaper's clock, in ticks: the pool stamps connections that go idle with it. */
  get tick(): number {
    return this.#clock.tick;
  }

  /** True while the reaper task is alive. */
  get running(): boolean {
    return this.#reaper.running;
  }

  /** A request starts: the reaper stays up until it ends. */
  begin(): void {
    this.#inFlight++;
  }

  /** A request ended. */
  end(): void {
    this.#inFlight--;
  }

  /** Start the reaper task if it is not running (call it after `begin()`). */
  *start(): Co<void> {
    yield* this.#reaper.start(() => this.#reap());
  }

  *#reap(): Co<void> {
    const run = yield* this.#clock.start();
    try {
      while (this.#inFlight > 0 || (this.#pool?.idleCount ?? 0) > 0) {
        yield* sleep(IDLE_TICK_MS);
        // Ticks of the clock, not wake-ups: a late wake-up (a busy event loop) counts the time that passed.
        const tick = this.#clock.advance();
        // Idle since a tick at least `ticks` whole ticks ago: idle for `idleTimeout` at least.
        for (const conn of this.#pool?.takeIdleSince(tick - this.#ticks - 1) ?? []) {
          try {
            yield* closeConn(conn);
          } catch (error) {
            if (!(error instanceof NetError)) throw error; // gone already: nothing to close
          }
        }
      }
    } finally {
      this.#clock.stop(run); // unless a new reaper has started it again (this one was cancelled)
    }
  }
}
