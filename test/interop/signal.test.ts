import { describe, expect, test } from "bun:test";
import { Cancelled, cancel, join, run, signal, sleep, spawn, TaskError, wait } from "../../src/index.ts";
import { virtual, virtualError } from "../helpers.ts";

describe("signal()", () => {
  test("aborts when the task is cancelled, with a Cancelled reason; the pending promise is abandoned", async () => {
    const { result } = await virtual(function* () {
      let sig!: AbortSignal;
      const t = yield* spawn(function* () {
        sig = yield* signal();
        expect(yield* signal()).toBe(sig); // one per task
        yield* wait(new Promise<void>((resolve, reject) => {
          sig.addEventListener("abort", () => reject(sig.reason));
        }));
      });
      yield* sleep(1);
      expect(sig.aborted).toBe(false);
      yield* cancel(t);
      yield* wait(Promise.resolve()); // let the abort microtask run
      return [sig.aborted, sig.reason instanceof Cancelled];
    });
    expect(result).toEqual([true, true]);
  });

  test("aborts when the task ends normally", async () => {
    const { result } = await virtual(function* () {
      const t = yield* spawn(function* () { return yield* signal(); });
      const sig = yield* join(t);
      yield* wait(Promise.resolve());
      return sig.aborted;
    });
    expect(result).toBe(true);
  });

  test("taking a signal does not hide an unjoined failure from run()", async () => {
    const { error } = await virtualError(function* () {
      yield* spawn(function* () { yield* signal(); throw new Error("lost?"); }, { name: "w" });
      yield* sleep(5);
    });
    expect(error).toBeInstanceOf(TaskError);
  });

  test("a real fetch-like API is aborted (Bun reactor)", async () => {
    // A Promise API that honours AbortSignal, like fetch.
    const started: AbortSignal[] = [];
    function fakeFetch(sig: AbortSignal): Promise<string> {
      started.push(sig);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve("body"), 5_000);
        sig.addEventListener("abort", () => { clearTimeout(t); reject(sig.reason); });
      });
    }
    await run(function* () {
      const t = yield* spawn(function* () { return yield* wait(fakeFetch(yield* signal())); });
      yield* sleep(5);
      yield* cancel(t);
    });
    expect(started.length).toBe(1);
    expect(started[0]!.aborted).toBe(true);
  });
});

describe("run(main, { signal })", () => {
  test("aborting cancels main (finally runs) and rejects with the reason", async () => {
    const ctl = new AbortController();
    const log: string[] = [];
    const p = run(function* () {
      try { yield* sleep(60_000); } finally { log.push("main cleaned"); }
    }, { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error("stop")), 5);
    let err: unknown;
    try { await p; } catch (e) { err = e; }
    expect((err as Error).message).toBe("stop");
    expect(log).toEqual(["main cleaned"]);
  });

  test("an already-aborted signal: main never runs its body", async () => {
    const ctl = new AbortController();
    ctl.abort(new Error("early"));
    let ran = false;
    let err: unknown;
    try { await run(function* () { ran = true; }, { signal: ctl.signal }); } catch (e) { err = e; }
    expect(ran).toBe(false);
    expect((err as Error).message).toBe("early");
  });

  test("main that catches the cancel and returns: run() resolves with what it returned, as for any cancel (as documented)", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error("stop")), 5);
    const out = await run(function* () {
      try {
        yield* sleep(10_000);
        return "slept";
      } catch (e) {
        if (!(e instanceof Cancelled)) throw e;
        return "cleaned up";
      }
    }, { signal: ctl.signal });
    expect(out).toBe("cleaned up");
  });
});
