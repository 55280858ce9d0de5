/**
 * `now()`: the calling task's scheduler clock, in ms: real time on the Bun reactor, virtual
 * time on a FakeReactor. Code that reads the time through it (rather than `Date.now()` or
 * `performance.now()`) stays deterministic under test. Built on `current()`; imports no Bun API.
 */
import { current } from "./syscalls.ts";
import type { Co } from "./types.ts";

/**
 * The scheduler's clock now, in milliseconds: `performance.now()` on the real reactor, the
 * virtual time on a `FakeReactor`. Sleeps and time limits are measured on this clock, so a
 * rate limiter or a backoff that reads it stays exact in a virtual-time test.
 *
 * @example
 * ```ts
 * import { run, now, sleep } from "corun";
 * import { FakeReactor } from "corun/testing";
 * await run(function* () {
 *   const t0 = yield* now();
 *   yield* sleep(250);
 *   console.log((yield* now()) - t0); // 250
 * }, { reactor: new FakeReactor() });
 * ```
 */
export function* now(): Co<number> {
  return (yield* current()).owner.clock();
}
