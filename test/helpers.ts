/**
 * Shared test helpers: run a coroutine in virtual time and collect what happened.
 */
import { Scheduler, type CoSource, type SchedulerOptions } from "../src/index.ts";
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
