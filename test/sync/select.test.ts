import { describe, expect, test } from "bun:test";
import { cancel, channel, ChannelClosed, current, join, recvFrom, select, sendTo, sleep, spawn } from "../../src/index.ts";
import { virtual } from "../helpers.ts";
import { Scheduler } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";

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
      'select(cases, options): options must be { wait?: boolean, timeout?: ms }, got {"wait":0}',
      'select(cases, options): options must be { wait?: boolean, timeout?: ms }, got {"wait":"no"}',
      "select(cases, options): options must be { wait?: boolean, timeout?: ms }, got 5",
      "-1",
    ]);
  });
});

/** A scheduler on a self-driving virtual clock, so a test can read its stats from inside. */
function clocked(): Scheduler & { clock: FakeReactor } {
  const clock = new FakeReactor();
  return Object.assign(new Scheduler({ reactor: clock }), { clock });
}

describe("select(cases, { timeout })", () => {
  test("returns { index: -1 } after the timeout with no case performed; a case that fires first wins and its timer is taken back", async () => {
    const s = clocked();
    const result = await s.run(function* () {
      const ch = channel<string>(0);
      const t0 = s.clock.now();
      const none = yield* select([recvFrom(ch)], { timeout: 50 });
      const waited = s.clock.now() - t0;
      yield* spawn(function* () { yield* sleep(10); yield* ch.send("hi"); });
      const got = yield* select([recvFrom(ch)], { timeout: 1000 });
      return { none, waited, got, sleepersAfter: s.stats().sleepers };
    });
    expect(result).toEqual({ none: { index: -1, value: undefined, done: false }, waited: 50, got: { index: 0, value: "hi", done: false }, sleepersAfter: 0 });
  });

  test("a send case that times out sends nothing; timeout 0 is a poll; Infinity waits as without one", async () => {
    const { result } = await virtual(function* () {
      const ch = channel<number>(0);
      const timedOut = yield* select([sendTo(ch, 1)], { timeout: 5 });
      const poll = yield* select([sendTo(ch, 2)], { timeout: 0 });
      const receiver = yield* spawn(function* () { yield* sleep(100); return (yield* ch.recv()).value; });
      const sent = yield* select([sendTo(ch, 3)], { timeout: Infinity });
      return { timedOut: timedOut.index, poll: poll.index, sent: sent.index, received: yield* join(receiver) };
    });
    expect(result).toEqual({ timedOut: -1, poll: -1, sent: 0, received: 3 });
  });

  test("a heartbeat loop (a message each ms, a 1 s limit) keeps one timer at most, not one per select", async () => {
    const s = clocked();
    const result = await s.run(function* () {
      const ch = channel<number>(0);
      yield* spawn(function* () { for (let i = 0; i < 2000; i++) { yield* sleep(1); yield* ch.send(i); } ch.close(); });
      let got = 0;
      let most = 0;
      for (;;) {
        const r = yield* select([recvFrom(ch)], { timeout: 1000 });
        most = Math.max(most, s.stats().sleepers);
        if (r.index === -1 || r.done) break;
        got++;
      }
      return { got, most };
    });
    expect(result.got).toBe(2000);
    expect(result.most).toBeLessThanOrEqual(2); // the sender's sleep, and at most one select's timer
  });

  test("cancelled while it waits: no case performed, its timer taken back; a value offered in the tick the limit comes due goes across (the limit takes effect at the tick's end)", async () => {
    const s = clocked();
    const result = await s.run(function* () {
      const ch = channel<number>(0);
      const waiter = yield* spawn(function* () { return yield* select([recvFrom(ch)], { timeout: 1000 }); });
      yield* sleep(10);
      yield* cancel(waiter);
      const sleepers = s.stats().sleepers;
      const ch2 = channel<number>(0);
      const rx = yield* spawn(function* () { return yield* select([recvFrom(ch2)], { timeout: 20 }); });
      const tx = yield* spawn(function* () { yield* sleep(20); return (yield* select([sendTo(ch2, 7)], { wait: false })).index; });
      const r = yield* join(rx);
      const sent = yield* join(tx);
      return { state: waiter.state, sleepers, delivered: r.index === 0 ? r.value : "timed out", sent };
    });
    expect([result.state, result.sleepers]).toEqual(["cancelled", 0]);
    expect([result.delivered, result.sent]).toEqual([7, 0]);
  });

  test("a timeout that is no number >= 0 is a RangeError (a number) or a TypeError naming it", async () => {
    const kinds: string[] = [];
    const { result } = await virtual(function* () {
      const out: string[] = [];
      for (const timeout of [-1, NaN, "5", null]) {
        try { yield* select([recvFrom(channel<number>(1))], { timeout: timeout as never }); } catch (e) { out.push((e as Error).message); kinds.push((e as Error).name); }
      }
      return out;
    });
    expect(result).toHaveLength(4);
    for (const m of result) expect(m).toContain("select(cases, { timeout }): timeout must be a number of ms >= 0");
    expect(kinds).toEqual(["RangeError", "RangeError", "TypeError", "TypeError"]);
  });

  test("ps() shows the wait with its limit", async () => {
    const s = clocked();
    const row = await s.run(function* () {
      const ch = channel<number>(0);
      const w = yield* spawn(function* waiter() { yield* select([recvFrom(ch)], { timeout: 250 }); });
      yield* sleep(1);
      const line = s.ps().find((t) => t.id === w.id);
      yield* cancel(w);
      return line?.waitingOn;
    });
    expect(row).toBe("select(timeout 250 ms)");
  });
});
