/**
 * Shared test helpers: run a coroutine in virtual time and collect what happened.
 */
import { Scheduler, sleep, type Co, type CoSource, type SchedulerOptions } from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";

/** Run `main` on a fresh scheduler over a self-driving FakeReactor (virtual time). */
export async function virtual<T>(main: CoSource<T>, options: Omit<SchedulerOptions, "reactor"> = {}) {
  const reactor = new FakeReactor();
  const scheduler = new Scheduler({ ...options, reactor });
  const result = await scheduler.run(main);
  return { result, scheduler, reactor };
}

/** Like `virtual`, but resolves with the rejection instead (fails the test if it resolved). */
export async function virtualError(main: CoSource<unknown>, options: Omit<SchedulerOptions, "reactor"> = {}) {
  const reactor = new FakeReactor();
  const scheduler = new Scheduler({ ...options, reactor });
  try {
    await scheduler.run(main);
  } catch (error) {
    return { error, scheduler, reactor };
  }
  throw new Error("expected run() to reject, but it resolved");
}

/** Overwrite stale stack slots: the collector scans the stack conservatively, so an old pointer there keeps an object alive. */
function clobberStack(depth = 2000): number {
  return depth === 0 ? 0 : clobberStack(depth - 1) + depth;
}

/**
 * Collect garbage until `alive()` turns false, or ten tries (outside a task: a turn of the
 * event loop between tries, longer each time). Each collection runs in a timer's callback, on
 * the event loop's own short stack: run from an async function resumed after an await, it
 * scanned stale slots that kept all of a run's objects through ten collections, now and then
 * in a run of several test files (a timer's collection freed them at once).
 */
export async function collectGarbage(alive: () => boolean): Promise<void> {
  for (let i = 0; i < 10 && alive(); i++) {
    await new Promise<void>((resolve) => setTimeout(() => {
      clobberStack();
      Bun.gc(true);
      resolve();
    }, 1 + i));
  }
}

/**
 * The fewest objects `experiment` left alive over up to `tries` runs of it (it returns how many of
 * its WeakRefs still deref after collecting). A leak keeps its objects in every run; a conservative
 * root (a stale stack slot, a register) holds one now and then, which one exact check in a suite of
 * a thousand tests once met in CI. So a test asserts the least is 0 and cannot fail by chance.
 */
export async function leastKept(experiment: () => Promise<number>, tries = 3): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < tries && least > 0; i++) least = Math.min(least, await experiment());
  return least;
}

/** `collectGarbage` inside a task: it yields to the scheduler between tries. */
export function* collectGarbageIn(alive: () => boolean): Co<void> {
  for (let i = 0; i < 5 && alive(); i++) {
    clobberStack();
    Bun.gc(true);
    yield* sleep(1);
  }
}

/** A seeded xorshift random source: `rng(seed)(n)` is an integer in [0, n), the same sequence for the same seed. */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}
