/**
 * Property tests of HTTP body reading: random bodies, framed by Content-Length, chunked coding
 * (random chunk sizes, extensions, trailers) or the connection's end, arrive split at random
 * points; read whole (readBody) or piece by piece (BodyReader), they come out as sent, and the
 * bytes after them are left for the next message. No sockets: a scripted source stands in for
 * a Conn (its reads never wait, so the readers run to the end in one go).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { BodyReader, readBody, type Framing } from "../../src/http/body.ts";
import type { Conn } from "../../src/net/conn.ts";
import type { Co } from "../../src/types.ts";

/** A stand-in for a Conn: `read()` gives the next scripted piece (null at the end), `unread()` puts bytes back. */
class Script {
  readonly pieces: Uint8Array[];
  constructor(pieces: Uint8Array[]) {
    this.pieces = pieces;
  }
  *read(): Co<Uint8Array | null> {
    return this.pieces.shift() ?? null;
  }
  unread(bytes: Uint8Array): void {
    this.pieces.unshift(bytes);
  }
  /** What is left, as one array. */
  rest(): Uint8Array {
    return Uint8Array.from(this.pieces.flatMap((p) => [...p]));
  }
}

/** Run a coroutine whose reads never wait: no scheduler needed. */
function drive<T>(co: Co<T>): T {
  for (let r = co.next(); ; r = co.next()) if (r.done === true) return r.value;
}

/** `wire` split at the given cut points. */
function split(wire: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, wire.length]) {
    if (c > from) out.push(wire.subarray(from, c));
    from = Math.max(from, c);
  }
  return out;
}

const enc = new TextEncoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A body and how it goes on the wire. */
const message = fc.record({
  body: fc.uint8Array({ maxLength: 300 }),
  kind: fc.constantFrom("length", "chunked", "close"),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
  extensions: fc.array(fc.constantFrom("", ";a=1", ";name=\"v\"", " ;x"), { minLength: 1, maxLength: 4 }),
  trailers: fc.array(fc.constantFrom("X-T: 1", "Checksum: abc"), { maxLength: 2 }),
  after: fc.uint8Array({ maxLength: 20 }),
  cuts: fc.array(fc.nat(400), { maxLength: 12 }),
});

/** The wire form of `m`'s body, and its framing. */
function encode(m: { body: Uint8Array; kind: string; chunkSizes: number[]; extensions: string[]; trailers: string[] }): { wire: Uint8Array; framing: Framing } {
  if (m.kind === "length") return { wire: m.body, framing: { kind: "length", length: m.body.length } };
  if (m.kind === "close") return { wire: m.body, framing: { kind: "close" } };
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < m.body.length; i++) {
    const n = Math.min(m.chunkSizes[i % m.chunkSizes.length]!, m.body.length - at);
    parts.push(bytes(`${n.toString(16)}${m.extensions[i % m.extensions.length]}\r\n`), m.body.subarray(at, at + n), bytes("\r\n"));
    at += n;
  }
  parts.push(bytes(`0${m.extensions[0]}\r\n`), ...m.trailers.map((t) => bytes(`${t}\r\n`)), bytes("\r\n"));
  return { wire: concat(...parts), framing: { kind: "chunked" } };
}

describe("HTTP bodies split at random points", () => {
  test("readBody returns the body as sent and leaves what follows it", () => {
    fc.assert(
      fc.property(message, (m) => {
        const { wire, framing } = encode(m);
        // A body ended by the connection's end has nothing after it.
        const after = m.kind === "close" ? new Uint8Array(0) : m.after;
        const src = new Script(split(concat(wire, after), m.cuts));
        const got = drive(readBody(src as unknown as Conn, framing, 1 << 20));
        expect([...got]).toEqual([...m.body]);
        expect([...src.rest()]).toEqual([...after]);
      }),
      { numRuns: 400 },
    );
  });

  test("BodyReader gives pieces that add up to the body, then null, and stays at null", () => {
    fc.assert(
      fc.property(message, (m) => {
        const { wire, framing } = encode(m);
        const after = m.kind === "close" ? new Uint8Array(0) : m.after;
        const src = new Script(split(concat(wire, after), m.cuts));
        const r = new BodyReader(src as unknown as Conn, framing, 1 << 20);
        const pieces: number[] = [];
        for (let b = drive(r.read()); b !== null; b = drive(r.read())) pieces.push(...b);
        expect(pieces).toEqual([...m.body]);
        expect(r.done).toBe(true);
        expect(r.received).toBe(m.body.length);
        expect(drive(r.read())).toBe(null);
        expect([...src.rest()]).toEqual([...after]);
      }),
      { numRuns: 400 },
    );
  });

  test("a read cut short (a cancel at its wait) loses nothing: reading on gives the body as sent", () => {
    fc.assert(
      fc.property(message, fc.array(fc.nat(60), { maxLength: 8 }), (m, cutAt) => {
        const { wire, framing } = encode(m);
        const after = m.kind === "close" ? new Uint8Array(0) : m.after;
        const src = new Script(split(concat(wire, after), m.cuts));
        // The n-th reads of the source throw instead of returning (as a cancel raised at the read's yield), taking nothing.
        const cuts = new Set(cutAt);
        let n = 0;
        const read = src.read.bind(src);
        src.read = function* (): Co<Uint8Array | null> {
          if (cuts.has(n++)) throw new Error("cut short");
          return yield* read();
        };
        const r = new BodyReader(src as unknown as Conn, framing, 1 << 20);
        const pieces: number[] = [];
        for (let tries = 0; tries < 1000; tries++) {
          let b: Uint8Array | null;
          try {
            b = drive(r.read());
          } catch (error) {
            if ((error as Error).message !== "cut short") throw error;
            continue;
          }
          if (b === null) break;
          pieces.push(...b);
        }
        expect(pieces).toEqual([...m.body]);
        expect([...src.rest()]).toEqual([...after]);
      }),
      { numRuns: 400 },
    );
  });

  test("a body over the limit is BODY_TOO_LARGE however it is framed or split", () => {
    fc.assert(
      fc.property(message, (m) => {
        fc.pre(m.body.length > 0);
        const { wire, framing } = encode(m);
        const src = new Script(split(wire, m.cuts));
        expect(() => drive(readBody(src as unknown as Conn, framing, m.body.length - 1))).toThrow("BODY_TOO_LARGE");
      }),
      { numRuns: 200 },
    );
  });
});
