import { describe, expect, test } from "bun:test";
import { channel, ChannelClosed, iterate, recvAsync, run, sendAsync, sleep, spawn } from "../../src/index.ts";
import { virtual } from "../helpers.ts";

describe("channel from Promise code", () => {
  test("for await over a channel fed by coroutines", async () => {
    const ch = channel<number>(2);
    const consumed = (async () => {
      const got: number[] = [];
      for await (const n of iterate(ch)) got.push(n);
      return got;
    })();
    await run(function* () {
      for (let i = 0; i < 5; i++) { yield* ch.send(i); yield* sleep(1); }
      ch.close();
    });
    expect(await consumed).toEqual([0, 1, 2, 3, 4]);
  });

  test("recvAsync / sendAsync meet coroutines in FIFO order", async () => {
    const ch = channel<string>(0);
    const sent = sendAsync(ch, "from promise");
    const { result } = await virtual(function* () {
      const a = yield* ch.recv();
      yield* spawn(function* () { yield* sleep(1); yield* ch.send("from coroutine"); });
      return a.value;
    });
    await sent;
    expect(result).toBe("from promise");
  });

  test("recvAsync with an abort signal leaves the queue and takes nothing", async () => {
    const ch = channel<number>(1);
    const ctl = new AbortController();
    const p = recvAsync(ch, { signal: ctl.signal });
    expect(ch.recvq.size).toBe(1);
    ctl.abort(new Error("gave up"));
    await expect(p).rejects.toThrow("gave up");
    expect(ch.recvq.size).toBe(0);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.length).toBe(1); // not taken by the aborted receiver
  });

  test("sendAsync on a closed channel rejects with ChannelClosed", async () => {
    const ch = channel<number>(0);
    const waiting = sendAsync(ch, 1);
    ch.close();
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosed);
    await expect(sendAsync(ch, 2)).rejects.toBeInstanceOf(ChannelClosed);
  });
});

describe("Promise-side edges", () => {
  test("a signal that is not an AbortSignal is refused before anything is queued", async () => {
    const ch = channel<number>(0);
    const bad = { signal: {} as AbortSignal };
    await expect(recvAsync(ch, bad)).rejects.toThrow(/signal must be an AbortSignal/);
    await expect(sendAsync(ch, 1, bad)).rejects.toThrow(/signal must be an AbortSignal/);
    expect([ch.recvq.size, ch.sendq.size]).toEqual([0, 0]);
    expect(ch.trySend(2)).toBe(false); // nobody took it
    ch.close(); // and closing does not trip over a half-made waiter
  });

  test("an already-aborted signal takes nothing, even from a ready channel", async () => {
    const ch = channel<number>(1);
    ch.trySend(7);
    const ac = new AbortController();
    ac.abort(new Error("gave up"));
    await expect(recvAsync(ch, { signal: ac.signal })).rejects.toThrow("gave up");
    expect(ch.tryRecv()).toEqual({ value: 7, done: false });
  });

  test("leaving an async iterator withdraws its receive still waiting: the next value goes elsewhere", async () => {
    const ch = channel<number>(0);
    const it = iterate(ch)[Symbol.asyncIterator]();
    const pending = it.next(); // waits for a value
    await it.return!(); // e.g. a break out of for await
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(ch.recvq.size).toBe(0);
    expect(ch.trySend(1)).toBe(false); // nobody is receiving
  });
});


describe("iterate(ch, { signal }) lets go of the signal", () => {
  /** A signal that counts the listeners attached to it. */
  function counted(): { signal: AbortSignal; live: () => number } {
    const ac = new AbortController();
    let live = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    Object.assign(ac.signal, {
      addEventListener: (...a: Parameters<AbortSignal["addEventListener"]>) => { live++; add(...a); },
      removeEventListener: (...a: Parameters<AbortSignal["removeEventListener"]>) => { live--; remove(...a); },
    });
    return { signal: ac.signal, live: () => live };
  }

  test("when a loop runs to the channel's end (for await calls no return())", async () => {
    const { signal, live } = counted();
    for (let i = 0; i < 20; i++) {
      const ch = channel<number>(1);
      await virtual(function* () { yield* ch.send(i); ch.close(); });
      for await (const _ of iterate(ch, { signal })) { /* to the end */ }
    }
    expect(live()).toBe(0);
  });

  test("the iterator is itself async-iterable", async () => {
    const ch = channel<number>(2);
    await virtual(function* () { yield* ch.send(1); yield* ch.send(2); ch.close(); });
    const it = iterate(ch)[Symbol.asyncIterator]() as AsyncIterableIterator<number>;
    const got: number[] = [];
    for await (const n of it) got.push(n);
    expect(got).toEqual([1, 2]);
  });
});
