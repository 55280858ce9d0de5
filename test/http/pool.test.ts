/**
 * ConnPool on its own (no sockets, virtual time): waiters for a slot are FIFO and leave the
 * queue when they give up (a linked wait list: O(1) each).
 */
import { describe, expect, test } from "bun:test";
import { cancel, sleep, spawn, type Task } from "../../src/index.ts";
import { ConnPool } from "../../src/http/pool.ts";
import { virtual } from "../helpers.ts";

describe("ConnPool", () => {
  test("a slot freed goes to the oldest waiter", async () => {
    const { result } = await virtual(function* () {
      const pool = new ConnPool(1);
      yield* pool.acquire("h");
      const order: string[] = [];
      for (const name of ["a", "b"]) yield* spawn(function* () { yield* pool.acquire("h"); order.push(name); pool.release("h", undefined, false); });
      yield* sleep(1);
      pool.release("h", undefined, false);
      yield* sleep(1);
      return { order, stats: pool.stats() };
    });
    expect(result).toEqual({ order: ["a", "b"], stats: { open: 0, idle: 0, waiting: 0 } });
  });

  test("many waiters giving up, newest first, all leave the queue and the counts hold", async () => {
    const n = 20_000;
    const { result } = await virtual(function* () {
      const pool = new ConnPool(1);
      yield* pool.acquire("h");
      const waiters: Task<unknown>[] = [];
      for (let i = 0; i < n; i++) waiters.push(yield* spawn(() => pool.acquire("h")));
      yield* sleep(1);
      const waiting = pool.stats().waiting;
      for (let i = n - 1; i >= 0; i--) yield* cancel(waiters[i]!);
      return { waiting, after: pool.stats() };
    });
    expect(result).toEqual({ waiting: n, after: { open: 1, idle: 0, waiting: 0 } });
  }, 10_000);
});
