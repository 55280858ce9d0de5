/** The Task record's own behaviour: its name, worked out on first read. */
import { test, expect } from "bun:test";
import { run, spawn, join } from "../src/index.ts";
import { LazyName } from "../src/task.ts";

test("a LazyName is made on the name's first read only, then kept", async () => {
  let made = 0;
  const names = await run(function* () {
    const t = yield* spawn(function* () {
      return 1;
    });
    t._name = new LazyName(() => `lazy-${++made}`);
    yield* join(t);
    const before = made;
    return [before, t.name, t.name, String(t)];
  });
  expect(names).toEqual([0, "lazy-1", "lazy-1", expect.stringMatching(/^task "lazy-1" \(#\d+\)$/)]);
  expect(made).toBe(1);
});

test("a LazyName that makes an empty name falls back to task-<id>", async () => {
  const name = await run(function* () {
    const t = yield* spawn(function* () {});
    t._name = new LazyName(() => "");
    yield* join(t);
    return [t.name, t.id];
  });
  expect(name[0]).toBe(`task-${name[1]}`);
});
