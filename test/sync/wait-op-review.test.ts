// Found by review of the WaitOp change (9747180): three ways it differed from the generator
// methods it replaced, each passing before it and failing after, until fixed.
import { expect, test } from "bun:test";
import { channel, join, run, Semaphore, serve, sleep, spawn } from "../../src/index.ts";
import { virtual } from "../helpers.ts";

const handler = function* () { return { body: "x" }; };

// 1. serve({ onError }) refuses a generator function because "every report was dropped"
//    (test/http/serve-args.test.ts). `ch.send` was one, so forwarding reports with
//    `onError: errors.send.bind(errors)` was refused at the call; as a plain function returning
//    a WaitOp it was accepted, and each report made a send that never ran.
test("serve({ onError: ch.send.bind(ch) }) is still refused at the call", async () => {
  const errors = channel<unknown>(10, "errors");
  const out = await run(function* () {
    try {
      const s = yield* serve({ handler, onError: errors.send.bind(errors) as never });
      yield* s.close();
      return "accepted";
    } catch (e) {
      return String(e);
    }
  });
  expect(out).toContain("TypeError: HTTP server option onError must be a function (error, req) => void, got ");
});

// 2. Semaphore had gained public (@internal, so stripped from the .d.ts) members `stage` and
//    `acquireNow`, which acquire() called through `this`: a subclass with a member of either
//    name (legal TypeScript against the published types) broke acquire().
test("a Semaphore subclass with its own `stage` field can still acquire when it must wait", async () => {
  class Pipeline extends Semaphore {
    stage = "warm-up";
  }
  const { result } = await virtual(function* () {
    const s = new Pipeline(1, "p");
    yield* s.acquire();
    const t = yield* spawn(function* () {
      yield* s.acquire();
      return "got it";
    });
    yield* sleep(1);
    s.release();
    return yield* join(t);
  });
  expect(result).toBe("got it");
});

// 3. A hand-driven wait's results: a generator's are { value, done } (in that key order, as
//    printed and serialised); WaitOp's were { done, value }.
test("a hand-driven recv's iterator results serialise as a generator's do", () => {
  const ch = channel<number>(1);
  ch.trySend(7);
  expect(JSON.stringify(ch.recv().next())).toBe('{"value":{"value":7,"done":false},"done":true}');
  expect(Object.keys(ch.send(1).next())).toEqual(["value", "done"]);
});
