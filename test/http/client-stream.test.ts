/**
 * The client's streamed responses (`requestStream`): the body read piece by piece as it
 * arrives, the connection pooled only when it was read to its end, errors and timeouts, and
 * no retry once the response is handed over. Real sockets on 127.0.0.1.
 */
import { test, expect, describe } from "bun:test";
import { run, serve, sleep, request, requestStream, Event, HttpClient, HttpError, type BodyWriter, type HttpHandler, type StreamedResponse, type Co } from "../../src/index.ts";
import { scripted } from "./helpers.ts";

/** Read a streamed response's body to its end; its pieces as text. */
function* pieces(res: StreamedResponse): Co<string[]> {
  const out: string[] = [];
  for (let b = yield* res.read(); b !== null; b = yield* res.read()) out.push(new TextDecoder().decode(b));
  return out;
}

describe("requestStream", () => {
  test("hands over the response at its head; each piece is read as the server writes it", async () => {
    const next = new Event();
    const handler: HttpHandler = function* () {
      return {
        headers: { "x-kind": "ticks" },
        body: function* (out: BodyWriter) {
          yield* out.write("first");
          yield* next.wait(); // the client sets it after reading the first piece
          yield* out.write("second");
        },
      };
    };
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const got = yield* requestStream(server.url, {}, function* (res) {
        const first = yield* res.read();
        next.set();
        const rest = yield* pieces(res);
        return { status: res.status, kind: res.headers["x-kind"], first: new TextDecoder().decode(first!), rest, read: res.bodyRead, received: res.received };
      });
      yield* server.close();
      return got;
    });
    expect(result).toEqual({ status: 200, kind: "ticks", first: "first", rest: ["second"], read: true, received: 11 });
  });

  test("pools the connection when the body was read to its end, not when it was left part read", async () => {
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { for (let i = 0; i < 20; i++) yield* out.write("x".repeat(1000)); } };
    };
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient();
      const whole = yield* client.requestStream(server.url, {}, function* (res) { return (yield* pieces(res)).join("").length; });
      const part = yield* client.requestStream(server.url, {}, function* (res) { return (yield* res.read())!.length > 0; });
      const after = (yield* client.request(server.url)).text().length;
      const stats = client.stats();
      yield* client.close();
      yield* server.close();
      return { whole, part, after, accepted: server.accepted, reused: stats.reused };
    });
    // The first connection served the first two requests; left part read, it was closed, so the third opened another.
    expect(result).toEqual({ whole: 20_000, part: true, after: 20_000, accepted: 2, reused: 1 });
  });

  test("is not held to maxBodyBytes (nothing is kept); request() still is", async () => {
    const handler: HttpHandler = function* () { return "y".repeat(50_000); };
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient({ maxBodyBytes: 1000 });
      const n = yield* client.requestStream(server.url, {}, function* (res) { return (yield* pieces(res)).join("").length; });
      let whole: unknown;
      try {
        yield* client.request(server.url);
      } catch (error) {
        whole = (error as HttpError).code;
      }
      yield* client.close();
      yield* server.close();
      return { n, whole };
    });
    expect(result).toEqual({ n: 50_000, whole: "BODY_TOO_LARGE" });
  });

  test("an error thrown by the function comes out as it is; the pool slot is free again", async () => {
    const handler: HttpHandler = function* () { return "some body"; };
    const result = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 2000 });
      const mine = new Error("mine");
      let caught: unknown;
      try {
        yield* client.requestStream(server.url, {}, function* () { throw mine; });
      } catch (error) {
        caught = error;
      }
      const next = (yield* client.request(server.url)).text();
      const open = client.stats().open;
      yield* client.close();
      yield* server.close();
      return { same: caught === mine, next, open };
    });
    expect(result).toEqual({ same: true, next: "some body", open: 1 });
  });

  test("read() after the function returned is an error naming the URL", async () => {
    const handler: HttpHandler = function* () { return "data"; };
    const message = await run(function* () {
      const server = yield* serve({ handler });
      const kept = yield* requestStream(server.url, {}, function* (res) { return res; });
      let m = "";
      try {
        yield* kept.read();
      } catch (error) {
        m = String(error);
      }
      yield* server.close();
      return m;
    });
    expect(message).toMatch(/^UsageError: StreamedResponse.read in task "[^"]+" \(#\d+\): the response from http:\/\/127.0.0.1:/);
    expect(message).toContain("is over");
  });

  test("the timeout covers the function too: TIMEOUT", async () => {
    const handler: HttpHandler = function* () {
      return { body: function* (out: BodyWriter) { yield* out.write("a"); yield* sleep(2000); yield* out.write("b"); } };
    };
    const code = await run(function* () {
      const server = yield* serve({ handler });
      let c = "";
      try {
        yield* requestStream(server.url, { timeout: 150 }, function* (res) { return yield* pieces(res); });
      } catch (error) {
        c = (error as HttpError).code;
      }
      yield* server.abort();
      return c;
    });
    expect(code).toBe("TIMEOUT");
  });

  test("a reused connection that breaks once the response was handed over is not retried", async () => {
    // On one connection: answers the first request whole (kept alive), the second with a head
    // and part of its body, then resets.
    let requests = 0;
    const backend = await scripted((sock, _head, _conn, n) => {
      requests++;
      if (n === 0) sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else {
        sock.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        setTimeout(() => sock.resetAndDestroy(), 20);
      }
    });
    try {
      const result = await run(function* () {
        const client = new HttpClient({ timeout: 2000 });
        const url = `http://127.0.0.1:${backend.port}/`;
        yield* client.request(url);
        let calls = 0;
        let err: unknown;
        try {
          yield* client.requestStream(url, {}, function* (res) {
            calls++;
            return yield* pieces(res);
          });
        } catch (error) {
          err = error;
        }
        const retries = client.stats().retries;
        yield* client.close();
        return { calls, retries, err: err instanceof Error ? err.constructor.name : String(err) };
      });
      expect(result).toEqual({ calls: 1, retries: 0, err: "NetError" });
      expect(requests).toBe(2);
    } finally {
      backend.stop();
    }
  });

  test("a use that is not a function is a TypeError", async () => {
    const message = await run(function* () {
      try {
        yield* requestStream("http://127.0.0.1:1/", {}, 42 as never);
        return "no error";
      } catch (error) {
        return String(error);
      }
    });
    expect(message).toContain("use must be a function* (res) {...}, got 42");
  });
});

describe("found by review of requestStream and retries", () => {
  test("the timeout covers use even when it is not reading (it is interrupted where it waits)", async () => {
    const handler: HttpHandler = function* () { return "whole body"; };
    const out = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient();
      let r: unknown;
      try {
        r = yield* client.requestStream(server.url, { timeout: 100 }, function* () {
          yield* sleep(5000);
          return "returned";
        });
      } catch (error) {
        r = (error as HttpError).code;
      }
      const open = client.stats().open;
      yield* client.close();
      yield* server.close();
      return { r, open };
    });
    expect(out).toEqual({ r: "TIMEOUT", open: 0 });
  });

  test("a response cut off inside its head on a reused connection is not sent again", async () => {
    let requests = 0;
    const backend = await scripted((sock, _head, conn, n) => {
      requests++;
      if (n === 0) sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else if (conn === 0) {
        sock.write("HTTP/1.1 200 OK\r\nContent-Le");
        setTimeout(() => sock.resetAndDestroy(), 30);
      } else sock.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry");
    });
    try {
      const r = await run(function* () {
        const client = new HttpClient({ timeout: 2000 });
        const url = `http://127.0.0.1:${backend.port}/`;
        yield* client.request(url);
        let out: unknown;
        try {
          out = (yield* client.request(url, { method: "DELETE" })).text();
        } catch (e) {
          out = (e as Error).constructor.name;
        }
        const retries = client.stats().retries;
        yield* client.close();
        return { out, retries };
      });
      expect({ ...r, requests }).toEqual({ out: "NetError", retries: 0, requests: 2 });
    } finally {
      backend.stop();
    }
  });
});

test("a use waiting in res.read() at the deadline gets the TIMEOUT itself, not the connection's reset (found by a final review)", async () => {
  const seen = await run(function* () {
    const server = yield* serve({
      handler: function* () {
        return { body: function* (out: BodyWriter) { yield* out.write("a"); yield* sleep(2000); yield* out.write("b"); } };
      },
    });
    let inside = "";
    let outside = "";
    try {
      yield* requestStream(server.url, { timeout: 150 }, function* (res) {
        try {
          yield* pieces(res);
        } catch (e) {
          inside = e instanceof HttpError ? `HttpError ${e.code}` : `${(e as Error).constructor.name}`;
          throw e;
        }
      });
    } catch (e) {
      outside = e instanceof HttpError ? `HttpError ${e.code}` : String(e);
    }
    yield* server.abort();
    return { inside, outside };
  });
  expect(seen).toEqual({ inside: "HttpError TIMEOUT", outside: "HttpError TIMEOUT" });
});

test("a use that is an async function is refused before anything is sent; one returning no generator gets an error saying so (found by review)", async () => {
  let requests = 0;
  const handler: HttpHandler = function* () {
    requests++;
    return "x";
  };
  const out = await run(function* () {
    const server = yield* serve({ handler });
    const errors: string[] = [];
    for (const use of [async () => 1, (res: StreamedResponse) => res.status]) {
      try {
        yield* requestStream(server.url, {}, use as never);
      } catch (error) {
        errors.push(String(error));
      }
    }
    yield* server.close();
    return errors;
  });
  expect(out[0]).toContain("use is an async function; write it as function* (res) {...}");
  expect(out[1]).toContain("use returned 200, not a generator; write it as function* (res) {...}");
  expect(requests).toBe(1); // the async one was refused before it was sent
});

describe("a request body written by a function (streamed upload)", () => {
  test("goes out chunked, each piece as it is written; the server reads it as it arrives", async () => {
    const got = new Event();
    const serverPieces: string[] = [];
    const handler: HttpHandler = function* (req) {
      for (let b = yield* req.read(); b !== null; b = yield* req.read()) {
        serverPieces.push(new TextDecoder().decode(b));
        got.set();
      }
      return `${req.headers["transfer-encoding"]} ${serverPieces.join("")}`;
    };
    const out = await run(function* () {
      const server = yield* serve({ handler });
      const res = yield* request(server.url, {
        method: "PUT",
        body: function* (w: BodyWriter) {
          yield* w.write("first,");
          yield* got.wait(); // the server has the first piece before the second is written
          yield* w.write("second");
        },
      });
      yield* server.close();
      return res.text();
    });
    expect(out).toBe("chunked first,second");
    expect(serverPieces[0]).toBe("first,");
  });

  test("with a content-length header it is sent as exactly that many bytes; writing more fails the request", async () => {
    const handler: HttpHandler = function* (req) {
      return `${req.headers["content-length"]} ${req.headers["transfer-encoding"] ?? "-"} ${(yield* req.text())}`;
    };
    const out = await run(function* () {
      const server = yield* serve({ handler });
      const ok = (yield* request(server.url, { method: "POST", headers: { "content-length": "6" }, body: function* (w: BodyWriter) { yield* w.write("abc"); yield* w.write("def"); } })).text();
      let over = "";
      try {
        yield* request(server.url, { method: "POST", headers: { "content-length": "2" }, body: function* (w: BodyWriter) { yield* w.write("abc"); } });
      } catch (error) {
        over = `${(error as HttpError).code}: ${(error as HttpError).detail}`;
      }
      yield* server.close();
      return { ok, over };
    });
    expect(out.ok).toBe("6 - abcdef");
    expect(out.over).toBe("BAD_ARGUMENT: a streamed body wrote 3 bytes, more than its Content-Length of 2");
  });

  test("under http10 it needs a content-length: refused before anything is sent", async () => {
    let requests = 0;
    const handler: HttpHandler = function* () {
      requests++;
      return "x";
    };
    const code = await run(function* () {
      const server = yield* serve({ handler });
      let c = "";
      try {
        yield* request(server.url, { method: "POST", http10: true, body: function* (w: BodyWriter) { yield* w.write("x"); } });
      } catch (error) {
        c = (error as HttpError).code;
      }
      yield* server.close();
      return c;
    });
    expect([code, requests]).toEqual(["BAD_ARGUMENT", 0]);
  });

  test("a body function that fails fails the request with its error, cuts the upload off, and frees the pool slot", async () => {
    const seen: string[] = [];
    const handler: HttpHandler = function* (req) {
      try {
        yield* req.body();
      } catch (error) {
        seen.push((error as Error).constructor.name);
        throw error;
      }
      return "whole";
    };
    const out = await run(function* () {
      const server = yield* serve({ handler });
      const client = new HttpClient({ maxConnectionsPerHost: 1, timeout: 3000 });
      const mine = new Error("the file vanished");
      let caught: unknown;
      try {
        yield* client.request(server.url, { method: "PUT", body: function* (w: BodyWriter) { yield* w.write("part"); yield* sleep(5); throw mine; } });
      } catch (error) {
        caught = error;
      }
      const next = (yield* client.request(server.url)).text(); // the slot is free
      yield* client.close();
      yield* server.close();
      return { same: caught === mine, next };
    });
    expect(out).toEqual({ same: true, next: "whole" });
  });

  test("is never sent twice: a reused connection the server closed just then fails the request (the function ran once)", async () => {
    const backend = await scripted((sock, _head, _conn, n) => {
      if (n === 0) {
        sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        setTimeout(() => sock.end(), 20); // closes the kept connection while it is idle
      }
    });
    try {
      const out = await run(function* () {
        const client = new HttpClient({ timeout: 2000 });
        const url = `http://127.0.0.1:${backend.port}/`;
        yield* client.request(url);
        yield* sleep(5); // the pool still holds the connection the server is about to close
        let calls = 0;
        let err = "";
        try {
          yield* client.request(url, {
            method: "PUT",
            body: function* (w: BodyWriter) {
              calls++;
              yield* sleep(40); // the server's close arrives meanwhile
              yield* w.write("data");
            },
          });
        } catch (error) {
          err = (error as Error).constructor.name;
        }
        const retries = client.stats().retries;
        yield* client.close();
        return { calls, retries, failed: err !== "" };
      });
      expect(out).toEqual({ calls: 1, retries: 0, failed: true });
    } finally {
      backend.stop();
    }
  });
});

describe("streamed uploads, found by review", () => {
  test("a body function failing after the server answered at once still fails the request (its error was dropped)", async () => {
    const backend = await scripted((sock) => {
      sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"); // answers as the head arrives
    });
    try {
      const out = await run(function* () {
        const client = new HttpClient({ timeout: 2000 });
        let result: string;
        try {
          result = yield* client.requestStream(
            `http://127.0.0.1:${backend.port}/`,
            { method: "PUT", body: function* (w: BodyWriter) { yield* w.write("part"); yield* sleep(20); throw new Error("the source failed"); } },
            function* (res) {
              const text = (yield* pieces(res)).join("");
              yield* sleep(60); // still using the response when the function fails
              return text;
            },
          );
        } catch (e) {
          result = `error: ${(e as Error).message}`;
        }
        yield* client.close();
        return result;
      });
      expect(out).toBe("error: the source failed");
    } finally {
      backend.stop();
    }
  });

  test("a content-length that is no byte count is a BAD_ARGUMENT naming it (it was dropped, and the body sent chunked); surrounding spaces are allowed", async () => {
    const handler: HttpHandler = function* (req) {
      return `${req.headers["content-length"] ?? "-"} ${req.headers["transfer-encoding"] ?? "-"} ${yield* req.text()}`;
    };
    const out = await run(function* () {
      const server = yield* serve({ handler });
      const r: string[] = [];
      for (const cl of ["3 ", "abc", "-1"]) {
        try {
          r.push((yield* request(server.url, { method: "PUT", headers: { "content-length": cl }, body: function* (w: BodyWriter) { yield* w.write("abc"); } })).text());
        } catch (e) {
          r.push(`${(e as HttpError).code}: ${(e as HttpError).detail}`);
        }
      }
      let asyncBody = "";
      try {
        yield* request(server.url, { method: "PUT", body: (async () => {}) as never });
      } catch (e) {
        asyncBody = (e as HttpError).code;
      }
      yield* server.close();
      return { r, asyncBody, requests: server.requests };
    });
    expect(out.r).toEqual(["3 - abc", 'BAD_ARGUMENT: a streamed request body\'s content-length "abc" is not a byte count', 'BAD_ARGUMENT: a streamed request body\'s content-length "-1" is not a byte count']);
    expect(out.asyncBody).toBe("BAD_ARGUMENT");
    expect(out.requests).toBe(1); // the refused ones were not sent
  });
});

test("a use that stops reading an endless body resets the connection: the server's next writes fail at once, it does not stream on (found by review)", async () => {
  const r = await run(function* () {
    let abandonedAt = 0;
    let writerEndedAt = 0;
    const server = yield* serve({
      port: 0,
      handler: function* () {
        return {
          body: function* (out) {
            const chunk = new Uint8Array(16 << 10);
            try {
              for (let i = 0; i < 100_000; i++) {
                yield* out.write(chunk);
                yield* sleep(1);
              }
            } finally {
              writerEndedAt = performance.now();
            }
          },
        };
      },
    });
    yield* requestStream(server.url, {}, function* (res) {
      return yield* res.read(); // only the first piece is wanted
    });
    abandonedAt = performance.now();
    for (let i = 0; i < 400 && writerEndedAt === 0; i++) yield* sleep(10);
    yield* server.close();
    return writerEndedAt - abandonedAt;
  });
  expect(r).toBeGreaterThan(0);
  expect(r).toBeLessThan(500); // it went on for 2 s (a graceful close waits for a FIN the server never sends)
}, 15_000);

test("an error from res.read() inside use names the URL and the task, as one leaving requestStream does (found by review)", async () => {
  const backend = await scripted((sock) => {
    sock.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    setTimeout(() => sock.destroy(), 20);
  });
  try {
    const url = `http://127.0.0.1:${backend.port}/file`;
    const inside = await run(function* () {
      let m = "";
      yield* requestStream(url, { timeout: 2000 }, function* (res) {
        try { while ((yield* res.read()) !== null); } catch (e) { m = (e as Error).message; }
      });
      return m;
    });
    expect(inside).toStartWith(`HTTP ${url} in task "main": INCOMPLETE_BODY`);
  } finally {
    backend.stop();
  }
});
