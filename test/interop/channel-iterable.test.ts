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
