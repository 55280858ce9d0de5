/**
 * Streaming bodies on the server: a request body read piece by piece as it arrives
 * (`req.read()`), and a response body written by a coroutine as it goes (`body: function*
 * (out) {...}`), with their framing, limits, deadlines, errors and keep-alive. Real sockets on 127.0.0.1.
 */
import { test, expect, describe } from "bun:test";
import { run, wait, serve, request, requestStream, sleep, spawn, join, cancel, moveOnAfter, Event, HttpClient, HttpError, NetError, type HttpServer, type HttpHandler, type BodyWriter, type ServeOptions, netStats } from "../../src/index.ts";
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
    expect(errors.some((e) => e.includes("expected a string or a Uint8Array, got 42"))).toBe(true);
    expect(errors.some((e) => e.includes("the response has ended"))).toBe(true);
  });

  test("can echo the request body as it arrives (its head goes out before the body is read, so the connection then closes)", async () => {
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
    expect(result).toEqual({ same: true, b: "chunk one, chunk two", accepted: 2 });
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

  test("a body still arriving past bodyTimeout is cut off; a handler that stops reading and answers is not", async () => {
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
    // Closed under the waiting read, or a 408 if the time ran out between two reads.
    expect(value[0] === "" || value[0]!.startsWith("HTTP/1.1 408 ")).toBe(true);
    expect(value[1]).toStartWith("HTTP/1.1 200 OK");
    expect(value[1]).toEndWith("answered");
  });
});

describe("found by review of streamed bodies", () => {
  const text = (p: Peer) => p.text();

  test("no 100 Continue once a streamed response's head is out (it would land inside the body)", async () => {
    const handler: HttpHandler = function* (req) {
      return {
        body: function* (out: BodyWriter) {
          yield* out.write("preamble;");
          let n = 0;
          for (let b = yield* req.read(); b !== null; b = yield* req.read()) n += b.length;
          yield* out.write(`got ${n}`);
        },
      };
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
        await until(() => text(p).includes("preamble;"), 3000, "the first piece");
        p.send("data");
        await p.endedWithin(3000);
        return text(p);
      } finally {
        p.stop();
      }
    });
    expect(value).not.toContain("100 Continue");
    expect(value).toEndWith("9\r\npreamble;\r\n5\r\ngot 4\r\n0\r\n\r\n");
  });

  test("a read cancelled by the handler's own time limit leaves the body readable (also inside a chunk-size line)", async () => {
    const gaveUp = new Event();
    const handler: HttpHandler = function* (req) {
      const first = yield* moveOnAfter(30, () => req.read()); // nothing complete has come yet
      gaveUp.set();
      const pieces: string[] = [];
      for (let b = yield* req.read(); b !== null; b = yield* req.read()) pieces.push(decode(b));
      return `${first === undefined} ${pieces.join("")}`;
    };
    const { value, server } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r"); // half a size line
        await until(() => gaveUp.isSet, 3000, "the time limit");
        p.send("\nhello\r\n0\r\n\r\n");
        await p.endedWithin(3000);
        return text(p);
      } finally {
        p.stop();
      }
    });
    expect(value).toEndWith("true hello");
    expect(server.handlerErrors).toBe(0);
  });

  test("bodyTimeout counts the time spent waiting for the client, not the handler's time between reads", async () => {
    const handler: HttpHandler = function* (req) {
      let n = 0;
      for (let b = yield* req.read(); b !== null; b = yield* req.read()) {
        n += b.length;
        yield* sleep(150); // slow work per piece: 600 ms in all, well past bodyTimeout
      }
      return `read ${n}`;
    };
    const body = "3\r\nabc\r\n3\r\ndef\r\n3\r\nghi\r\n3\r\njkl\r\n0\r\n\r\n"; // all at once
    const { value } = await withServer(handler, (s) => raw(s.port, [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`]), { bodyTimeout: 200, headerTimeout: 80 }); // (a short headerTimeout makes the watchdog fine-grained)
    expect(value).toStartWith("HTTP/1.1 200 OK");
    expect(value).toEndWith("read 12");
  });

  test("a streamed response to a request whose body is unread when its head goes out says connection: close", async () => {
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { yield* out.write("streamed"); } };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n"]));
    expect(value.toLowerCase()).toContain("connection: close\r\n");
    expect(value).toEndWith("8\r\nstreamed\r\n0\r\n\r\n"); // and nothing after: the connection closed
  });

  test("a streamed body that reads the whole request body first keeps the connection", async () => {
    const handler: HttpHandler = function* (req) {
      return { body: function* (out: BodyWriter) { yield* out.write(`${(yield* req.body()).length}`); } };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"]));
    expect(value.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(value).toContain("1\r\n5\r\n0\r\n\r\n");
    expect(value).toEndWith("1\r\n2\r\n0\r\n\r\n");
  });

  test("server.requests counts a streamed response once its head is out, however it ends", async () => {
    const handler: HttpHandler = function* (req) {
      if (req.path === "/leave") {
        return { body: function* (out: BodyWriter) { for (let i = 0; i < 2000; i++) { yield* out.write("x".repeat(1000)); yield* sleep(1); } } };
      }
      return { body: function* (out: BodyWriter) { yield* out.write("a"); throw new Error("fails after its head"); } };
    };
    const { server } = await withServer(handler, async (s) => {
      await raw(s.port, ["GET /fail HTTP/1.1\r\nHost: x\r\n\r\n"]);
      const p = new Peer(s.port);
      p.send("GET /leave HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => p.received > 2000, 3000, "some of the body");
      p.stop();
      await Bun.sleep(50);
    });
    expect([server.requests, server.handlerErrors]).toEqual([2, 1]);
  });

  test("a HEAD from an HTTP/1.0 keep-alive client to a streaming handler keeps the connection", async () => {
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { yield* out.write("x"); } };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /x HTTP/1.0\r\n\r\n"]));
    const [first] = value.split("\r\n\r\n");
    expect(first!.toLowerCase()).toContain("connection: keep-alive");
    expect(value.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(value).toEndWith("\r\n\r\nx");
  });

  test("a body function that yields a chunk, or returns no generator, is a 500 whose error says what to write", async () => {
    const seen: string[] = [];
    const handler: HttpHandler = function* (req) {
      if (req.path === "/yields") return { body: function* () { yield "a" as never; } };
      return { body: ((_out: BodyWriter) => "abc") as never };
    };
    const { value } = await withServer(
      handler,
      async (s) => [await raw(s.port, ["GET /yields HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]), await raw(s.port, ["GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])],
      { onError: (e) => seen.push(String(e)) },
    );
    expect(value.map((v) => v.split("\r\n")[0])).toEqual(["HTTP/1.1 500 Internal Server Error", "HTTP/1.1 500 Internal Server Error"]);
    expect(seen[0]).toContain('yielded a chunk ("a"): send it with yield* out.write(chunk)');
    expect(seen[1]).toContain('returned "abc", not a generator');
  });

  test("a body function that is async is a 500 without running it; one returning a promise leaves no unhandled rejection (found by review)", async () => {
    let ran = 0;
    const seen: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const handler: HttpHandler = function* (req) {
        if (req.path === "/async") return { body: (async (_out: BodyWriter) => { ran++; throw new Error("the async body ran"); }) as never };
        return { body: ((_out: BodyWriter) => Promise.reject(new Error("returned, not thrown"))) as never };
      };
      const { value } = await withServer(
        handler,
        async (s) => [await raw(s.port, ["GET /async HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]), await raw(s.port, ["GET /promise HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])],
        { onError: (e) => seen.push(String(e)) },
      );
      await Bun.sleep(5); // an unhandled rejection is reported after a turn of the event loop
      expect(value.map((v) => v.split("\r\n")[0])).toEqual(["HTTP/1.1 500 Internal Server Error", "HTTP/1.1 500 Internal Server Error"]);
      expect(seen[0]).toContain("the response body a handler returned is an async function; write it as function* (out) { yield* out.write(...) }");
      expect(seen[1]).toContain("returned [object Promise], not a generator");
      expect([ran, unhandled]).toEqual([0, []]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("write(\"\") sends the head at once; the writer has no end() or settable counters", async () => {
    let shape = "";
    const next = new Event();
    const handler: HttpHandler = function* () {
      return {
        headers: { "content-type": "text/event-stream" },
        body: function* (out: BodyWriter) {
          shape = `${typeof (out as unknown as { end?: unknown }).end} ${Object.getOwnPropertyDescriptor(Object.getPrototypeOf(out), "written")?.set === undefined}`;
          yield* out.write("");
          yield* next.wait();
          yield* out.write("data: 1\n\n");
        },
      };
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await until(() => text(p).includes("\r\n\r\n"), 3000, "the head");
        const head = text(p);
        next.set();
        await p.endedWithin(3000);
        return { head, all: text(p) };
      } finally {
        p.stop();
      }
    });
    expect(value.head).toStartWith("HTTP/1.1 200 OK");
    expect(value.head).toEndWith("\r\n\r\n"); // the head alone
    expect(value.all).toEndWith("\r\n\r\n9\r\ndata: 1\n\n\r\n0\r\n\r\n");
    expect(shape).toBe("undefined true");
  });

  test("a client gone mid-stream, and a function that swallows the write's error and ends short: no handler error", async () => {
    let swallowed: unknown;
    const handler: HttpHandler = function* () {
      return {
        headers: { "content-length": "10000000" },
        body: function* (out: BodyWriter) {
          try {
            for (let i = 0; i < 1000; i++) {
              yield* out.write("y".repeat(1000));
              yield* sleep(2);
            }
          } catch (error) {
            swallowed = error; // and ends, short of its Content-Length
          }
        },
      };
    };
    const { server } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      p.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => p.received > 3000, 3000, "some of the body");
      p.stop();
      await until(() => swallowed !== undefined, 5000, "the write failing");
      await Bun.sleep(20);
    });
    expect(swallowed).toBeInstanceOf(NetError);
    expect(server.handlerErrors).toBe(0);
  });
});

describe("found by a second review of streamed bodies", () => {
  test("a body() cut short by the handler's own time limit goes on with body(), nothing lost; read() then is an error", async () => {
    const handler: HttpHandler = function* (req) {
      const first = yield* moveOnAfter(60, () => req.body());
      let mixed = "";
      try {
        yield* req.read();
      } catch (error) {
        mixed = String(error);
      }
      const again = decode(yield* req.body());
      return `${first === undefined} ${again} ${mixed.includes("is being read whole with body()")}`;
    };
    const { value } = await withServer(handler, async (s) => {
      const p = new Peer(s.port);
      try {
        p.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello");
        await Bun.sleep(200);
        p.send("world");
        await p.endedWithin(3000);
        return p.text();
      } finally {
        p.stop();
      }
    });
    expect(value).toEndWith("true helloworld true");
  });

  test("a first write cancelled at its yield: the response is cut off (reset), never sent without its head", async () => {
    const seen: string[] = [];
    const handler: HttpHandler = function* () {
      return {
        body: function* (out: BodyWriter) {
          const go = new Event();
          const child = yield* spawn(function* () {
            yield* go.wait();
            yield* out.write("from child ");
          });
          yield* sleep(5);
          go.set(); // the child now holds a delivered value: its cancel is raised at the write's yield
          try {
            yield* cancel(child);
          } catch {
            // not expected
          }
          try {
            yield* join(child);
          } catch {
            // cancelled
          }
          yield* out.write("main");
        },
      };
    };
    const { value } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]), { onError: (e) => seen.push(String(e)) });
    expect(value === "" || value.startsWith("HTTP/1.1 200 OK")).toBe(true); // never "4\r\nmain..." alone
    expect(value).not.toContain("0\r\n\r\n"); // not taken for a whole response
    expect(seen[0]).toContain("an earlier write failed or was cut short");
  });
});

describe("found by a new user's review of streamed bodies", () => {
  test("a write made without yield* is an error at the body's end, not a silent empty 200", async () => {
    const seen: string[] = [];
    const handler: HttpHandler = function* () {
      return {
        body: function* (out: BodyWriter) {
          out.write("lost"); // yield* forgotten
          yield* sleep(1);
        },
      };
    };
    const { value, server } = await withServer(handler, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]), { onError: (e) => seen.push(String(e)) });
    expect(value).toStartWith("HTTP/1.1 500 ");
    expect(seen[0]).toContain("made 1 write it never yielded: write yield* out.write(data)");
    expect(server.handlerErrors).toBe(1);
  });

  test("out.closing tells an endless stream the server is closing, so close() can finish", async () => {
    let ended = "";
    const handler: HttpHandler = function* () {
      return {
        headers: { "content-type": "text/event-stream" },
        body: function* (out: BodyWriter) {
          let n = 0;
          while (!out.closing) {
            yield* out.write(`data: ${n++}\n\n`);
            yield* sleep(5);
          }
          ended = `ended after ${n > 0 ? "some" : "no"} events`;
        },
      };
    };
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const p = new Peer(server.port);
      try {
        p.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        yield* wait(until(() => p.text().includes("data: 2"), 3000, "some events"));
        yield* server.close(); // returns once the stream has ended
        return { ended, connections: server.connections };
      } finally {
        p.stop();
      }
    });
    expect(result).toEqual({ ended: "ended after some events", connections: 0 });
  });

  test("a handler returning a client's StreamedResponse or a web Response gets an error naming it", async () => {
    const seen: string[] = [];
    const handler: HttpHandler = function* (req) {
      if (req.path === "/web") return new Response("x") as never;
      if (req.path === "/plain") return "plain";
      return (yield* requestStream(`http://127.0.0.1:${req.headers["x-port"]}/plain`, {}, function* (res) { return res; })) as never;
    };
    const { value } = await withServer(
      handler,
      async (s) => [
        await raw(s.port, [`GET /web HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]),
        await raw(s.port, [`GET /proxy HTTP/1.1\r\nHost: x\r\nX-Port: ${s.port}\r\nConnection: close\r\n\r\n`]),
      ],
      { onError: (e) => seen.push(String(e)) },
    );
    expect(value.map((v) => v.split("\r\n")[0])).toEqual(["HTTP/1.1 500 Internal Server Error", "HTTP/1.1 500 Internal Server Error"]);
    expect(seen[0]).toContain("a handler returned a web Response");
    expect(seen[1]).toContain("a handler returned a client's StreamedResponse");
  });
});

describe("a slow reader of a chunked body holds the buffer near the high-water mark (it grew without bound; found by review)", () => {
  test("requestStream reading a fast chunked response", async () => {
    const buffered = await run(function* () {
      const server = yield* serve({ handler: function* () {
        return { body: function* (out: BodyWriter) { for (;;) yield* out.write(new Uint8Array(64 * 1024)); } };
      } });
      let most = 0;
      yield* requestStream(server.url, { timeout: 0 }, function* (res) {
        for (let i = 0; i < 60; i++) {
          yield* res.read();
          most = Math.max(most, (yield* netStats()).buffered);
          yield* sleep(10);
        }
      });
      yield* server.abort();
      return most;
    });
    expect(buffered).toBeLessThan(4 << 20); // 27 MB before
  }, 20_000);

  test("req.read() of a fast chunked upload", async () => {
    const buffered = await run(function* () {
      let most = 0;
      const server = yield* serve({ maxBodyBytes: 1 << 30, handler: function* (req) {
        for (let i = 0; i < 60; i++) {
          if ((yield* req.read()) === null) break;
          most = Math.max(most, (yield* netStats()).buffered);
          yield* sleep(10);
        }
        return "enough";
      } });
      try {
        yield* request(server.url, { method: "PUT", timeout: 10_000, body: function* (w: BodyWriter) { for (;;) yield* w.write(new Uint8Array(64 * 1024)); } });
      } catch {
        // the server answered before the endless upload ended: the client's error here
      }
      yield* server.abort();
      return most;
    });
    expect(buffered).toBeLessThan(4 << 20); // 27 MB before
  }, 20_000);
});

test("a proxy that forwards the request body through request()'s body function: the body's own failure keeps its status (413) and reaches it unchanged (found by review: re-made with the upstream's URL, it was a 500)", async () => {
  const seen: { read?: unknown; request?: unknown; errors: number } = { errors: 0 };
  const status = await run(function* () {
    const upstream = yield* serve({ handler: function* (req) { return `${(yield* req.body()).length}`; } });
    const proxy = yield* serve({
      maxBodyBytes: 1000,
      onError: () => void seen.errors++,
      handler: function* (req) {
        try {
          yield* request(`${upstream.url}/sink`, {
            method: "POST",
            body: function* (o) {
              try {
                for (let b = yield* req.read(); b !== null; b = yield* req.read()) yield* o.write(b);
              } catch (e) {
                seen.read = e;
                throw e;
              }
            },
          });
        } catch (e) {
          seen.request = e;
          throw e;
        }
        return "forwarded";
      },
    });
    // A chunked upload (a body function) past the proxy's 1000 bytes.
    const res = yield* request(`${proxy.url}/`, { method: "POST", body: function* (o) { for (let i = 0; i < 4; i++) yield* o.write("x".repeat(1000)); } });
    yield* proxy.close();
    yield* upstream.close();
    return res.status;
  });
  expect(status).toBe(413);
  expect(seen.read).toBeInstanceOf(HttpError);
  expect((seen.read as HttpError).code).toBe("BODY_TOO_LARGE");
  expect(seen.request).toBe(seen.read);
  expect(seen.errors).toBe(0); // not a handler error
});
