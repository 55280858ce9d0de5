import { describe, expect, test } from "bun:test";
import { Cancelled, cancel, interrupt, join, shield, sleep, spawn } from "../../src/index.ts";
import { virtual } from "../helpers.ts";

describe("shield", () => {
  test("the caller's cancel waits for the shielded work, then lands", async () => {
    const log: string[] = [];
    const { result, reactor } = await virtual(function* () {
      const t = yield* spawn(function* () {
        yield* shield(function* commit() { yield* sleep(20); log.push("committed"); });
        log.push("after shield (must not run)");
      });
      yield* sleep(5);
      yield* cancel(t);
      log.push("cancel returned");
      let e: unknown;
      try { yield* join(t); } catch (x) { e = x; }
      return e;
    });
    expect(log).toEqual(["committed", "cancel returned"]);
    expect(result).toBeInstanceOf(Cancelled);
    expect(reactor.now()).toBe(20);
  });

  test("no cancel: result or error passes through", async () => {
    const { result } = await virtual(function* () {
      const v = yield* shield(function* () { yield* sleep(1); return 5; });
      let msg = "";
      try { yield* shield(function* () { throw new Error("inner"); }); } catch (e) { msg = (e as Error).message; }
      return [v, msg];
    });
    expect(result).toEqual([5, "inner"]);
  });

  test("a cancel that arrives after an interrupt, while the shielded work runs, is raised after the interrupt (it was lost; found by review)", async () => {
    const log: string[] = [];
    const { result, reactor } = await virtual(function* () {
      const t = yield* spawn(function* worker() {
        for (let round = 0; round < 5; round++) {
          try {
            yield* shield(function* commit() { yield* sleep(20); log.push("committed"); });
          } catch (e) {
            if (e instanceof Cancelled) throw e;
            log.push(`caught ${(e as Error).message}`);
          }
          yield* sleep(10); // the held-back cancel is raised here at the latest
        }
        log.push("still running after cancel");
      });
      yield* sleep(5);
      yield* interrupt(t, new Error("deadline"));
      yield* sleep(1);
      yield* cancel(t); // waits for the shielded work, then for t
      return t.state;
    });
    expect(log).toEqual(["committed", "caught deadline"]);
    expect(result).toBe("cancelled");
    expect(reactor.now()).toBe(20);
  });
});

test("shield's bad arguments are TypeErrors naming shield, not spawn (found by review)", async () => {
  const { result } = await virtual(function* () {
    const out: string[] = [];
    for (const use of [() => shield(42 as never), () => shield(function* () {}, { name: 5 as never })]) {
      try {
        yield* use();
        out.push("accepted");
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return out;
  });
  expect(result).toEqual(["shield(co): expected a generator or a function returning one, got 42", "shield(co, { name }): name must be a string, got 5"]);
});
