/**
 * Streaming bodies on the server: a request body read piece by piece as it arrives
 * (`req.read()`), and a response body written by a coroutine as it goes (`body: function*
 * (out) {...}`), with their framing, limits, deadlines, errors and keep-alive. Real sockets on 127.0.0.1.
 */
import { test, expect, describe } from "bun:test";
import { run, wait, serve, request, sleep, spawn, join, Event, HttpClient, HttpError, NetError, type HttpServer, type HttpHandler, type BodyWriter, type ServeOptions } from "../../src/index.ts";
import { Peer, raw } from "./helpers.ts";

/** Serve with `handler` (and `options`), run `client` against it, close; the client's result and the server. */
function withServer<T>(handler: HttpHandler, client: (s: HttpServer) => Promise<T>, options: Partial<ServeOptions> = {}) {
  return run(function* () {
    const server = yield* serve({ ...options, handler });
    const value = yield* wait(client(server));
    yield* server.close();
    return { value, server };
  });
}

/** Resolves once `ok()` holds; rejects after `ms`. */
async function until(ok: () => boolean, ms = 3000, what = "a condition"): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`until: no ${what} within ${ms} ms`);
    await Bun.sleep(2);
  }
}

const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

describe("a streamed response body", () => {
  test("goes out chunked to an HTTP/1.1 client, each piece as it is written", async () => {
    const next = new Event();
    const handler: HttpHandler = function* () {
      return {
        headers: { "content-type": "text/plain" },
        body: function* (out: BodyWriter) {
          yield* out.write("first;");
          yield* next.wait(); // set once the client has the first piece
          yield* out.write(new TextEncoder().encode("second"));
        },
      };
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await until(() => p.text().includes("first;"), 3000, "first piece");
        const before = p.text();
        next.set();
        await until(() => p.text().endsWith("0\r\n\r\n"), 3000, "end of body");
        return { before, all: p.text(), closed: p.closed };
      } finally {
        p.stop();
      }
    });
    expect(value.before).not.toContain("second");
    expect(value.all).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(value.all.toLowerCase()).toContain("transfer-encoding: chunked\r\n");
    expect(value.all.toLowerCase()).not.toContain("content-length");
    expect(value.all).toEndWith("\r\n\r\n6\r\nfirst;\r\n6\r\nsecond\r\n0\r\n\r\n");
    expect(value.closed).toBe(false); // kept alive
  });

  test("is read whole by corun's client, and the connection is reused for the next request", async () => {
    const handler: HttpHandler = function* (req) {
      return {
        body: function* (out: BodyWriter) {
          for (let i = 0; i < 50; i++) yield* out.write(`${req.path}:${i};`);
        },
      };
    };
    const expected = (p: string): string => Array.from({ length: 50 }, (_, i) => `${p}:${i};`).join("");
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient();
      const a = (yield* client.request(`${server.url}/a`)).text();
      const b = (yield* client.request(`${server.url}/b`)).text();
      client.close();
      yield* server.close();
      return { a, b, accepted: server.accepted, requests: server.requests };
    });
    expect(result).toEqual({ a: expected("/a"), b: expected("/b"), accepted: 1, requests: 2 });
  });

  test("with a Content-Length from the handler is sent as exactly that many bytes, kept alive", async () => {
    const handler: HttpHandler = function* () {
      return {
        headers: { "Content-Length": "10" },
        body: function* (out: BodyWriter) {
          yield* out.write("01234");
          yield* out.write("56789");
        },
      };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]));
    const responses = value.split("HTTP/1.1 200 OK\r\n").slice(1);
    expect(responses).toHaveLength(2);
    for (const r of responses) {
      expect(r.toLowerCase()).toContain("content-length: 10\r\n");
      expect(r.toLowerCase()).not.toContain("transfer-encoding");
      expect(r).toEndWith("\r\n\r\n0123456789");
    }
  });

  test("writing past its Content-Length fails the write; the response, begun, is cut off", async () => {
    const seen: unknown[] = [];
    let writeError: unknown;
    const handler: HttpHandler = function* () {
      return {
        headers: { "content-length": "4" },
        body: function* (out: BodyWriter) {
          yield* out.write("ab");
          try {
            yield* out.write("cde");
          } catch (error) {
            writeError = error;
            throw error;
          }
        },
      };
    };
    const { value, server } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]), { onError: (e) => seen.push(e) });
    expect(writeError).toBeInstanceOf(HttpError);
    expect((writeError as HttpError).message).toContain("more than its Content-Length of 4");
    expect(value).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(value).toEndWith("\r\n\r\nab"); // no second response (no 500 after a 200)
    expect([server.handlerErrors, seen.length, server.requests]).toEqual([1, 1, 1]);
  });

  test("ending short of its Content-Length cuts the response off (the client sees it fail)", async () => {
    const seen: unknown[] = [];
    const handler: HttpHandler = function* () {
      return { headers: { "content-length": "10" }, body: function* (out: BodyWriter) { yield* out.write("short"); } };
    };
    const { value, server } = await run(function* () {
      const server = yield* serve({ handler, onError: (e) => seen.push(e) });
      let value: unknown;
      try {
        yield* request(server.url);
      } catch (error) {
        value = error;
      }
      yield* server.close();
      return { value, server };
    });
    // Reset (a close could read as a whole body where the connection's end frames it).
    expect(value instanceof NetError || (value instanceof HttpError && value.code === "INCOMPLETE_BODY")).toBe(true);
    expect(String(seen[0])).toContain("fewer than its Content-Length of 10");
    expect(server.handlerErrors).toBe(1);
  });

  test("to an HTTP/1.0 client ends with the connection (no chunked coding)", async () => {
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { yield* out.write("one "); yield* sleep(2); yield* out.write("two"); } };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]));
    const lower = value.toLowerCase();
    expect(lower).toContain("connection: close\r\n");
    expect(lower).not.toContain("transfer-encoding");
    expect(lower).not.toContain("content-length");
    expect(value).toEndWith("\r\n\r\none two");
  });

  test("to a HEAD request: the head only, the body's function is not run", async () => {
    let ran = false;
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { ran = true; yield* out.write("x"); } };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]));
    const [head, second] = value.split("\r\n\r\n");
    expect(head!.toLowerCase()).toContain("transfer-encoding: chunked");
    expect(second).toStartWith("HTTP/1.1 200 OK"); // the connection served the next request
    expect(ran).toBe(true); // by the GET
    expect(value.match(/1\r\nx\r\n0\r\n\r\n/g)).toHaveLength(1);
  });

  test("whose function fails before writing gets a 500, as a failing handler does", async () => {
    const seen: unknown[] = [];
    const handler: HttpHandler = function* () {
      return { body: function* (_out: BodyWriter) { yield* sleep(1); throw new Error("no data today"); } };
    };
    const { value, server } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]), { onError: (e) => seen.push(e) });
    expect(value).toStartWith("HTTP/1.1 500 ");
    expect(String(seen[0])).toContain("no data today");
    expect(server.handlerErrors).toBe(1);
  });

  test("whose function fails after writing cuts the response off, and reports the error", async () => {
    const seen: unknown[] = [];
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { yield* out.write("partial"); throw new Error("broke midway"); } };
    };
    const { value, server } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]), { onError: (e) => seen.push(e) });
    expect(value).toStartWith("HTTP/1.1 200 OK");
    expect(value).toContain("7\r\npartial\r\n");
    expect(value).not.toContain("0\r\n\r\n"); // never properly ended
    expect(value).not.toContain("500");
    expect(String(seen[0])).toContain("broke midway");
    expect(server.handlerErrors).toBe(1);
  });

  test("a client that goes away mid-stream fails the write with NetError; no handler error is counted", async () => {
    let failure: unknown;
    let writes = 0;
    const handler: HttpHandler = function* () {
      return {
        body: function* (out: BodyWriter) {
          try {
            for (let i = 0; i < 1000; i++) {
              yield* out.write("x".repeat(1000));
              writes++;
              yield* sleep(2);
            }
          } catch (error) {
            failure = error;
            throw error;
          }
        },
      };
    };
    const { server } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      p.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => p.received > 3000, 3000, "some of the body");
      p.stop();
      await until(() => failure !== undefined, 5000, "the write failing");
    });
    expect(failure).toBeInstanceOf(NetError);
    expect(writes).toBeLessThan(1000);
    expect(server.handlerErrors).toBe(0);
  });

  test("a writer used after its response, a second write at once, or a bad value: clear errors", async () => {
    let kept: BodyWriter | undefined;
    const errors: string[] = [];
    const handler: HttpHandler = function* (req) {
      if (req.path === "/later") {
        try {
          yield* kept!.write("late");
        } catch (error) {
          errors.push(String(error));
        }
        return "ok";
      }
      return {
        body: function* (out: BodyWriter) {
          kept = out;
          // 16 MB: more than the socket takes at once, so this write waits for the client to read.
          const other = yield* spawn(function* () {
            yield* out.write(new Uint8Array(16 << 20));
          });
          yield* sleep(1);
          try {
            yield* out.write("x".repeat(10));
          } catch (error) {
            errors.push(String(error));
          }
          try {
            yield* join(other);
          } catch (error) {
            errors.push(String(error));
          }
          try {
            yield* out.write(42 as unknown as string);
          } catch (error) {
            errors.push(String(error));
          }
        },
      };
    };
    await withServer(handler, async (s) => {
      await raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]);
      await raw(s.port, ["GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]);
    });
    expect(errors.some((e) => e.includes("another write is in progress"))).toBe(true);
    expect(errors.some((e) => e.includes("expected a string or a Uint8Array, got number"))).toBe(true);
    expect(errors.some((e) => e.includes("the response has ended"))).toBe(true);
  });

  test("can echo the request body as it arrives (the connection is then kept alive)", async () => {
    const handler: HttpHandler = function* (req) {
      return {
        body: function* (out: BodyWriter) {
          for (let b = yield* req.read(); b !== null; b = yield* req.read()) yield* out.write(b);
        },
      };
    };
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient();
      const big = "z".repeat(200_000);
      const a = (yield* client.request(server.url, { method: "POST", body: big })).text();
      const b = (yield* client.request(server.url, { method: "POST", body: ["chunk one, ", "chunk two"] })).text();
      client.close();
      yield* server.close();
      return { same: a === big, b, accepted: server.accepted };
    });
    expect(result).toEqual({ same: true, b: "chunk one, chunk two", accepted: 1 });
  });
});

describe("a request body read piece by piece", () => {
  test("gives each piece as it arrives, then null; the connection is kept alive", async () => {
    const pieces: string[] = [];
    const got = new Event();
    const handler: HttpHandler = function* (req) {
      for (let b = yield* req.read(); b !== null; b = yield* req.read()) {
        pieces.push(decode(b));
        got.set();
      }
      return `read ${pieces.join("|")} ${req.bodyRead}`;
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        await until(() => pieces.length === 1, 3000, "the first piece");
        p.send("6\r\n world\r\n0\r\n\r\n");
        await until(() => p.text().includes("read "), 3000, "the response");
        p.send("GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await p.endedWithin(3000);
        return p.text();
      } finally {
        p.stop();
      }
    });
    expect(pieces).toEqual(["hello", " world"]);
    expect(value).toContain("read hello| world true");
    expect(value.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  test("of a Content-Length body adds up to it; read() after the end stays null", async () => {
    const handler: HttpHandler = function* (req) {
      let n = 0;
      let calls = 0;
      for (let b = yield* req.read(); b !== null; b = yield* req.read()) {
        n += b.length;
        calls++;
      }
      const after = yield* req.read();
      return `${n} ${calls > 0} ${after}`;
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\nConnection: close\r\n\r\n", "a".repeat(10000), "b".repeat(20000)], { gapMs: 5 }));
    expect(value).toEndWith("30000 true null");
  });

  test("left unread at the end closes the connection after the response, which arrives whole", async () => {
    const handler: HttpHandler = function* (req) {
      const first = yield* req.read();
      return `first ${first?.length ?? 0}`;
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${"q".repeat(1000)}`);
        await p.endedWithin(4000);
        return { text: p.text(), closed: p.closed };
      } finally {
        p.stop();
      }
    });
    expect(value.text).toStartWith("HTTP/1.1 200 OK");
    expect(value.text.toLowerCase()).toContain("connection: close");
    expect(value.text).toMatch(/first \d+$/);
    expect(value.closed).toBe(true);
  });

  test("is held to maxBodyBytes in all: 413", async () => {
    const handler: HttpHandler = function* (req) {
      while ((yield* req.read()) !== null) {
        // reading on
      }
      return "all read";
    };
    const chunks = Array.from({ length: 5 }, () => `400\r\n${"c".repeat(1024)}\r\n`);
    const { value } = await withServer(handler, (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", ...chunks, "0\r\n\r\n"], { gapMs: 2 }), { maxBodyBytes: 4096 });
    expect(value).toStartWith("HTTP/1.1 413 ");
  });

  test("body() after read() is an error naming the request; read() after body() is null", async () => {
    const seen: unknown[] = [];
    const handler: HttpHandler = function* (req) {
      if (req.path === "/whole-first") {
        const all = yield* req.body();
        return `${all.length} ${yield* req.read()}`;
      }
      yield* req.read();
      yield* req.body();
      return "unreachable";
    };
    const { value } = await withServer(
      handler,
      async (s) => [
        await raw(s.port, ["POST /whole-first HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"]),
        await raw(s.port, ["POST /mixed HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"]),
      ],
      { onError: (e) => seen.push(e) },
    );
    expect(value[0]).toEndWith("3 null");
    expect(value[1]).toStartWith("HTTP/1.1 500 ");
    expect(String(seen[0])).toContain("HttpRequest.body(): the body of POST /mixed is being read piece by piece with read()");
  });

  test("answers Expect: 100-continue at the first read()", async () => {
    const handler: HttpHandler = function* (req) {
      let n = 0;
      for (let b = yield* req.read(); b !== null; b = yield* req.read()) n += b.length;
      return `got ${n}`;
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
        await until(() => p.text().includes("100 Continue"), 3000, "a 100 Continue");
        p.send("data");
        await p.endedWithin(3000);
        return p.text();
      } finally {
        p.stop();
      }
    });
    expect(value).toStartWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK");
    expect(value).toEndWith("got 4");
  });

  test("a body still arriving past bodyTimeout closes the connection; a handler that stops reading and answers is not cut off", async () => {
    const handler: HttpHandler = function* (req) {
      if (req.path === "/stop") {
        yield* req.read();
        yield* sleep(300); // past bodyTimeout: the deadline ended with the reading
        return "answered";
      }
      while ((yield* req.read()) !== null) {
        // reading a trickle
      }
      return "never";
    };
    const { value } = await withServer(
      handler,
      async (s) => [
        await raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n", ...Array.from({ length: 40 }, () => "z")], { gapMs: 20, timeoutMs: 4000 }),
        await raw(s.port, ["POST /stop HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nzz"], { timeoutMs: 4000 }),
      ],
      { bodyTimeout: 150 },
    );
    expect(value[0]).toBe(""); // closed under the waiting read, as with body()
    expect(value[1]).toStartWith("HTTP/1.1 200 OK");
    expect(value[1]).toEndWith("answered");
  });
});
