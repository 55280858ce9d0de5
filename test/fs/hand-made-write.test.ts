/**
 * A hand-made file.write descriptor whose data is neither a string nor bytes fails alone,
 * naming what it got; other writes of the same tick land.
 */
import { test, expect } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, io, spawn, join, open, type Syscall } from "../../src/index.ts";

test("file.write of a number (a descriptor made by hand) fails that op only, with a TypeError naming it; the same tick's other writes land (found by review)", async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), "corun-handmade-"));
  try {
    const out = await run(function* () {
      const good = yield* open(joinPath(dir, "good.txt"), "w");
      const bad = yield* open(joinPath(dir, "bad.txt"), "w");
      const handle = (bad.write("x") as unknown as Syscall<unknown>).a; // the File's handle, as a hand-made descriptor would take it
      const a = yield* spawn(function* () {
        yield* good.write("hello");
        return "ok";
      });
      const b = yield* spawn(function* () {
        try {
          yield* io("file.write", handle, 5);
          return "written";
        } catch (error) {
          return String(error);
        }
      });
      const results = [yield* join(a), yield* join(b)];
      yield* bad.write("after");
      yield* good.close();
      yield* bad.close();
      return results;
    });
    expect(out[0]).toBe("ok");
    expect(out[1]).toContain("TypeError");
    expect(out[1]).toContain("5");
    expect(readFileSync(joinPath(dir, "good.txt"), "utf8")).toBe("hello");
    expect(readFileSync(joinPath(dir, "bad.txt"), "utf8")).toBe("after");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
