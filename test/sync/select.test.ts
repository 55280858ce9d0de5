import { describe, expect, test } from "bun:test";
import { cancel, channel, ChannelClosed, join, recvFrom, select, sendTo, sleep, spawn } from "../../src/index.ts";
import { virtual } from "../helpers.ts";

describe("select", () => {
  test("takes the first ready case in order", async () => {
    const { result } = await virtual(function* () {
      const a = channel<number>(1), b = channel<number>(1);
      yield* a.send(1);
      yield* b.send(2);
      const r = yield* select([recvFrom(b), recvFrom(a)]);
      return [r, a.length, b.length];
    });
    expect(result).toEqual([{ index: 0, value: 2, done: false }, 1, 0]);
  });

  test("waits for whichever channel is ready first; only that case happens", async () => {
    const { result } = await virtual(function* () {
      const fast = channel<string>(), slow = channel<string>();
      yield* spawn(function* () { yield* sleep(5); yield* fast.send("fast"); });
      const slowSender = yield* spawn(function* () { yield* sleep(50); yield* slow.send("slow"); });
      const r = yield* select([recvFrom(slow), recvFrom(fast)]);
      // select's entry left the slow channel: the slow sender now waits for a real receiver.
      expect(slow.recvq.size).toBe(0);
      yield* sleep(60);
      expect(slowSender.state).toBe("waiting");
      expect((yield* slow.recv()).value).toBe("slow");
      return r;
    });
    expect(result).toEqual({ index: 1, value: "fast", done: false });
  });

  test("send case: fires when a receiver arrives", async () => {
    const { result } = await virtual(function* () {
      const out = channel<number>(0), other = channel<number>(0);
      const reader = yield* spawn(function* () { yield* sleep(3); return yield* out.recv(); });
      const r = yield* select([recvFrom(other), sendTo(out, 9)]);
      return [r.index, yield* join(reader)];
    });
    expect(result).toEqual([1, { value: 9, done: false }]);
  });

  test("a closed channel's recv case fires with done", async () => {
    const { result } = await virtual(function* () {
      const a = channel<number>(0), b = channel<number>(0);
      yield* spawn(function* () { yield* sleep(2); b.close(); });
      return yield* select([recvFrom(a), recvFrom(b)]);
    });
    expect(result).toEqual({ index: 1, value: undefined, done: true });
  });

  test("a send case on a channel that closes throws ChannelClosed", async () => {
    let err: unknown;
    await virtual(function* () {
      const a = channel<number>(0);
      yield* spawn(function* () { yield* sleep(2); a.close(); });
      try { yield* select([sendTo(a, 1)]); } catch (e) { err = e; }
    });
    expect(err).toBeInstanceOf(ChannelClosed);
  });

  test("{ wait: false } returns index -1 when nothing is ready", async () => {
    const { result } = await virtual(function* () {
      return yield* select([recvFrom(channel<number>(0))], { wait: false });
    });
    expect(result.index).toBe(-1);
  });

  test("cancelled while waiting: leaves every channel, takes nothing", async () => {
    const { result } = await virtual(function* () {
      const a = channel<number>(0), b = channel<number>(0);
      const t = yield* spawn(() => select([recvFrom(a), sendTo(b, 5)]));
      yield* sleep(1);
      expect(a.recvq.size + b.sendq.size).toBe(2);
      yield* cancel(t);
      return [t.state, a.recvq.size, b.sendq.size, b.tryRecv()];
    });
    expect(result).toEqual(["cancelled", 0, 0, undefined]);
  });

  test("bad input", async () => {
    let err: unknown;
    await virtual(function* () {
      try { yield* select([]); } catch (e) { err = e; }
    });
    expect(err).toBeInstanceOf(TypeError);
  });

  test("a bad cases argument is named, and options that would not say whether to wait are refused (found by review: { wait: 0 } waited)", async () => {
    const messages: string[] = [];
    await virtual(function* () {
      const ch = channel<number>(1, "c");
      for (const [cases, options] of [["x", undefined], [[recvFrom(ch)], { wait: 0 }], [[recvFrom(ch)], { wait: "no" }], [[recvFrom(ch)], 5]] as const) {
        try {
          yield* select(cases as never, options as never);
          messages.push("no error");
        } catch (e) {
          messages.push(e instanceof TypeError ? e.message : String(e));
        }
      }
      messages.push(String((yield* select([recvFrom(ch)], { wait: false })).index));
    });
    expect(messages).toEqual([
      'select(cases): expected a non-empty array of recvFrom()/sendTo() cases, got "x"',
      'select(cases, options): options must be { wait?: boolean }, got {"wait":0}',
      'select(cases, options): options must be { wait?: boolean }, got {"wait":"no"}',
      "select(cases, options): options must be { wait?: boolean }, got 5",
      "-1",
    ]);
  });
});
