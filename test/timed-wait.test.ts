import { expect, test } from "bun:test";
import { spawn, join, type Waker } from "../src/index.ts";
import { suspendFor } from "../src/timed-wait.ts";
import { virtual } from "./helpers.ts";

const EXPIRED = Symbol("expired");

test("a timed wait that expires resumes with the expired value after its ms, never early", async () => {
  const { result, reactor } = await virtual(function* () {
    const r = yield suspendFor<string, symbol>(() => () => {}, 25, EXPIRED, "probe");
    return r;
  });
  expect(result).toBe(EXPIRED);
  expect(reactor.now()).toBe(25);
});

test("its undo runs on expiry as on a cancel: a wake-up the undo causes is refused, and an undo that throws gives the task an error, never undefined (found by review)", async () => {
  const { result } = await virtual(function* () {
    let waker: Waker<string> | undefined;
    const passes = yield* spawn(function* () {
      // An undo that passes something on by waking its own waker (a permit handed to "the next").
      return yield suspendFor<string, symbol>((w) => { waker = w; return () => void waker!.resume("late"); }, 5, EXPIRED, "probe");
    });
    const breaks = yield* spawn(function* () {
      try {
        yield suspendFor<string, symbol>(() => () => { throw undefined; }, 5, EXPIRED, "probe");
        return "no error";
      } catch (e) {
        return e instanceof Error ? e.message : `threw ${String(e)}`;
      }
    });
    return { passes: yield* join(passes), breaks: yield* join(breaks) };
  });
  expect(result).toEqual({ passes: EXPIRED, breaks: "an undo threw undefined" });
});
