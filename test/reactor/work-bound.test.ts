import { expect, test } from "bun:test";
import { WorkBound } from "../../src/reactor/work-bound.ts";

test("the rounds a sink counts since the count began, once they reach the limit; then the count starts again", () => {
  const b = new WorkBound(100);
  expect(b.after(1_000)).toBeUndefined(); // the count begins here
  expect(b.after(1_050)).toBeUndefined();
  expect(b.after(1_100)).toBe(100);
  expect(b.after(1_150)).toBeUndefined(); // from 1,100
  expect(b.after(1_200)).toBe(100);
});

test("with a sink that counts no rounds, a tick is one round", () => {
  const b = new WorkBound(3);
  expect([b.after(undefined), b.after(undefined), b.after(undefined)]).toEqual([undefined, undefined, 3]);
});

test("reset() starts the count again and clears the reports", () => {
  const b = new WorkBound(100);
  b.after(0);
  b.reports = 2;
  b.reset();
  expect(b.reports).toBe(0);
  expect(b.after(90)).toBeUndefined(); // the count begins again here
  expect(b.after(150)).toBeUndefined();
  expect(b.after(190)).toBe(100);
});
