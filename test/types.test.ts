/**
 * Type-level contract of the core API, checked by `tsc --noEmit` (npm test runs it first):
 * `yield* d` gives the syscall's result type, `yield d` gives unknown.
 */
import { expect, expectTypeOf, test } from "bun:test";
import { current, join, sleep, spawn, wait, type Co, type Task } from "../src/index.ts";
import { virtual } from "./helpers.ts";

test("yield* gives typed results; yield gives unknown", async () => {
  function* child(): Co<number> {
    yield* sleep(1);
    return 41;
  }
  const { result } = await virtual(function* () {
    const t = yield* spawn(child);
    expectTypeOf(t).toEqualTypeOf<Task<number>>();
    const n = yield* join(t);
    expectTypeOf(n).toEqualTypeOf<number>();
    const me = yield* current();
    expectTypeOf(me).toEqualTypeOf<Task<unknown>>();
    const s = yield* wait(Promise.resolve("text"));
    expectTypeOf(s).toEqualTypeOf<string>();
    const raw = yield sleep(1);
    expectTypeOf(raw).toEqualTypeOf<unknown>();
    const inferred = yield* spawn(function* () { return "inferred"; });
    expectTypeOf(inferred).toEqualTypeOf<Task<string>>();
    return n + 1 + s.length - 4;
  });
  expect(result).toBe(42);
});

test("CoSource stays a coroutine or a function returning one: helpers that call it still typecheck", () => {
  // Compiles only if calling a CoSource gives a Co (TaskBody is the wider input type).
  function start<T>(src: import("../src/index.ts").CoSource<T>): import("../src/index.ts").Co<T> {
    return typeof src === "function" ? src() : src;
  }
  const body: import("../src/index.ts").TaskBody<void> = () => sleep(1);
  expect(typeof start(function* () { return 1; }).next).toBe("function");
  expect(typeof body).toBe("function");
});
