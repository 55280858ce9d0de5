/** Found by review.
 * wait(thenable) / `yield thenable`: a `then()` that fulfils and then throws. Promise semantics
 * (Promises/A+ 2.3.3.3.4.1, and `await`) ignore the throw once a callback was called: the value
 * stands and nothing else happens. corun delivers the value and then raises the ignored error at
 * the task's NEXT, unrelated yield (here a sleep), failing code that did nothing wrong.
 */
import { expect, test } from "bun:test";
import { sleep, wait } from "../../src/index.ts";
import { virtual } from "../helpers.ts";

test("a thenable that resolves and then throws: the throw is ignored, as await ignores it", async () => {
  const t = { then(ok: (v: number) => void) { ok(1); throw new Error("after resolve"); } };
  expect(await (t as unknown as Promise<number>)).toBe(1); // what await does
  const { result } = await virtual(function* () {
    const a = yield* wait(t as PromiseLike<number>);
    let b = "slept";
    try { yield* sleep(1); } catch (e) { b = `sleep threw: ${(e as Error).message}`; }
    return [a, b];
  });
  expect(result).toEqual([1, "slept"]);
});

test("the same through a raw `yield thenable`", async () => {
  const t = { then(ok: (v: number) => void) { ok(2); throw new Error("after resolve"); } };
  const { result } = await virtual(function* () {
    const a = (yield t as unknown as PromiseLike<number>) as number;
    let b = "slept";
    try { yield* sleep(1); } catch (e) { b = `sleep threw: ${(e as Error).message}`; }
    return [a, b];
  });
  expect(result).toEqual([2, "slept"]);
});
