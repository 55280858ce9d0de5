import { test, expect } from "bun:test";
import { run, wait, serve, request, HttpError, type HttpServer, type HttpHandler, type ServeOptions } from "../../src/index.ts";
import { raw } from "./helpers.ts";

/** Serve `handler` with `options`, run `client` against it, close. */
function withServer<T>(handler: HttpHandler, client: (s: HttpServer) => Promise<T>, options: Omit<ServeOptions, "handler">): Promise<{ value: T; server: HttpServer }> {
  return run(function* () {
    const server = yield* serve({ port: 0, handler, ...options });
    try {
      return { value: yield* wait(client(server)), server };
    } finally {
      yield* server.close();
    }
  });
}

const echoLength: HttpHandler = function* (req) {
  return `${req.path} got ${(yield* req.body()).length}`;
};

/** A POST of `n` bytes to `path` with a Content-Length, on its own connection. */
function post(port: number, path: string, n: number): Promise<string> {
  return raw(port, [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n${"x".repeat(n)}`]);
}

test("limitsFor raises one route's maxBodyBytes; the others keep the server's (413 from the head, before the handler)", async () => {
  let handled = 0;
  const counting: HttpHandler = function* (req) {
    handled++;
    return yield* echoLength(req);
  };
  const { value, server } = await withServer(
    counting,
    async (s) => ({ upload: await post(s.port, "/upload", 5000), other: await post(s.port, "/other", 5000), small: await post(s.port, "/other", 50) }),
    { maxBodyBytes: 100, limitsFor: (req) => (req.path === "/upload" ? { maxBodyBytes: 10_000 } : undefined) },
  );
  expect(value.upload).toStartWith("HTTP/1.1 200");
  expect(value.upload).toEndWith("/upload got 5000");
  expect(value.other).toStartWith("HTTP/1.1 413");
  expect(value.other).toContain("over the limit of 100 bytes");
  expect(value.small).toEndWith("/other got 50");
  expect(handled).toBe(2); // the 413 came before the handler
  expect(server.handlerErrors).toBe(0);
});

test("limitsFor can lower a route's limit, for a chunked body too (body() throws BODY_TOO_LARGE: 413)", async () => {
  const chunked = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n20\r\n${"y".repeat(32)}\r\n0\r\n\r\n`;
  const { value } = await withServer(echoLength, async (s) => ({ tight: await raw(s.port, [chunked("/tight")]), other: await raw(s.port, [chunked("/other")]) }), {
    limitsFor: (req) => (req.path === "/tight" ? { maxBodyBytes: 10 } : {}),
  });
  expect(value.tight).toStartWith("HTTP/1.1 413");
  expect(value.other).toEndWith("/other got 32");
});

test("limitsFor's bodyTimeout cuts off a stalled body on its route (the server's is 30 s)", async () => {
  const stalled = (path: string) => [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc`];
  const t0 = performance.now();
  const { value } = await withServer(echoLength, async (s) => raw(s.port, stalled("/slow"), { timeoutMs: 4000 }), {
    headerTimeout: 800, // granularity 100 ms
    limitsFor: (req) => (req.path === "/slow" ? { bodyTimeout: 150 } : undefined),
  });
  expect(value).toBe(""); // a read waiting at the deadline is cut off: the connection is reset
  expect(performance.now() - t0).toBeLessThan(3000);
});

test("limitsFor is called once per request, with its head, bodies or not", async () => {
  const seen: string[] = [];
  const { value } = await withServer(
    function* (req) {
      return req.method;
    },
    async (s) => {
      const out: string[] = [];
      for (const method of ["GET", "DELETE"]) out.push(await raw(s.port, [`${method} /r?q=1 HTTP/1.1\r\nHost: x\r\nX-Tag: t1\r\nConnection: close\r\n\r\n`]));
      return out.map((r) => r.slice(r.lastIndexOf("\n") + 1));
    },
    {
      limitsFor: (req) => {
        seen.push(`${req.method} ${req.path} ${req.query} ${req.headers["x-tag"]}`);
        return undefined;
      },
    },
  );
  expect(value).toEqual(["GET", "DELETE"]);
  expect(seen).toEqual(["GET /r q=1 t1", "DELETE /r q=1 t1"]);
});

test("a limitsFor that throws or gives a bad value: that request is answered 500, onError names it, the handler is not called", async () => {
  const errors: unknown[] = [];
  let handled = 0;
  const { value, server } = await withServer(
    function* () {
      handled++;
      return "ok";
    },
    async (s) => {
      const get = (path: string) => raw(s.port, [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`]);
      return [await get("/throws"), await get("/negative"), await get("/promise"), await get("/null"), await get("/iterator"), await get("/fine")];
    },
    {
      onError: (e) => errors.push(e),
      limitsFor: (req) => {
        if (req.path === "/throws") throw new Error("routing table broken");
        if (req.path === "/negative") return { maxBodyBytes: -1 };
        if (req.path === "/promise") return Promise.resolve({ maxBodyBytes: 5 }) as never;
        if (req.path === "/null") return null as never;
        if (req.path === "/iterator") return (function* () { yield 1; })() as never;
        return { bodyTimeout: 1000 };
      },
    },
  );
  expect(value.slice(0, 5).map((r) => r.slice(0, 12))).toEqual(Array(5).fill("HTTP/1.1 500"));
  expect(value[5]).toEndWith("ok");
  expect(handled).toBe(1);
  expect(server.handlerErrors).toBe(5);
  const messages = errors.map((e) => (e as Error).message);
  expect(messages[0]).toBe("routing table broken");
  expect(errors[1]).toBeInstanceOf(RangeError);
  expect(messages[1]).toContain("limitsFor(req) for POST /negative: maxBodyBytes must be a finite number > 0, got -1");
  expect(messages[2]).toContain("limitsFor(req) for POST /promise returned");
  expect(messages[3]).toContain("limitsFor(req) for POST /null returned null");
  expect(messages[4]).toContain("limitsFor(req) for POST /iterator returned a generator object");
});

test("limitsFor must be a plain function: anything else is refused at serve()", async () => {
  const bad = [
    async function* () {
      yield* [];
    },
    async () => ({}),
    function* () {
      return { maxBodyBytes: 10_000 }; // a generator's limits would be read as {}: silently the server's (found by review)
    },
    "big",
  ];
  for (const limitsFor of bad) {
    const r = await run(function* () {
      try {
        yield* serve({ port: 0, handler: echoLength, limitsFor: limitsFor as never });
        return "served";
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(r).toContain("HTTP server option limitsFor must be a plain function");
  }
});

test("the corun client sees a route's own 413 as an HttpError status", async () => {
  const r = await run(function* () {
    const server = yield* serve({ port: 0, handler: echoLength, limitsFor: (req) => (req.path === "/small" ? { maxBodyBytes: 4 } : undefined) });
    try {
      const small = yield* request(`${server.url}/small`, { method: "POST", body: "too long" });
      const big = yield* request(`${server.url}/big`, { method: "POST", body: "too long" });
      return [small.status, big.status, big.text()];
    } catch (e) {
      return e instanceof HttpError ? e.code : String(e);
    } finally {
      yield* server.close();
    }
  });
  expect(r).toEqual([413, 200, "/big got 8"]);
});
