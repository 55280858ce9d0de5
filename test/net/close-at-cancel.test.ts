/**
 * A cancel never stops a close or abort: one that must wait for the task's next yield (the task
 * had just been handed a value) is not raised in place of it, but at the yield after; and a
 * close yielded before a cancel that comes later in the same tick is still made.
 */
import { test, expect } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { run, Scheduler, spawn, cancel, join, sleep, channel, listen, connect, udp, open, moveOnAfter, race, io, type Co, type Task, type Reactor, type Ticket, type CompletionSink, type Submission } from "../../src/index.ts";
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
    const first = yield* race([
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
    // The run goes on: were it to end in this tick, its reactor's close would release everything anyway.
    yield* sleep(1);
    return first;
  });
  expect(winner).toBe("winner");
  expect(made).toEqual(["test.close@10"]);
});

test("an orphan close is not handed to a reactor the same tick already closed (found by review)", async () => {
  const seen: { op: string; closed: boolean; sinkDefined: boolean }[] = [];
  const reactor: FakeReactor = new FakeReactor({
    io: (batch, sink) => {
      for (const t of batch) seen.push({ op: t.op, closed: reactor.closed, sinkDefined: sink !== undefined });
      for (const t of batch) sink.complete(t, undefined);
    },
  });
  await new Scheduler({ reactor }).run(function* () {
    const x: Task<void> = yield* spawn(function* () {
      yield* io("tcp.close", "handle"); // a RELEASE_OP (index.ts loads net/conn.ts)
    });
    yield; // x takes its first step (yields the close) in the same tick as main's next one
    yield* cancel(x); // x is cancelled after yielding: its close is an orphan; x ends, main ends, run closes
  });
  expect(seen.filter((s) => s.closed)).toEqual([]);
  expect(reactor.cancelled.every((t) => !("task" in t))).toBe(true);
});

/** A reactor that will not take a close back (its cancel throws for one), answering reads a turn later. */
class Picky implements Reactor {
  readonly virtual = true;
  readonly inner: FakeReactor;
  sink!: CompletionSink;
  pending: Ticket[] = [];
  constructor() {
    this.inner = new FakeReactor({
      io: (batch: readonly Submission[], sink: CompletionSink) => {
        this.sink = sink;
        for (const t of batch) {
          if (t.op === "tcp.close") sink.complete(t, undefined);
          else this.pending.push(t); // answered on a later turn
        }
        if (this.pending.length > 0) setTimeout(() => { for (const t of this.pending.splice(0)) this.sink.complete(t, "data"); }, 5);
      },
    });
  }
  now() { return this.inner.now(); }
  schedule(tick: () => void, p?: () => boolean) { this.inner.schedule(tick, p); }
  setTimer(d: number, f: () => void) { this.inner.setTimer(d, f); }
  clearTimer() { this.inner.clearTimer(); }
  attach(s: CompletionSink) { this.inner.attach(s); }
  submit(b: readonly Submission[]) { this.inner.submit(b); }
  cancel(t: Ticket) {
    if (t.op === "tcp.close") throw new Error("cancel: nothing to take back, the close was done");
    this.pending = this.pending.filter((p) => p !== t);
    this.inner.cancel(t);
  }
  close() { this.inner.close(); }
}

test("a reactor's cancel throwing for an orphan close does not fail the tick's other ops (found by review)", async () => {
  const reactor = new Picky();
  const out = await new Scheduler({ reactor }).run(function* () {
    const reader = yield* spawn(function* () { return yield* io<string>("net.read", "h"); });
    const closer: Task<void> = yield* spawn(function* () { yield* io("tcp.close", "h2"); });
    yield; // reader and closer yield their ops in the next tick, main cancels closer in it
    yield* cancel(closer);
    return yield* join(reader);
  });
  expect(out).toBe("data");
});
