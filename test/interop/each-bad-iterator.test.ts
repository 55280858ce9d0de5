/** Found by review.
 * Project rule: bad input gets a clear error naming what was wrong. each() already names a
 * next() that resolves to a non-result (found by an earlier review), but a source whose
 * [Symbol.asyncIterator]() returns something that is not an iterator gets a raw engine error
 * ("undefined is not an object (evaluating 'it.next')") naming neither each() nor the source.
 */
import { expect, test } from "bun:test";
import { each } from "../../src/index.ts";
import { virtualError } from "../helpers.ts";

test("each over an async iterable whose [Symbol.asyncIterator]() returns no iterator: a TypeError naming each(source)", async () => {
  const sources = [
    { [Symbol.asyncIterator]: () => undefined },
    { [Symbol.asyncIterator]: () => ({}) },
  ];
  for (const source of sources) {
    const { error } = await virtualError(() => each(source as never, function* () {}));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain("each(source");
  }
});
