/**
 * PendingWrites: a socket's writes complete in order as the kernel takes their bytes.
 */
import { describe, expect, test } from "bun:test";
import { PendingWrites } from "../../src/reactor/pending-writes.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";

const ticket = (name: string): Ticket => ({ op: "tcp.write", a: undefined, b: undefined, taskName: name });

function recorder(): CompletionSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    complete: (t, v) => void log.push(`${t.taskName}=${String(v)}`),
    fail: (t, e) => void log.push(`${t.taskName}!${String(e)}`),
  };
}

describe("PendingWrites", () => {
  test("completes each write once the kernel has taken its last byte, in order", () => {
    const w = new PendingWrites();
    const sink = recorder();
    w.add(ticket("a"), 10);
    w.add(ticket("b"), 5);
    w.add(ticket("c"), 1);
    w.took(12, sink);
    expect(sink.log).toEqual(["a=10"]);
    w.took(3, sink);
    expect(sink.log).toEqual(["a=10", "b=5"]);
    expect(w.queued - w.accepted).toBe(1);
    w.took(1, sink);
    expect(sink.log).toEqual(["a=10", "b=5", "c=1"]);
  });

  test("a cancelled write's completion is dropped; failAll fails the rest and leaves nothing unsent", () => {
    const w = new PendingWrites();
    const sink = recorder();
    const b = ticket("b");
    w.add(ticket("a"), 4);
    w.add(b, 4);
    w.add(ticket("c"), 4);
    expect(w.cancel(b)).toBe(true); // it was waiting: the socket must own its bytes from now on
    expect(w.cancel(b)).toBe(false);
    expect(w.cancel(ticket("never added"))).toBe(false);
    w.took(8, sink);
    expect(sink.log).toEqual(["a=4"]);
    w.failAll(sink, () => "reset");
    expect(sink.log).toEqual(["a=4", "c!reset"]);
    expect(w.accepted).toBe(w.queued);
  });

  test("many writes taken a few at a time keep their order across compactions", () => {
    const w = new PendingWrites();
    const sink = recorder();
    for (let i = 0; i < 5_000; i++) w.add(ticket(`w${i}`), 1);
    for (let i = 0; i < 5_000; i += 7) w.took(Math.min(7, 5_000 - i), sink);
    expect(sink.log).toEqual(Array.from({ length: 5_000 }, (_, i) => `w${i}=1`));
  });
});
