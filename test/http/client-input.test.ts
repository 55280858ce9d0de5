/**
 * Found by review: bad input to request()/client.request() gets a clear error naming what was wrong
 * and the task (the project's rule), not an engine TypeError, and is never silently ignored.
 */
import { test, expect } from "bun:test";
import { run, spawn, join, serve, request, requestStream, HttpClient } from "../../src/index.ts";

/** What request(url, options) did, from a task named "asker": "sent: <what the server saw>" or "<Error class>: <message>". */
function outcomes(cases: { url?: unknown; options?: unknown }[]): Promise<string[]> {
  return run(function* () {
    const server = yield* serve({ port: 0, handler: function* (req) { return `${req.method} ${req.headers["connection"] ?? "-"}`; } });
    const out: string[] = [];
    for (const c of cases) {
      const t = yield* spawn(function* asker() {
        try {
          const res = yield* request(("url" in c ? c.url : server.url) as string, c.options as never);
          return `sent: ${res.text()}`;
        } catch (e) {
          return `${(e as Error).constructor.name}: ${(e as Error).message}`;
        }
      });
      out.push(yield* join(t));
    }
    yield* server.close();
    return out;
  });
}

test("a url that is no string or URL (null, undefined, a number, an object) is a clear error naming the url and the task, not an engine TypeError", async () => {
  const out = await outcomes([{ url: null }, { url: undefined }, { url: 42 }, { url: { href: "http://127.0.0.1/" } }]);
  // Observed: "TypeError: null is not an object (evaluating 'u.protocol')",
  //           "TypeError: undefined is not an object (evaluating 's.length')" ...
  for (const o of out) {
    expect(o).not.toMatch(/is not an object|evaluating/);
    expect(o).toMatch(/url/i);
    expect(o).toContain("asker");
  }
});

test("options that are no object (a string such as \"POST\", a number) are refused, not ignored (a GET went out)", async () => {
  const out = await outcomes([{ options: "POST" }, { options: 5 }]);
  // Observed: ["sent: GET -", "sent: GET -"]: the options were ignored and a GET went out.
  for (const o of out) expect(o).not.toStartWith("sent:");
});

test("a method that is no string is an error naming the method, not 'method.toUpperCase is not a function'", async () => {
  const [o] = await outcomes([{ options: { method: 5 } }]);
  expect(o).not.toContain("toUpperCase");
  expect(o).toMatch(/method/);
  expect(o).toContain("asker");
});

test("keepAlive / http10 of the wrong type are refused like timeout's, not silently ignored", async () => {
  const out = await outcomes([{ options: { keepAlive: "no" } }, { options: { http10: "yes" } }, { options: { timeout: "100" } }]);
  // timeout: "100" is a TypeError showing the value; keepAlive: "no" sent a keep-alive request ("sent: GET -": no connection: close), http10: "yes" an HTTP/1.1 one.
  expect(out[2]).toStartWith("TypeError");
  expect(out[0]).not.toStartWith("sent:");
  expect(out[1]).not.toStartWith("sent:");
});

test("bad options name the call made and the task, and an array is no options object (found by review of the input checks)", async () => {
  let url = "";
  const out = await run(function* () {
    const s = yield* serve({ port: 0, handler: function* (req) { return req.method; } });
    url = s.url;
    const r: string[] = [];
    for (const call of [
      () => requestStream(url, "POST" as never, function* () { return 1; }),
      () => request(url, { keepAlive: "no" as never }),
      () => request(url, ["POST"] as never),
    ]) {
      const t = yield* spawn(function* asker() {
        try {
          const res = yield* call();
          return typeof res === "object" && res !== null && "text" in res ? `sent ${(res as { text(): string }).text()}` : "sent";
        } catch (e) {
          return `${(e as Error).constructor.name}: ${(e as Error).message}`;
        }
      });
      r.push(yield* join(t));
    }
    yield* s.close();
    return r;
  });
  expect({
    streamNamesItsCall: out[0]!.includes("requestStream"),
    streamNamesTask: out[0]!.includes("asker"),
    keepAliveNamesTask: out[1]!.includes("asker"),
    arrayRefused: !out[2]!.startsWith("sent"),
  }).toEqual({ streamNamesItsCall: true, streamNamesTask: true, keepAliveNamesTask: true, arrayRefused: true });
});

test("a URL with port 0 is BAD_ARGUMENT naming the URL and the task, not connect()'s RangeError without either (found by review)", async () => {
  const [out] = await outcomes([{ url: "http://127.0.0.1:0/x" }]);
  expect(out).toMatch(/^HttpError: HTTP http:\/\/127\.0\.0\.1:0\/x in task "asker": BAD_ARGUMENT \(port 0 is no port to send a request to/);
});
