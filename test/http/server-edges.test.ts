/**
 * The HTTP server at its edges: errors a handler lets out are the server's (500) unless they
 * are the request's own; a request whose head completes as its deadline passes is not also
 * served; responses cannot be split; chunk lines need CRLF. Real sockets on 127.0.0.1.
 */
import { test, expect, describe } from "bun:test";
import { createConnection } from "node:net";
import { run, wait, serve, spawn, join, cancel, sleep, connect, request, requestStream, moveOnAfter, HttpError, type HttpServer, type HttpHandler } from "../../src/index.ts";
import { raw, rawServer } from "./helpers.ts";

const GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/** Serve with `handler`, run `client` against it, close; the client's result and the server. */
function withServer<T>(handler: HttpHandler, client: (s: HttpServer) => Promise<T>, onError?: (e: unknown) => void) {
  return run(function* () {
    const server = yield* serve({ handler, onError });
    const value = yield* wait(client(server));
    yield* server.close();
    return { value, server };
  });
}

describe("errors a handler lets out", () => {
  test("its own failed connect (a NetError) is a 500, counted and reported", async () => {
    const seen: unknown[] = [];
    const { value, server } = await withServer(
      function* () {
        yield* connect({ hostname: "127.0.0.1", port: 1 }); // refused
        return "never";
      },
      (s) => raw(s.port, [GET]),
      (e) => seen.push(e),
    );
    expect(value).toStartWith("HTTP/1.1 500 ");
    expect([server.handlerErrors, seen.length]).toEqual([1, 1]);
  });

  test("its own backend request timing out is a 500, not a 408 to the client", async () => {
    const backend = await rawServer(() => null); // never answers
    try {
      const { value, server } = await withServer(
        function* () {
          const r = yield* request(`http://127.0.0.1:${backend.port}/`, { timeout: 50 });
          return String(r.status);
        },
        (s) => raw(s.port, [GET]),
      );
      expect(value).toStartWith("HTTP/1.1 500 ");
      expect(server.handlerErrors).toBe(1);
    } finally {
      backend.server.close();
    }
  });

  test("a Cancelled of another task (a helper it cancelled and joined) is a 500; the server and run() go on", async () => {
    const { value } = await withServer(
      function* () {
        const helper = yield* spawn(function* () {
          yield* sleep(1000);
        });
        yield* cancel(helper);
        yield* join(helper);
        return "never";
      },
      (s) => raw(s.port, [GET]),
    );
    expect(value).toStartWith("HTTP/1.1 500 ");
  });

  test("the request's own failure keeps its status, and reading the body again rethrows it", async () => {
    let again = "";
    const { value } = await withServer(
      function* (req) {
        try {
          return yield* req.text();
        } catch {
          try {
            yield* req.text();
          } catch (e) {
            again = (e as Error).constructor.name;
          }
          throw new Error("unreachable: the first failure is rethrown below");
        }
      },
      (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]),
    );
    expect(value).toStartWith("HTTP/1.1 500 "); // the handler threw its own Error at the end
    expect(again).toBe("HttpError"); // not "already being read"
  });
});

describe("wire safety", () => {
  test("a statusText with CR or LF is refused (a 500), not written out as a second response", async () => {
    const { value } = await withServer(
      function* () {
        return { status: 200, statusText: "OK\r\nSet-Cookie: admin=1\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK", body: "x" };
      },
      (s) => raw(s.port, [GET]),
    );
    expect(value).toStartWith("HTTP/1.1 500 ");
    expect(value).not.toContain("Set-Cookie");
  });

  /** Send `chunked` as a chunked POST body; what came back and which paths were served. */
  async function smuggle(chunked: string) {
    const served: string[] = [];
    const { value } = await withServer(
      function* (req) {
        served.push(req.path);
        yield* req.body();
        return "ok";
      },
      (s) => raw(s.port, [`POST /outer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`]),
    );
    return { value, served };
  }

  test("a chunk-size line ended by a bare LF is a 400: the request behind it is not served", async () => {
    const { value, served } = await smuggle("0;\n\nGET /smuggled HTTP/1.1\nHost: x\n\n\r\n\r\n");
    expect(value).toContain(" 400 ");
    expect(served).toEqual(["/outer"]);
  });

  test("a chunk-size line of 256 bytes (its CRLF not counted) is read; one of 257 is a 400", async () => {
    const post = (n: number) => // "3;" and an extension: a size line of n bytes
      `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3;${"x".repeat(n - 2)}\r\nabc\r\n0\r\n\r\n`;
    const echo: HttpHandler = function* (req) { return new TextDecoder().decode(yield* req.body()); };
    const { value } = await withServer(echo, async (s) => [await raw(s.port, [post(256)]), await raw(s.port, [post(257)])]);
    expect(value[0]).toStartWith("HTTP/1.1 200 ");
    expect(value[0]).toEndWith("abc");
    expect(value[1]).toContain(" 400 ");
  });

  test("an empty chunk line ended by a bare LF is a 400 too", async () => {
    const { value, served } = await smuggle("0\r\n\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(value).toContain(" 400 ");
    expect(served).toEqual(["/outer"]);
  });
});

test("a head that completes just as its 408 fires is not also handed to the handler", async () => {
  /** A client that sends a head in two parts, the last at `at` ms; resolves with all it got. */
  const client = (port: number, at: number) =>
    new Promise<string>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.setNoDelay(true);
      let got = "";
      const timer = setTimeout(() => (s.destroy(), resolve(got)), 3000);
      s.on("data", (d) => (got += d.toString("latin1")));
      s.on("close", () => (clearTimeout(timer), resolve(got)));
      s.on("error", () => undefined);
      s.on("connect", () => {
        s.write("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n");
        setTimeout(() => void (s.destroyed || s.write("\r\n")), at);
      });
    });
  let handled = 0;
  const results = await run(function* () {
    const server = yield* serve({ headerTimeout: 100, handler: function* () { handled++; return "done"; } });
    const all: string[] = [];
    for (let round = 0; round < 4; round++) {
      const batch: Promise<string>[] = [];
      for (let i = 0; i < 60; i++) batch.push(client(server.port, 90 + i * 1.3 + round * 0.3));
      all.push(...(yield* wait(Promise.all(batch))));
    }
    yield* server.close();
    return all;
  });
  const answered200 = results.filter((r) => r.includes(" 200 "));
  expect(answered200.filter((r) => r.includes(" 408 "))).toEqual([]);
  expect(handled).toBe(answered200.length);
  expect(results.filter((r) => r === "")).toEqual([]); // and every client got an answer: a 200 or a 408
}, 20_000);

test("a handler that calls server.close() gets its answer out: close() does not wait for its own connection", async () => {
  const r = await run(function* () {
    let server!: HttpServer;
    let closed = "waiting";
    server = yield* serve({
      handler: function* () {
        closed = (yield* moveOnAfter(1000, function* () {
          yield* server.close();
          return "closed";
        })) ?? "still waiting after 1 s";
        return "bye";
      },
    });
    const answer = yield* wait(raw(server.port, ["GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n"]));
    return { closed, answer, connections: server.connections };
  });
  expect(r.closed).toBe("closed");
  expect(r.answer).toContain("bye");
  expect(r.connections).toBe(0);
}, 10_000);

test("two handlers calling server.close() at once both get their answers out", async () => {
  const r = await run(function* () {
    let server!: HttpServer;
    const closed: string[] = [];
    server = yield* serve({
      handler: function* (req) {
        yield* sleep(10); // both requests are in their handlers
        const done = yield* moveOnAfter(1000, function* () {
          yield* server.close();
          return "closed";
        });
        closed.push(done ?? "still waiting");
        return `bye ${req.path}`;
      },
    });
    const answers = yield* wait(Promise.all([raw(server.port, ["GET /a HTTP/1.1\r\nHost: x\r\n\r\n"]), raw(server.port, ["GET /b HTTP/1.1\r\nHost: x\r\n\r\n"])]));
    return { closed, answers };
  });
  expect(r.closed).toEqual(["closed", "closed"]);
  expect(r.answers[0]).toContain("bye /a");
  expect(r.answers[1]).toContain("bye /b");
}, 10_000);


test("an error answer to a HEAD request has the head only, no body", async () => {
  const { value } = await withServer(
    function* () {
      throw new Error("handler broke");
    },
    (s) => raw(s.port, ["HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"]),
  );
  expect(value).toStartWith("HTTP/1.1 500 ");
  expect(value.endsWith("\r\n\r\n")).toBe(true); // nothing after the head
});

describe("handler mistakes get errors that say what was wrong", () => {
  test("an async handler (or none) is refused at serve()", async () => {
    const tried = await run(function* () {
      const out: string[] = [];
      for (const handler of [async () => "hi", undefined]) {
        try {
          yield* serve({ handler: handler as never });
          out.push("accepted");
        } catch (e) {
          out.push((e as Error).message);
        }
      }
      return out;
    });
    expect(tried).toEqual([
      "serve({ handler }): handler is an async function; write it as function* (req) {...} and wait for promises in it with yield* wait(p)",
      "serve({ handler }): handler must be a generator function (function* (req) {...}), got undefined",
    ]);
  });

  test("a handler that returns no generator, or a body of the wrong type, is a 500 whose error names it", async () => {
    const seen: string[] = [];
    const { value } = await withServer(
      ((req: { path: string }) =>
        req.path === "/plain" ? "not a generator" : req.path === "/async" ? (async function* () {})() : (function* () { return { body: 42 as never }; })()) as never,
      async (s) => [
        await raw(s.port, ["GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]),
        await raw(s.port, ["GET /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]),
        await raw(s.port, ["GET /async HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]),
      ],
      (e) => seen.push((e as Error).message),
    );
    expect((value as string[]).map((v) => v.split("\r\n")[0])).toEqual(Array(3).fill("HTTP/1.1 500 Internal Server Error"));
    expect(seen).toEqual([
      'the handler returned "not a generator", not a generator: write it as function* (req) {...}',
      "HTTP: BAD_ARGUMENT (the body a handler returned is 42 (expected a string, a Uint8Array, an iterable of them, or a function writing it))",
      "the handler returned an async generator object, not a generator: write it as function* (req) {...}",
    ]);
  });
});

describe("found by a new user's review: what a handler returns", () => {
  test("data returned as it is (an object with other fields, an array, a client's response) is a 500 naming it, not a silent empty 200", async () => {
    const seen: string[] = [];
    const handler: HttpHandler = function* (req) {
      if (req.path === "/data") return { ok: true, items: [1] } as never;
      if (req.path === "/array") return [1, 2] as never;
      if (req.path === "/status") return { status: "200" as never, body: "x" };
      const upstream = yield* request(`http://127.0.0.1:${req.headers["x-port"]}/plain`);
      return upstream as never;
    };
    const { value, server } = await withServer(
      function* (req) {
        if (req.path === "/plain") return "plain";
        return yield* handler(req);
      },
      async (s) => {
        const out: string[] = [];
        for (const p of ["/data", "/array", "/status", "/proxy"]) out.push((await raw(s.port, [`GET ${p} HTTP/1.1\r\nHost: x\r\nX-Port: ${s.port}\r\nConnection: close\r\n\r\n`])).split("\r\n")[0]!);
        return out;
      },
      (e) => seen.push((e as Error).message),
    );
    expect(value).toEqual(Array(4).fill("HTTP/1.1 500 Internal Server Error"));
    expect(seen[0]).toContain('an object with a field "ok", which a response does not have');
    expect(seen[1]).toContain("a handler returned [1,2], not a response");
    expect(seen[2]).toContain('a handler returned status "200" (expected an integer 200..999)');
    expect(seen[3]).toContain("a handler returned a client's HttpResponse");
    expect(server.handlerErrors).toBe(4);
  });

  test("a coroutine's call given as a body (body: req.text() without yield*) is an error that says so", async () => {
    const seen: string[] = [];
    const { value } = await withServer(
      function* (req) {
        return { body: req.text() as never };
      },
      (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"]),
      (e) => seen.push((e as Error).message),
    );
    expect(value).toStartWith("HTTP/1.1 500 ");
    expect(seen[0]).toContain("write body: yield* req.text()");
  });

  test("req.json() of a body that is no JSON is the client's fault: 400 BAD_BODY, no handler error", async () => {
    let caught: unknown;
    const { value, server } = await withServer(
      function* (req) {
        try {
          return JSON.stringify(yield* req.json());
        } catch (error) {
          caught = error;
          throw error;
        }
      },
      (s) => raw(s.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{broken}"]),
    );
    expect(value).toStartWith("HTTP/1.1 400 Bad Request");
    expect(value).toContain("is not JSON");
    expect((caught as HttpError).code).toBe("BAD_BODY");
    expect((caught as HttpError).cause).toBeInstanceOf(SyntaxError);
    expect(server.handlerErrors).toBe(0);
  });
});

test("HTTP/1.0 with Connection: keep-alive, close: close wins, and a request pipelined behind it is not served (found by review)", async () => {
  const got = await run(function* () {
    const server = yield* serve({ handler: function* (req) { return req.path; } });
    const text = yield* wait(raw(server.port, ["GET /1 HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"], { timeoutMs: 2000 }));
    yield* server.close();
    return text;
  });
  expect(got.split("\r\n\r\n")[0]).toContain("connection: close");
  expect(got).toContain("/1");
  expect(got).not.toContain("/2");
});

test("a handler, limitsFor or use returning a promise, and an async onError that fails, leave no unhandled rejection: the TypeError (a 500) is what is reported (found by review)", async () => {
  const unhandled: unknown[] = [];
  const seen = (e: unknown): void => void unhandled.push(e);
  process.on("unhandledRejection", seen);
  try {
    const reported: string[] = [];
    const out = await run(function* () {
      const handler = ((req: { path: string }) => (req.path === "/promise" ? Promise.reject(new Error("handler's")) : (function* () { throw new Error("plain failure"); })())) as unknown as HttpHandler;
      const server = yield* serve({
        handler,
        limitsFor: ((req: { path: string }) => (req.path === "/limits" ? Promise.reject(new Error("limitsFor's")) : undefined)) as never,
        onError: (async (e: unknown) => { reported.push((e as Error).message); throw new Error("onError's"); }) as never,
      });
      const statuses: number[] = [];
      for (const path of ["/promise", "/limits", "/fails"]) statuses.push((yield* request(`${server.url}${path}`)).status);
      let used = "";
      try { yield* requestStream(server.url, {}, (() => Promise.reject(new Error("use's"))) as never); } catch (e) { used = (e as Error).message; }
      yield* sleep(5);
      yield* server.close();
      return { statuses, used };
    });
    await Bun.sleep(5); // an unhandled rejection is reported after a turn of the event loop
    expect(out.statuses).toEqual([500, 500, 500]);
    expect(out.used).toContain("use returned [object Promise], not a generator");
    expect(reported).toHaveLength(4); // the last: the request requestStream made, to "/"
    expect(reported[0]).toContain("the handler returned [object Promise], not a generator");
    expect(reported[1]).toContain("returned [object Promise]: expected { maxBodyBytes?, bodyTimeout? } or undefined");
    expect([reported[2], reported[3]]).toEqual(["plain failure", "plain failure"]);
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", seen);
  }
});

describe("a head is bytes, one per character (latin1), both ways (found by review: read as windows-1252, written as UTF-8)", () => {
  test("a non-ASCII (latin1) header value survives a trip from handler to fetch() and corun's client, and from either client to a handler", async () => {
    const got = await run(function* () {
      const server = yield* serve({
        handler: function* (req) {
          return { statusText: "Très bien", headers: { "x-name": "café", "x-echo": req.headers["x-name"] ?? "none" }, body: "ok" };
        },
      });
      // (fetch() is not asked for the reason phrase: Bun's decodes it as UTF-8)
      const viaFetch = yield* wait(fetch(server.url, { headers: { "x-name": "naïve" } }).then((r) => [r.headers.get("x-name"), r.headers.get("x-echo")]));
      const res = yield* request(server.url, { headers: { "x-name": "déjà" } });
      yield* server.close();
      return { viaFetch, viaCorun: [res.headers["x-name"], res.headers["x-echo"], res.statusText] };
    });
    expect(got).toEqual({ viaFetch: ["café", "naïve"], viaCorun: ["café", "déjà", "Très bien"] });
  });

  test("bytes 0x80–0x9F of a request's target and header values are read one character per byte, so Buffer.from(s, 'latin1') gives them back", async () => {
    const seen: { url: string; value: string }[] = [];
    await run(function* () {
      const server = yield* serve({ handler: function* (req) {
        seen.push({ url: req.url, value: req.headers["x-raw"]! });
        return "ok";
      } });
      // "/€" as raw UTF-8 (E2 82 AC), and a header value holding the byte 0x80.
      yield* wait(raw(server.port, ["GET /\xe2\x82\xac HTTP/1.1\r\nHost: x\r\nX-Raw: a\x80b\r\nConnection: close\r\n\r\n"]));
      yield* server.close();
    });
    expect(Buffer.from(seen[0]!.url, "latin1").toString("utf8")).toBe("/€");
    expect([...Buffer.from(seen[0]!.value, "latin1")]).toEqual([0x61, 0x80, 0x62]);
  });

  test("a character a head cannot carry (above U+00FF) is BAD_ARGUMENT, in a handler's header or statusText and in a request's header", async () => {
    const errors: string[] = [];
    const got = await run(function* () {
      const server = yield* serve({
        onError: (e) => void errors.push((e as Error).message),
        handler: function* (req) {
          if (req.path === "/header") return { headers: { "x-name": "日本" }, body: "x" };
          return { statusText: "OK ✓", body: "x" };
        },
      });
      const statuses = [(yield* request(`${server.url}/header`)).status, (yield* request(`${server.url}/reason`)).status];
      let client = "";
      try {
        yield* request(server.url, { headers: { "x-name": "emoji 🙂" } });
      } catch (e) {
        client = `${(e as HttpError).code}: ${(e as HttpError).detail}`;
      }
      yield* server.close();
      return { statuses, client };
    });
    expect(got.statuses).toEqual([500, 500]);
    expect(errors[0]).toContain(`header "x-name" has a character above U+00FF in its value "日本"`);
    expect(errors[1]).toContain(`statusText "OK ✓"`);
    expect(got.client).toStartWith(`BAD_ARGUMENT: header "x-name" has a character above U+00FF`);
  });
});

test("a request target with a fragment is a 400 naming it (found by review: GET http://host#frag gave req.path \"#frag\")", async () => {
  const replies = await run(function* () {
    const server = yield* serve({ handler: function* (req) { return req.path; } });
    const out: string[] = [];
    for (const target of ["http://example.com#frag", "/a#frag"]) {
      out.push((yield* wait(raw(server.port, [`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]))).split("\r\n")[0]!);
    }
    yield* server.close();
    return out;
  });
  expect(replies).toEqual(["HTTP/1.1 400 Bad Request", "HTTP/1.1 400 Bad Request"]);
});

test("a handler's content-length that is no byte count is a 500 naming it, not dropped (a HEAD said content-length: 0; found by review)", async () => {
  const errors: string[] = [];
  const replies = await run(function* () {
    const server = yield* serve({
      onError: (e) => void errors.push((e as Error).message),
      handler: function* (req) {
        return { headers: { "content-length": req.path === "/ok" ? " 1234 " : "12abc" } };
      },
    });
    const out: string[] = [];
    for (const path of ["/ok", "/bad"]) {
      const reply = yield* wait(raw(server.port, [`HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]));
      out.push(`${reply.split("\r\n")[0]}${path === "/ok" ? ` ${/content-length: (\d+)/.exec(reply)?.[1]}` : ""}`);
    }
    yield* server.close();
    return out;
  });
  expect(replies).toEqual(["HTTP/1.1 200 OK 1234", "HTTP/1.1 500 Internal Server Error"]);
  expect(errors).toEqual([expect.stringContaining(`a handler gave header "content-length" the value "12abc", which is not a byte count`)]);
});
