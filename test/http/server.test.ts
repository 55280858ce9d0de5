import { test, expect, describe } from "bun:test";
import { run, wait, sleep, serve, spawn, join, request, timeout, current, type HttpServer, type HttpHandler, type ServeOptions } from "../../src/index.ts";
import { curl, raw } from "./helpers.ts";
import net from "node:net";

/** Run a corun server with `handler` while `client(server)` (a promise-returning function) runs. */
function withServer<T>(handler: HttpHandler, client: (s: HttpServer) => Promise<T>, options: Omit<ServeOptions, "handler"> = {}): Promise<{ value: T; server: HttpServer }> {
  return run(function* () {
    const server = yield* serve({ ...options, handler });
    const value = yield* wait(client(server));
    yield* server.close();
    return { value, server };
  });
}

const hello: HttpHandler = function* (req) {
  return { headers: { "x-path": req.path }, body: `hello ${req.method} ${req.url}\n` };
};

describe("curl against the corun server", () => {
  test("GET, and two URLs in one curl share one keep-alive connection", async () => {
    const { value, server } = await withServer(hello, (s) => curl([`${s.url}/a?x=1`, `${s.url}/b`]));
    expect(value.code).toBe(0);
    expect(value.out).toBe("hello GET /a?x=1\nhello GET /b\n");
    expect(server.accepted).toBe(1);
    expect(server.requests).toBe(2);
  });

  test("HTTP/1.0: one connection per request", async () => {
    const { value, server } = await withServer(hello, (s) => curl(["--http1.0", "-i", `${s.url}/x`, `${s.url}/y`]));
    expect(value.code).toBe(0);
    expect(value.out).toContain("connection: close");
    expect(value.out).toContain("hello GET /y");
    expect(server.accepted).toBe(2);
  });

  test("chunked request body from curl; chunked response to curl", async () => {
    const echo: HttpHandler = function* (req) {
      const text = yield* req.text();
      return { body: [`got ${text.length}:`, text, "!"] };
    };
    const { value } = await withServer(echo, (s) =>
      curl(["-i", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", `${s.url}/up`], "x".repeat(5000)),
    );
    expect(value.code).toBe(0);
    expect(value.out.toLowerCase()).toContain("transfer-encoding: chunked");
    expect(value.out.endsWith(`got 5000:${"x".repeat(5000)}!`)).toBe(true);
  });

  test("Expect: 100-continue is answered", async () => {
    const echo: HttpHandler = function* (req) {
      return `${(yield* req.body()).length}`;
    };
    const { value } = await withServer(echo, (s) => curl(["-H", "Expect: 100-continue", "--data-binary", "@-", s.url], "y".repeat(3000)));
    expect(value.out).toBe("3000");
  });

  test("Expect: 100-continue sent twice (one field, joined) is answered too", async () => {
    const echo: HttpHandler = function* (req) {
      return `${(yield* req.body()).length}`;
    };
    const head = "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n";
    const { value } = await withServer(echo, (s) => raw(s.port, [head, "abc"], { gapMs: 100 }));
    expect(value.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")).toBe(true);
  });

  test("an absolute-form target: the handler gets its path, query and host (not the Host header's)", async () => {
    const seen: HttpHandler = function* (req) {
      return `${req.host} ${req.path} ${req.query} ${req.url}`;
    };
    const { value } = await withServer(seen, (s) => raw(s.port, ["GET http://example.com:8080/a/b?c=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n"]));
    expect(value.endsWith("\r\n\r\nexample.com:8080 /a/b c=1 http://example.com:8080/a/b?c=1")).toBe(true);
  });

  test("headerValues gives each line of a repeated field whole, in order (headers joins them)", async () => {
    const seen: HttpHandler = function* (req) {
      return JSON.stringify({ list: req.headerValues("FORWARDED"), joined: req.headers.forwarded, none: req.headerValues("x-absent"), kelvin: req.headerValues("\u212Aey") });
    };
    const head = "GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=a, by=b\r\nKey: 1\r\nforwarded:  for=c \r\nConnection: close\r\n\r\n";
    const { value } = await withServer(seen, (s) => raw(s.port, [head]));
    const body = JSON.parse(value.slice(value.indexOf("\r\n\r\n") + 4)) as unknown;
    expect(body).toEqual({ list: ["for=a, by=b", "for=c"], joined: "for=a, by=b, for=c", none: [], kelvin: [] });
  });

  test("headerValues with a name that is no string is a TypeError naming it (the handler's 500)", async () => {
    const errors: unknown[] = [];
    const bad: HttpHandler = function* (req) {
      return req.headerValues(7 as unknown as string).join();
    };
    const { value } = await withServer(bad, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]), { onError: (e) => errors.push(e) });
    expect(value).toStartWith("HTTP/1.1 500 ");
    expect(String(errors[0])).toBe("TypeError: headerValues(name): name must be a string, got 7");
  });

  test("a handler that throws gets a 500; the server goes on", async () => {
    let n = 0;
    const flaky: HttpHandler = function* () {
      if (n++ === 0) throw new Error("boom");
      return "fine";
    };
    const seen: unknown[] = [];
    const { value, server } = await withServer(flaky, async (s) => [await curl(["-i", s.url]), await curl([s.url])], { onError: (e) => seen.push(e) });
    expect(value[0]!.out).toStartWith("HTTP/1.1 500");
    expect(value[1]!.out).toBe("fine");
    expect(server.handlerErrors).toBe(1);
    expect((seen[0] as Error).message).toBe("boom");
  });

  test("a handler returning a bad response gets a 500 too", async () => {
    const bad: HttpHandler = function* () {
      return { status: 42 };
    };
    const { value } = await withServer(bad, (s) => curl(["-i", s.url]));
    expect(value.out).toStartWith("HTTP/1.1 500");
  });
});

test("a header a handler gives that is no text is its 500, naming it, not sent as \"undefined\" (undefined leaves the field out); a number or a boolean is sent as it prints (found by review)", async () => {
  const errors: string[] = [];
  const bad: HttpHandler = function* (req) {
    const headers = { "/a": { "x-a": undefined }, "/b": { "x-b": ["1", null] }, "/c": null, "/n": { "x-n": 42, "x-t": true } }[req.path];
    return { headers: headers as never, body: "x" };
  };
  const { value } = await withServer(bad, async (s) => Promise.all(["/a", "/b", "/c", "/n"].map((p) => raw(s.port, [`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]))), { onError: (e) => errors.push((e as Error).message) });
  expect(value.slice(0, 3).map((v) => v.slice(0, 12))).toEqual(["HTTP/1.1 200", "HTTP/1.1 500", "HTTP/1.1 500"]);
  expect(value[0]).not.toContain("x-a");
  expect(value[3]).toStartWith("HTTP/1.1 200 ");
  expect(value[3]).toContain("\r\nx-n: 42\r\nx-t: true\r\n");
  expect(errors.sort()).toEqual([
    expect.stringContaining('a handler gave header "x-b" the value null: expected a string (or a finite number)'),
    expect.stringContaining("a handler gave headers null: expected a plain object"),
  ].sort() as never);
});

describe("bad requests get an error status and a close, never a hang", () => {
  const cases: [string, string, string][] = [
    ["garbage", "hello there\r\n\r\n", "400"],
    ["a header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n", "400"],
    ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", "400"],
    ["two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"],
    ["a trailer line that is not a field", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\x01garbage no colon\r\n\r\n", "400"],
    ["Content-Length and Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400"],
    ["a bad chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "505"],
    ["a transfer coding that does not end in chunked (RFC 9112 §6.3)", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "400"],
    ["a coding besides chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501"],
    // Refused, not read as chunked: a proxy in front that reads it otherwise would frame the body differently (request smuggling).
    ["a Transfer-Encoding list with an empty element", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"],
    ["a Host with a space (RFC 9112 §3.2)", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400"],
    ["a Host with a path", "GET / HTTP/1.1\r\nHost: evil.com/x@good\r\n\r\n", "400"],
    ["a request target longer than the head may be (RFC 9112 §3)", `GET /${"a".repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`, "414"],
    ["a body over the limit (Content-Length)", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n", "413"],
    ["a body over the limit (chunked)", `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${"400\r\n" + "z".repeat(1024) + "\r\n"}${"400\r\n" + "z".repeat(1024) + "\r\n"}0\r\n\r\n`, "413"],
    ["headers over the limit", `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(3000)}\r\n\r\n`, "431"],
    ["a head that never ends, over the limit", `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(5000)}`, "431"],
    ["Content-Length with a trailing NBSP", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\xa0\r\n\r\nhello", "400"],
    ["Transfer-Encoding with a leading NBSP", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \xa0chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"],
    ["a chunk size with a leading NBSP", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\xa05\r\nhello\r\n0\r\n\r\n", "400"],
    ["a chunk size with a leading space", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", "400"],
    ["chunk extensions longer than a size line may be", `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;${"e".repeat(300)}\r\nz\r\n0\r\n\r\n`, "400"],
    ["a chunk size with leading whitespace before an extension", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n 5;a=b\r\nhello\r\n0\r\n\r\n", "400"],
    ["chunk extensions past their own budget", `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${`1;${"e".repeat(250)}\r\nz\r\n`.repeat(300)}0\r\n\r\n`, "400"],
  ];
  const reader: HttpHandler = function* (req) {
    return `read ${(yield* req.body()).length}`;
  };
  for (const [name, request, status] of cases) {
    test(name, async () => {
      const { value } = await withServer(reader, (s) => raw(s.port, [request]), { maxHeaderBytes: 2048, maxBodyBytes: 1500 });
      expect(value).toStartWith(`HTTP/1.1 ${status} `);
      expect(value).toContain("connection: close");
    });
  }

  test("a HEAD request whose head is refused gets its error status with no body (RFC 9110 §9.3.2; it got one; found by review)", async () => {
    const heads: [string, string][] = [
      ["HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "400"],
      ["\r\nHEAD / HTTP/1.1\r\n\r\n", "400"],
      ["HEAD / HTTP/2.0\r\n\r\n", "505"],
      ["HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501"],
    ];
    for (const [request, status] of heads) {
      const { value } = await withServer(reader, (s) => raw(s.port, [request]));
      expect(value).toStartWith(`HTTP/1.1 ${status} `);
      expect(value).toContain("connection: close");
      expect(value.slice(value.indexOf("\r\n\r\n") + 4)).toBe("");
    }
    // Too large a head (431), or start line (414), is refused before it is parsed: no body either.
    for (const [request, status] of [[`HEAD / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(3000)}\r\n\r\n`, "431"], [`HEAD /${"a".repeat(3000)} HTTP/1.1\r\n`, "414"]]) {
      const { value } = await withServer(reader, (s) => raw(s.port, [request!]), { maxHeaderBytes: 2048 });
      expect(value).toStartWith(`HTTP/1.1 ${status} `);
      expect(value.slice(value.indexOf("\r\n\r\n") + 4)).toBe("");
    }
    // A GET refused alike still says why in its body.
    const { value } = await withServer(reader, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"]));
    expect(value.slice(value.indexOf("\r\n\r\n") + 4)).toContain("Content-Length");
  });

  test("a HEAD request whose head stalls gets its 408 with no body, first on its connection or after another (found by review)", async () => {
    for (const chunks of [["HEAD / HTTP/1.1\r\nHo"], ["GET /k HTTP/1.1\r\nHost: x\r\n\r\nHEAD /k HTTP/1.1\r\nHo"]]) {
      const { value } = await withServer(hello, (s) => raw(s.port, chunks, { timeoutMs: 3000 }), { headerTimeout: 150 });
      const at = value.indexOf("HTTP/1.1 408 ");
      expect(at).toBeGreaterThanOrEqual(0);
      const reply = value.slice(at);
      expect(reply).toContain("connection: close");
      expect(reply.slice(reply.indexOf("\r\n\r\n") + 4)).toBe("");
    }
    // A GET's 408 still says why.
    const { value } = await withServer(hello, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHo"], { timeoutMs: 3000 }), { headerTimeout: 150 });
    expect(value.slice(value.indexOf("\r\n\r\n") + 4)).toContain("the request head took too long");
  });

  test("a client that stops mid-head gets 408 and a close after headerTimeout", async () => {
    const { value } = await withServer(hello, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHo"], { timeoutMs: 3000 }), { headerTimeout: 150 });
    expect(value).toStartWith("HTTP/1.1 408 ");
  });

  test("a slowloris dribbling bytes is cut off too", async () => {
    const dribble = Array.from({ length: 40 }, () => "X-A: b\r\n");
    const { value } = await withServer(hello, (s) => raw(s.port, ["GET / HTTP/1.1\r\n", ...dribble], { gapMs: 20, timeoutMs: 3000 }), { headerTimeout: 150 });
    expect(value).toStartWith("HTTP/1.1 408 ");
  });

  test("an idle keep-alive connection is closed after headerTimeout", async () => {
    const { value } = await withServer(hello, (s) => raw(s.port, ["GET /k HTTP/1.1\r\nHost: x\r\n\r\n"], { timeoutMs: 3000 }), { headerTimeout: 150 });
    expect(value).toStartWith("HTTP/1.1 200 ");
    expect(value).toEndWith("hello GET /k\n"); // no 408 after a served request
  });

  test("a keep-alive connection whose next head began and stalled gets a 408, pipelined or sent later (it was closed without one; found by review)", async () => {
    const partial = "GET /next HTTP/1.1\r\nHo";
    const pipelined = await withServer(hello, (s) => raw(s.port, [`GET /k HTTP/1.1\r\nHost: x\r\n\r\n${partial}`], { timeoutMs: 3000 }), { headerTimeout: 150 });
    const later = await withServer(hello, (s) => raw(s.port, ["GET /k HTTP/1.1\r\nHost: x\r\n\r\n", partial], { gapMs: 50, timeoutMs: 3000 }), { headerTimeout: 150 });
    for (const { value } of [pipelined, later]) {
      expect(value).toStartWith("HTTP/1.1 200 ");
      const second = value.slice(value.indexOf("hello GET /k\n") + "hello GET /k\n".length);
      expect(second).toStartWith("HTTP/1.1 408 ");
    }
  });

  test("blank lines after a request (a CRLF some clients send after a body) are no head begun: the idle connection closes without a 408 (found by review)", async () => {
    const echo: HttpHandler = function* (req) {
      return `got ${new TextDecoder().decode(yield* req.body())}\n`;
    };
    const sameWrite = await withServer(echo, (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\r\n"], { timeoutMs: 3000 }), { headerTimeout: 150 });
    const afterward = await withServer(echo, (s) => raw(s.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n\r\n"], { gapMs: 40, timeoutMs: 3000 }), { headerTimeout: 150 });
    for (const { value } of [sameWrite, afterward]) {
      expect(value).toStartWith("HTTP/1.1 200 ");
      expect(value).not.toContain("408");
    }
  });
});

describe("connections", () => {
  test("pipelined requests are answered in order; an unread body closes the connection", async () => {
    const two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const { value } = await withServer(hello, (s) => raw(s.port, [two]));
    expect(value.indexOf("hello GET /1")).toBeGreaterThan(0);
    expect(value.indexOf("hello GET /2")).toBeGreaterThan(value.indexOf("hello GET /1"));
    const post = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /after HTTP/1.1\r\nHost: x\r\n\r\n";
    const r = await withServer(hello, (s) => raw(s.port, [post]));
    expect(r.value).toContain("connection: close");
    expect(r.value).not.toContain("/after");
  });

  test("an HTTP/1.0 keep-alive request with a chunked body is answered, then its connection closed", async () => {
    const reader: HttpHandler = function* (req) { return `read ${(yield* req.body()).length}`; };
    const { value } = await withServer(reader, (s) => raw(s.port, ["POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"]));
    expect(value).toContain("connection: close");
    expect(value).toEndWith("read 2");
  });

  test("HTTP/1.0 with keep-alive is kept alive", async () => {
    const two = "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n";
    const { value } = await withServer(hello, (s) => raw(s.port, [two]));
    expect(value).toContain("connection: keep-alive");
    expect(value).toContain("hello GET /2");
  });

  test("a connection's task, its errors and req.remoteAddress name the client, even once it has reset the connection (found by review)", async () => {
    // The client sends part of a body, then resets; the handler looks only afterwards.
    let clientPort = 0;
    const seen = await run(function* () {
      let got: { name: string; error: string; address: string } | undefined;
      const server = yield* serve({
        port: 0,
        handler: function* (req) {
          yield* sleep(200);
          const name = (yield* current()).name;
          let error = "";
          try {
            yield* req.text();
          } catch (e) {
            error = e instanceof Error ? e.message : String(e);
          }
          got = { name, error, address: req.remoteAddress };
          return "x";
        },
      });
      yield* wait(
        new Promise<void>((resolve) => {
          const c = net.connect(server.port, "127.0.0.1", () => {
            clientPort = c.localPort ?? 0;
            c.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
            setTimeout(() => {
              c.resetAndDestroy();
              resolve();
            }, 50);
          });
          c.on("error", () => {});
        }),
      );
      for (let i = 0; i < 100 && got === undefined; i++) yield* sleep(10);
      yield* server.close();
      return got;
    });
    expect(clientPort).toBeGreaterThan(0);
    expect(seen?.name).toBe(`http-conn 127.0.0.1:${clientPort}`);
    expect(seen?.error).toContain(`127.0.0.1:${clientPort}`);
    expect(seen?.address).toBe("127.0.0.1");
  });

  test("two tasks closing the server at once both return", async () => {
    const result = await run(function* () {
      const server = yield* serve({ handler: function* () { yield* sleep(50); return "done"; } });
      const busy = raw(server.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
      yield* sleep(20);
      const a = yield* spawn(() => server.close());
      const b = yield* spawn(() => server.close());
      yield* a;
      yield* b;
      return { busy: yield* wait(busy), open: server.connections };
    });
    expect(result.busy).toEndWith("done");
    expect(result.open).toBe(0);
  });

  test("close() closes idle connections and waits for busy ones", async () => {
    const result = await run(function* () {
      const server = yield* serve({
        handler: function* (req) {
          if (req.path === "/slow") yield* sleep(100);
          return "done";
        },
      });
      const idle = raw(server.port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
      const busy = raw(server.port, ["GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"]);
      yield* sleep(50);
      yield* server.close();
      return { idle: yield* wait(idle), busy: yield* wait(busy), open: server.connections };
    });
    expect(result.idle).toEndWith("done");
    expect(result.busy).toContain("connection: close");
    expect(result.busy).toEndWith("done");
    expect(result.open).toBe(0);
  });
});

test("a body that trickles in past bodyTimeout is cut off", async () => {
  let bodyError: unknown;
  const reader: HttpHandler = function* (req) {
    try {
      return `read ${(yield* req.body()).length}`;
    } catch (e) {
      bodyError = e;
      throw e;
    }
  };
  const head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
  const { value } = await withServer(reader, (s) => raw(s.port, [head, ...Array.from({ length: 30 }, () => "z")], { gapMs: 20, timeoutMs: 3000 }), { bodyTimeout: 150 });
  // Closed under the waiting read (no response), or a 408 if the time ran out between two reads.
  expect(value === "" || value.startsWith("HTTP/1.1 408 ")).toBe(true);
  expect((bodyError as Error).message).toContain("TIMEOUT");
});

describe("chunked uploads within the limit", () => {
  test("many small chunks (with an extension each) under maxBodyBytes are accepted", async () => {
    const reader: HttpHandler = function* (req) { return `read ${(yield* req.body()).length}`; };
    const body = `${"a;x=1 \t\r\n0123456789\r\n".repeat(70)}0\r\n\r\n`; // 700 data bytes in 70 chunks
    const { value } = await withServer(reader, (s) => raw(s.port, [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`]), { maxBodyBytes: 1000 });
    expect(value).toStartWith("HTTP/1.1 200 ");
    expect(value).toEndWith("read 700");
  });
});

describe("clients that send too much or read too little", () => {
  test("a POST far over maxBodyBytes gets its 413, not a reset", async () => {
    const status = await run(function* () {
      const server = yield* serve({ maxBodyBytes: 1 << 20, handler: function* (req) { return `read ${(yield* req.body()).length}`; } });
      try {
        const res = yield* request(`${server.url}/up`, { method: "POST", body: new Uint8Array(8 << 20) });
        return res.status;
      } finally {
        yield* server.close();
      }
    });
    expect(status).toBe(413);
  });

  test("a handler that ignores a large body still gets its response to the client", async () => {
    const text = await run(function* () {
      const server = yield* serve({ maxBodyBytes: 16 << 20, handler: function* () { return "ignored it"; } });
      try {
        return (yield* request(`${server.url}/up`, { method: "PUT", body: new Uint8Array(4 << 20) })).text();
      } finally {
        yield* server.close();
      }
    });
    expect(text).toBe("ignored it");
  });

  test("a run that ends while a response waits on a client that does not read still ends", async () => {
    const big = new Uint8Array(32 << 20);
    const started = performance.now();
    await run(function* () {
      // The handler leaves the upload unread (the connection would linger) and answers with more
      // than the socket takes; main returns without closing the server.
      const server = yield* serve({ handler: function* () { return { body: big }; } });
      const { createConnection } = yield* wait(import("node:net"));
      const sock = createConnection({ host: "127.0.0.1", port: server.port }, () => {
        sock.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
        sock.pause();
      });
      sock.on("error", () => {});
      yield* sleep(200);
      setTimeout(() => sock.destroy(), 3000);
    });
    expect(performance.now() - started).toBeLessThan(2500);
  });

  test("a client that stops reading while the server sends 100 Continue is cut off too (that write had no deadline)", async () => {
    // Two clients pipeline 150,000 small POSTs with Expect: 100-continue each and never read:
    // the server's writes stall once the socket buffers are full, on a response or on a 100.
    const out = await run(function* () {
      const server = yield* serve({ bodyTimeout: 300, headerTimeout: 300, handler: function* (req) { yield* req.body(); return { status: 204 }; } });
      const blob = new TextEncoder().encode("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx".repeat(150_000));
      const socks: { end(): void }[] = [];
      for (let i = 0; i < 2; i++) {
        let sent = 0;
        socks.push(
          yield* wait(
            Bun.connect({
              hostname: "127.0.0.1",
              port: server.port,
              socket: {
                open(s) { s.pause(); sent += s.write(blob); }, // never reads
                drain(s) { if (sent < blob.length) sent += s.write(blob.subarray(sent)); },
                data() {},
                error() {},
              },
            }),
          ),
        );
      }
      // Each stalled connection is cut bodyTimeout after its stall (whenever the buffers fill).
      for (let waited = 0; waited < 8000 && server.connections > 0; waited += 100) yield* sleep(100);
      const left = server.connections;
      const closer = yield* spawn(() => server.close());
      let closed = true;
      try {
        yield* timeout(2000, function* () { yield* join(closer); });
      } catch {
        closed = false;
      }
      for (const s of socks) s.end();
      return { left, closed };
    });
    expect(out).toEqual({ left: 0, closed: true });
  }, 20_000);

  test("a client that stops reading is cut off after bodyTimeout, and close() returns", async () => {
    const big = new Uint8Array(64 << 20);
    const out = await run(function* () {
      const server = yield* serve({ bodyTimeout: 300, handler: function* () { return { body: big }; } });
      const { createConnection } = yield* wait(import("node:net"));
      const sock = createConnection({ host: "127.0.0.1", port: server.port }, () => {
        sock.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        sock.pause(); // never reads: the server's write cannot finish
      });
      sock.on("error", () => {});
      yield* sleep(100);
      const t0 = performance.now();
      const closer = yield* spawn(() => server.close());
      yield* timeout(5000, function* () { yield* join(closer); });
      sock.destroy();
      return { ms: performance.now() - t0, open: server.connections };
    });
    expect(out.open).toBe(0);
    expect(out.ms).toBeLessThan(5000);
  });
});


test("serve() refuses a listener's options such as tls, naming the way to serve on such a listener (found by review: serve({ tls }) served plain HTTP)", async () => {
  const messages = await run(function* () {
    const out: string[] = [];
    for (const extra of [{ tls: { key: "k", cert: "c" } }, { handshakeTimeout: 100 }, { unix: "/tmp/x.sock" }, { reusePort: true }]) {
      try {
        const s = yield* serve({ port: 0, handler: function* () { return "x"; }, ...(extra as object) });
        out.push(`served at ${s.url}`);
        yield* s.close();
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return out;
  });
  expect(messages.map((m) => m.split(":")[1]?.trim().split(" ")[0])).toEqual(["tls", "handshakeTimeout", "unix", "reusePort"]);
  expect(messages[0]).toBe("serve(options): tls is a listener's option, which serve() does not take; listen yourself and serve on it: httpServer(yield* listen({ port, tls, ... }), handler, limits)");
});

test("a handler whose returns name different header fields type-checks (each field the others lack was typed '?: undefined' and refused; found by review), and a field given as undefined is left out, by the server and the client", async () => {
  const routes: HttpHandler = function* (req) {
    if (req.path === "/json") return { headers: { "content-type": "application/json" }, body: "{}" };
    return { headers: { "cache-control": "no-store", "x-trace": req.headers["x-trace"] ?? undefined }, body: req.headers["x-trace"] ?? "none" };
  };
  const { value } = await withServer(routes, async (s) => {
    const out: string[] = [];
    for (const [path, trace] of [["/json", undefined], ["/text", undefined], ["/text", "t1"]] as const) {
      const r = await run(function* () {
        const res = yield* request(`${s.url}${path}`, { headers: { "x-trace": trace } });
        return `${res.status} ${res.headers["content-type"]} ${res.headers["cache-control"]} ${res.headers["x-trace"]} ${res.text()}`;
      });
      out.push(r);
    }
    return out;
  });
  expect(value).toEqual(["200 application/json undefined undefined {}", "200 text/plain;charset=utf-8 no-store undefined none", "200 text/plain;charset=utf-8 no-store t1 t1"]);
});

