/** Bad input found by a review sweeping the public API: each is a clear error at the call, naming the argument. */
import { expect, test } from "bun:test";
import { Scheduler, spawn, join, sleep } from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";

// task.onEnd(non-function): expected a TypeError at the call naming the argument and the task.
// Observed: accepted; when the task ends, the kernel takes 5 for a join waiter and throws
// "undefined is not an object (evaluating 'task.waitGen')" out of the scheduler's tick.
test("task.onEnd(5) on a live task is refused at the call, not a crash of the scheduler when it ends", async () => {
  const s = new Scheduler({ reactor: new FakeReactor() });
  let atCall: unknown = "accepted";
  const outcome = await s.run(function* () {
    const t = yield* spawn(function* worker() { yield* sleep(1); return 1; });
    try { t.onEnd(5 as unknown as () => void); } catch (e) { atCall = e; }
    return yield* join(t);
  }).then((v) => `resolved ${v}`, (e: Error) => `rejected ${e.message}`);
  expect(outcome).toBe("resolved 1");
  expect(atCall).toBeInstanceOf(TypeError);
  expect(String((atCall as Error).message)).toMatch(/onEnd\(callback\).*function.*5|callback.*must be a function/);
});

test("task.onEnd(undefined) on an ended task names the argument (not 'callback is not a function')", async () => {
  const s = new Scheduler({ reactor: new FakeReactor() });
  const msg = await s.run(function* () {
    const t = yield* spawn(function* worker() { return 1; });
    yield* join(t);
    try { t.onEnd(undefined as unknown as () => void); return "accepted"; } catch (e) { return (e as Error).message; }
  });
  expect(msg).toMatch(/onEnd\(callback\)/);
});
