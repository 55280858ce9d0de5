/**
 * A cancel never stops a close or abort: one that must wait for the task's next yield (the task
 * had just been handed a value) is not raised in place of it, but at the yield after; and a
 * close yielded before a cancel that comes later in the same tick is still made.
 */
import { test, expect } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, Scheduler, spawn, cancel, join, sleep, channel, listen, connect, udp, open, moveOnAfter, race, io, type Co, type Task } from "../../src/index.ts";
import { FakeReactor } from "../../src/testing.ts";
import { RELEASE_OPS } from "../../src/syscall.ts";

/** Spawn `body` waiting on a channel, hand it a value and cancel it in the same step: the cancel is pending when it runs. */
function* cancelWithValueInHand(body: (recv: () => Co<number>) => Co<unknown>): Co<Task<unknown>> {
  const ch = channel<number>();
  const t = yield* spawn(() => body(function* () {
    return (yield* ch.recv()).value!;
  }));
  yield* sleep(0); // it starts and waits in recv
  yield* ch.send(1); // handed to it: it is ready with the value
  yield* cancel(t);
  return t;
}

test("a connection closed in finally is closed, and the task ends with what it returned", async () => {
  await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const conn = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const t = yield* cancelWithValueInHand(function* (recv) {
      try {
        return yield* recv();
      } finally {
        yield* conn.close();
      }
    });
    expect(conn.closed).toBe(true);
    expect(t.state).toBe("done");
    expect(t.result).toBe(1);
    yield* l.close();
  });
});

test("every close in the finally is made; the cancel is raised at the first other yield", async () => {
  const path = joinPath(tmpdir(), `corun-close-at-cancel-${process.pid}`);
  try {
    await run(function* () {
      const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
      const conn = yield* connect({ hostname: "127.0.0.1", port: l.port });
      const other = yield* connect({ hostname: "127.0.0.1", port: l.port });
      const sock = yield* udp({ hostname: "127.0.0.1", port: 0 });
      const file = yield* open(path, "w");
      let after = false;
      const t = yield* cancelWithValueInHand(function* (recv) {
        try {
          return yield* recv();
        } finally {
          yield* conn.close();
          yield* other.abort();
          yield* sock.close();
          yield* file.close();
          yield* l.close();
          yield* sleep(10); // the pending cancel is raised here
          after = true;
        }
      });
      expect([conn.closed, other.closed, file.closed, l.closed, after]).toEqual([true, true, true, true, false]);
      const late = yield* moveOnAfter(1000, function* () {
        try {
          yield* file.write("late");
          return "written";
        } catch (e) {
          return (e as { code?: string }).code;
        }
      });
      expect(late).toBe("ERR_SOCKET_CLOSED"); // the file was closed
      expect(t.state).toBe("cancelled");
      // The listener and the socket are closed too: a new connect is refused, a second close is harmless.
      yield* sock.close();
      expect(yield* moveOnAfter(1000, function* () {
        try {
          yield* connect({ hostname: "127.0.0.1", port: l.port });
          return "connected";
        } catch (e) {
          return (e as { code?: string }).code;
        }
      })).toBe("ECONNREFUSED");
    });
    expect(await Bun.file(path).text()).toBe("");
  } finally {
    rmSync(path, { force: true });
  }
});

test("a time limit that expires while its work holds a value lets the work's close through", async () => {
  await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const conn = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const ch = channel<number>();
    // The value is handed over in the tick the limit comes due in: the limit's cancel is pending.
    yield* spawn(function* () {
      yield* sleep(20);
      yield* ch.send(7);
    });
    const out = yield* moveOnAfter(20, function* () {
      try {
        return (yield* ch.recv()).value;
      } finally {
        yield* conn.close();
      }
    });
    expect(conn.closed).toBe(true);
    expect(out === 7 || out === undefined).toBe(true);
    yield* l.close();
  });
});

test("a close yielded before a cancel that comes later in the same tick still reaches the driver (found by review)", async () => {
  await run(function* () {
    const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
    const conn = yield* connect({ hostname: "127.0.0.1", port: l.port });
    const ch = channel<number>();
    const t = yield* spawn(function* () {
      try {
        return (yield* ch.recv()).value;
      } finally {
        yield* conn.close();
      }
    });
    yield* sleep(1); // t waits in recv
    yield* ch.send(1); // t is ready with the value: it runs next round and yields its close
    const canceller = yield* spawn(() => cancel(t)); // steps after t, same tick, before the batch goes out
    yield* join(canceller);
    yield* sleep(20);
    expect(t.ended).toBe(true);
    expect(conn.closed).toBe(true);
    yield* l.close();
  });
});

RELEASE_OPS.add("test.close");

test("a race's loser, cancelled in the tick it yielded its close, still has its close made (found by review)", async () => {
  const made: string[] = [];
  const reactor = new FakeReactor({
    io: (batch, sink) => {
      for (const t of batch) {
        made.push(`${t.op}@${reactor.now()}`);
        sink.complete(t, undefined);
      }
    },
  });
  const s = new Scheduler({ reactor });
  const winner = await s.run(function* () {
    const ch = channel<string>();
    // Sleeps first, so it is woken before the race's winner in the tick at t=10.
    yield* spawn(function* () {
      yield* sleep(10);
      yield* ch.send("msg");
    });
    return yield* race([
      function* loser() {
        try {
          return (yield* ch.recv()).value;
        } finally {
          yield io("test.close");
        }
      },
      function* winner() {
        yield* sleep(10);
        return "winner";
      },
    ]);
  });
  expect(winner).toBe("winner");
  expect(made).toEqual(["test.close@10"]);
});
