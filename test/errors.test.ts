import { describe, expect, test } from "bun:test";
import { group, GroupError, join, sleep, spawn, TaskError } from "../src/index.ts";
import { reason } from "../src/errors.ts";
import { virtual, virtualError } from "./helpers.ts";

/** Failure values with no string form: messages about them must not throw. */
class BadMessage extends Error {
  override get message(): string {
    throw new Error("message getter");
  }
}

describe("failures whose value has no string form", () => {
  test("reason() never throws", () => {
    expect(reason(Object.create(null))).toBe("[Object with no string form]");
    expect(reason(new BadMessage())).toBe("[Error with no string form]");
    expect(reason(new Error("plain"))).toBe("plain");
    expect(reason(undefined)).toBe("undefined");
  });

  test("an unjoined task throwing Object.create(null): run() rejects with a TaskError carrying it", async () => {
    const bad = Object.create(null) as object;
    const { error } = await virtualError(function* () {
      yield* spawn(function* worker() { throw bad; });
      yield* sleep(5);
    });
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).cause).toBe(bad);
    expect((error as TaskError).message).toMatch(/^task "worker" \(#\d+\) failed: \[Object with no string form\]/);
  });

  test("an unjoined task whose Error has a throwing message getter", async () => {
    const { error } = await virtualError(function* () {
      yield* spawn(function* worker() { throw new BadMessage(); });
      yield* sleep(5);
    });
    expect(error).toBeInstanceOf(TaskError);
  });

  test("an onEnd callback throwing Object.create(null) is reported, and the task's joiners still wake", async () => {
    const log: string[] = [];
    const { error } = await virtualError(function* () {
      const t = yield* spawn(function* worker() { yield* sleep(1); return 1; });
      t.onEnd(() => { throw Object.create(null); });
      log.push(String(yield* join(t)));
    });
    expect(log).toEqual(["1"]);
    expect(String((error as Error).message)).toContain("an onEnd callback of task \"worker\"");
  });

  test("group: a child throwing Object.create(null) gives a GroupError with it", async () => {
    const bad = Object.create(null) as object;
    const { result } = await virtual(function* () {
      try {
        yield* group(function* (g) {
          yield* g.spawn(function* child() { throw bad; });
        });
      } catch (e) {
        return e;
      }
    });
    expect(result).toBeInstanceOf(GroupError);
    expect((result as GroupError).errors).toEqual([bad]);
  });
});
