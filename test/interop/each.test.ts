import { describe, expect, test } from "bun:test";
import { cancel, channel, each, iterate, recvAsync, recvFrom, select, sleep, spawn, type Co } from "../../src/index.ts";
import { virtual, virtualError } from "../helpers.ts";

describe("each", () => {
  test("consumes an async generator in order", async () => {
    async function* numbers() { yield 1; yield 2; yield 3; }
    const { result } = await virtual(function* () {
      const got: number[] = [];
      yield* each(numbers(), function* (n) { got.push(n); yield* sleep(1); });
      return got;
    });
    expect(result).toEqual([1, 2, 3]);
  });

  test("returning false stops early and closes the iterator", async () => {
    let closed = false;
    async function* endless() {
      try { for (let i = 0; ; i++) yield i; } finally { closed = true; }
    }
    const { result } = await virtual(function* () {
      const got: number[] = [];
      yield* each(endless(), function* (n) { got.push(n); return n < 2; });
      return got;
    });
    expect(result).toEqual([0, 1, 2]);
    expect(closed).toBe(true);
  });

  test("cancelled while waiting for the next item: the task ends, the iterator is asked to close", async () => {
    let returned = false;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => {}), // never settles
        return: async () => { returned = true; return { value: undefined, done: true }; },
      }),
    };
    const { result } = await virtual(function* () {
      const t = yield* spawn(() => each(source, function* () {}));
      yield* sleep(1);
      yield* cancel(t);
      return t.state;
    });
    expect(result).toBe("cancelled");
    expect(returned).toBe(true);
  });

  test("a body error propagates", async () => {
    const { error } = await virtualError(() => each([1, 2], function* () { throw new Error("body"); }));
    expect((error as Error).message).toBe("body");
  });

  test("sync iterables and channels", async () => {
    const { result } = await virtual(function* () {
      const got: string[] = [];
      yield* each(["a", "b"], function* (s) { got.push(s); });
      const ch = channel<string>(0);
      yield* spawn(function* () { yield* ch.send("c"); yield* ch.send("d"); ch.close(); });
      yield* each(ch, function* (s) { got.push(s); });
      return got;
    });
    expect(result).toEqual(["a", "b", "c", "d"]);
  });

  test("bad source", async () => {
    const { error } = await virtualError(() => each(42 as unknown as number[], function* () {}));
    expect(error).toBeInstanceOf(TypeError);
  });
});

test("each: an async iterator whose next() rejected is not closed with return(), as in for await", async () => {
  const log: string[] = [];
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => { log.push("next"); throw new Error("source broke"); },
      return: async () => { log.push("return"); return { value: undefined, done: true as const }; },
    }),
  };
  const { error } = await virtualError(function* () { yield* each(source, function* () {}); });
  expect((error as Error).message).toBe("source broke");
  expect(log).toEqual(["next"]);
});

test("each: an async iterator whose next() returns a bare thenable (as for await accepts)", async () => {
  let i = 0;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        ({
          then(resolve: (r: IteratorResult<number>) => void) {
            resolve(i < 3 ? { value: i++, done: false } : { value: undefined, done: true });
          },
        }) as unknown as Promise<IteratorResult<number>>,
    }),
  };
  const got: number[] = [];
  await virtual(function* () { yield* each(source, function* (n) { got.push(n); }); });
  expect(got).toEqual([0, 1, 2]);
});

test("bad arguments to each, select, recvAsync and iterate are TypeErrors naming what was wrong (found by review: engine errors)", async () => {
  function* msg(f: () => Co<unknown>): Co<string> {
    try {
      yield* f();
      return "ok";
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  }
  const { result } = await virtual(function* () {
    const ch = channel<number>(4);
    yield* ch.send(1);
    return {
      plain: yield* msg(() => each([1, 2], ((n: number) => { void n; }) as never)),
      async: yield* msg(() => each([1, 2], (async (n: number) => { void n; }) as never)),
      oneSyscall: yield* msg(() => each([1, 2], ((n: number) => ch.send(n)) as never)),
      selectNull: yield* msg(() => select([null as never])),
      selectNotChannel: yield* msg(() => select([recvFrom(ch), recvFrom({} as never)])),
    };
  });
  expect(result.plain).toBe("TypeError: each(source, body): body returned undefined, not a generator; did you write function instead of function*?");
  expect(result.async).toBe("TypeError: each(source, body): an anonymous function is an async function, and a corun task is a generator function: write it as function* and wait for promises in it with yield* wait(p)");
  expect(result.oneSyscall).toBe("ok"); // a function returning one syscall runs it
  expect(result.selectNull).toBe("TypeError: select: case 0 is null, not a recvFrom()/sendTo() case");
  expect(result.selectNotChannel).toBe("TypeError: select: case 1's channel is {}, not a Channel (made by channel())"); // even with case 0 ready
  const a = await recvAsync({} as never).catch((e) => (e as Error).message);
  let b = "";
  try {
    for await (const x of iterate(null as never)) void x;
  } catch (e) {
    b = (e as Error).message;
  }
  expect(a).toBe("recvAsync(ch): expected a Channel (made by channel()), got {}");
  expect(b).toBe("iterate(ch): expected a Channel (made by channel()), got null");
});

test("a body that throws: the async source's cleanup is awaited before each() throws, as in for await (found by review)", async () => {
  const log: string[] = [];
  async function* source() {
    try {
      yield 1;
      yield 2;
    } finally {
      await Bun.sleep(20);
      log.push("source closed");
    }
  }
  const { result } = await virtual(function* () {
    try {
      yield* each(source(), function* () {
        throw new Error("body failed");
      });
    } catch (error) {
      log.push(`each threw ${(error as Error).message}`);
    }
    return log.slice();
  });
  expect(result).toEqual(["source closed", "each threw body failed"]);
});

test("each over a string walks its characters, as for…of does (its type allowed it, yet it was a TypeError; found by review)", async () => {
  const { result } = await virtual(function* () {
    const seen: string[] = [];
    yield* each("a😀b", function* (c) { seen.push(c); });
    return seen;
  });
  expect(result).toEqual(["a", "😀", "b"]);
});

test("each: an iterator whose return() throws at once does not replace the body's error, nor turn a cancel into a failure (found by review)", async () => {
  const throwingReturn = (next: () => Promise<IteratorResult<number>>) => ({
    [Symbol.asyncIterator]() { return this; },
    next,
    return(): Promise<IteratorResult<number>> { throw new Error("return failed"); },
  });
  const { result } = await virtual(function* () {
    let bodyError = "";
    try {
      yield* each(throwingReturn(() => Promise.resolve({ value: 1, done: false })), function* () { throw new Error("body failed"); });
    } catch (e) { bodyError = (e as Error).message; }
    const t = yield* spawn(function* () { yield* each(throwingReturn(() => new Promise(() => {})), function* () {}); }, { name: "consumer" });
    yield* sleep(5);
    yield* cancel(t);
    // With nothing else on its way out, return()'s own error is the outcome.
    let cleanError = "";
    try {
      yield* each(throwingReturn(() => Promise.resolve({ value: 1, done: false })), function* () { return false; });
    } catch (e) { cleanError = (e as Error).message; }
    return { bodyError, state: t.state, cleanError };
  });
  expect(result).toEqual({ bodyError: "body failed", state: "cancelled", cleanError: "return failed" });
});

test("each: a next() that resolves to something other than an iterator result is a TypeError naming it, as in for await (found by review: 5 looped for ever, null gave an engine error)", async () => {
  for (const bad of [5, null, undefined, "x"]) {
    let calls = 0;
    let closed = false;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          calls++;
          return bad as unknown as IteratorResult<number>;
        },
        return: async () => {
          closed = true;
          return { value: undefined, done: true };
        },
      }),
    };
    let bodyRan = 0;
    const { error } = await virtualError(function* () {
      yield* each(source, function* () {
        bodyRan++;
      });
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toStartWith(`each(source, body): the async iterator's next() resolved to ${bad === "x" ? '"x"' : String(bad)}, not an iterator result`);
    expect({ calls, bodyRan, closed }).toEqual({ calls: 1, bodyRan: 0, closed: false });
  }
});

test.each(["done", "value"] as const)("each: a result whose %s getter throws gives that error and leaves the iterator unclosed, as for await does (found by review: return() was called)", async (which) => {
  const source = (log: string[]): AsyncIterable<number> => ({
    [Symbol.asyncIterator]: () => ({
      next: async () => ({
        get done(): boolean {
          if (which === "done") throw new Error("done getter");
          return false;
        },
        get value(): number {
          throw new Error("value getter");
        },
      }),
      return: async () => {
        log.push("return()");
        return { done: true, value: undefined };
      },
    }),
  });
  const forAwait: string[] = [];
  const forAwaitError = await (async () => {
    try {
      for await (const _ of source(forAwait)) {
        // never reached
      }
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  })();
  const viaEach: string[] = [];
  const { error } = await virtualError(function* () {
    yield* each(source(viaEach), function* () {});
  });
  expect([forAwaitError, forAwait]).toEqual([`${which} getter`, []]);
  expect([(error as Error).message, viaEach]).toEqual([forAwaitError, forAwait]);
});
