/**
 * Outbound, a connection's sending side, on a fake socket: one host write per flush, what the
 * kernel did not take resent after drain, FIN only after every queued byte, refusals named
 * and not counted, and a cancelled write's bytes sent from a copy.
 */
import { describe, expect, test } from "bun:test";
import { Outbound, type OutboundHost } from "../../src/reactor/tcp-outbound.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";
import { NetError } from "../../src/net/errors.ts";
import { ZERO } from "../../src/reactor/tcp-stats.ts";

const ticket = (op: string, name: string): Ticket => ({ op, a: undefined, b: undefined, taskName: name });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function recorder(): CompletionSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    complete: (t, v) => void log.push(`${t.taskName}=${String(v)}`),
    fail: (t, e) => void log.push(`${t.taskName}!${(e as NetError).code}`),
  };
}

/** A socket that takes at most `room` bytes per write (-1: the peer is gone), recording what it got. */
class FakeSocket {
  room = Infinity;
  sent = "";
  writes = 0;
  fin = false;
  write(data: Uint8Array): number {
    this.writes++;
    if (this.room < 0) return -1;
    const n = Math.min(this.room, data.length);
    this.sent += new TextDecoder().decode(data.subarray(0, n));
    return n;
  }
  shutdown(): void {
    this.fin = true;
  }
}

function host(): OutboundHost & { socket: FakeSocket; closed: boolean; gone: boolean } {
  const h = {
    socket: new FakeSocket(),
    closed: false,
    gone: false,
    error: undefined as NetError | undefined,
    counters: { ...ZERO },
    err: (t: Ticket, code: string) => new NetError(code, t.op, "fake", t.taskName),
    rethrow: (t: Ticket) => new NetError(h.error!.code, t.op, "fake", t.taskName),
  };
  return h;
}

describe("Outbound", () => {
  test("a tick's writes go out as one host write, each completed with its byte count", () => {
    const h = host();
    const out = new Outbound(h);
    const sink = recorder();
    out.queueWrite(ticket("tcp.write", "a"), bytes("he"), sink);
    out.queueWrite(ticket("tcp.write", "b"), bytes("llo"), sink);
    out.flush(sink);
    expect({ sent: h.socket.sent, writes: h.socket.writes, log: sink.log }).toEqual({ sent: "hello", writes: 1, log: ["a=2", "b=3"] });
    expect({ writeOps: h.counters.writeOps, hostWrites: h.counters.hostWrites, bytesWritten: h.counters.bytesWritten }).toEqual({ writeOps: 2, hostWrites: 1, bytesWritten: 5 });
  });

  test("what the kernel did not take waits for drain; a write completes when its last byte went, and end() only after", () => {
    const h = host();
    const out = new Outbound(h);
    const sink = recorder();
    h.socket.room = 3;
    out.queueWrite(ticket("tcp.write", "a"), bytes("abcdef"), sink);
    out.queueEnd(ticket("tcp.end", "e"), sink);
    out.flush(sink);
    expect({ sent: h.socket.sent, unsent: out.unsent, waiting: out.waitingDrain, fin: h.socket.fin, log: sink.log }).toEqual({ sent: "abc", unsent: true, waiting: true, fin: false, log: [] });
    out.flush(sink); // no drain yet: nothing is written
    expect(h.socket.writes).toBe(1);
    h.socket.room = Infinity;
    out.waitingDrain = false; // the drain
    out.flush(sink);
    expect({ sent: h.socket.sent, fin: h.socket.fin, ended: out.ended, log: sink.log, partial: h.counters.partialWrites }).toEqual({ sent: "abcdef", fin: true, ended: true, log: ["a=6", "e=undefined"], partial: 1 });
  });

  test("refused writes fail at once, named, and are not counted", () => {
    const h = host();
    const out = new Outbound(h);
    const sink = recorder();
    out.queueEnd(ticket("tcp.end", "e"), sink);
    expect(out.queueWrite(ticket("tcp.write", "afterEnd"), bytes("x"), sink)).toBe(false);
    out.flush(sink);
    h.closed = true;
    expect(out.queueWrite(ticket("tcp.write", "afterClose"), bytes("x"), sink)).toBe(false);
    expect(sink.log).toEqual(["afterEnd!ERR_WRITE_AFTER_END", "e=undefined", "afterClose!ERR_SOCKET_CLOSED"]);
    expect(h.counters.writeOps).toBe(0);
  });

  test("a socket that refuses the write (the peer is gone) fails every waiting write and end()", () => {
    const h = host();
    const out = new Outbound(h);
    const sink = recorder();
    h.socket.room = -1;
    out.queueWrite(ticket("tcp.write", "a"), bytes("abc"), sink);
    out.queueEnd(ticket("tcp.end", "e"), sink);
    expect(out.flush(sink)).toBe(false);
    expect({ log: sink.log, unsent: out.unsent, fin: h.socket.fin }).toEqual({ log: ["a!EPIPE", "e!EPIPE"], unsent: false, fin: false });
  });

  test("a cancelled write's bytes still go, in order, from a copy: the caller may reuse its buffer", () => {
    const h = host();
    const out = new Outbound(h);
    const sink = recorder();
    const mine = bytes("abcd");
    const t = ticket("tcp.write", "a");
    out.queueWrite(t, mine, sink);
    out.queueWrite(ticket("tcp.write", "b"), bytes("ef"), sink);
    out.cancel(t);
    mine.fill(0x7a); // "zzzz": reused once the cancelled write returned
    out.flush(sink);
    expect({ sent: h.socket.sent, log: sink.log }).toEqual({ sent: "abcdef", log: ["b=2"] });
  });
});
