/**
 * Found by review: misuse of a StreamedResponse (read() after use returned; two reads at once) is an
 * error naming what was wrong, but not the task that made the mistake, which the project's
 * rule asks of bad input (and which the client's other misuse errors, UsageError, give).
 */
import { test, expect } from "bun:test";
import { run, spawn, join, sleep, serve, requestStream, type StreamedResponse } from "../../src/index.ts";

test("read() after use returned, and a second read while one is pending, name the task that called it", async () => {
  const out = await run(function* () {
    const server = yield* serve({ handler: function* () { return { body: function* (o) { yield* o.write("a"); yield* sleep(200); yield* o.write("b"); } }; } });
    const kept = yield* requestStream(server.url, {}, function* (res) { return res; });
    const late = yield* spawn(function* lateReader() {
      try { yield* kept.read(); return "read"; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
    });
    const twice = yield* requestStream(server.url, {}, function* (res: StreamedResponse) {
      yield* res.read(); // "a"
      const first = yield* spawn(function* firstReader() { yield* res.read(); });
      yield* sleep(10); // firstReader now waits for "b"
      const second = yield* spawn(function* secondReader() {
        try { yield* res.read(); return "read"; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
      });
      const m = yield* join(second);
      yield* join(first);
      return m;
    });
    yield* server.close();
    return { late: yield* join(late), twice };
  });
  // Observed: "Error: StreamedResponse.read(): the response from http://127.0.0.1:…/ is over (read it inside the function given to requestStream)"
  //       and "Error: StreamedResponse.read(): the body of http://127.0.0.1:…/ is already being read"
  expect(out.late).toContain("is over");
  expect(out.late).toContain("lateReader");
  expect(out.twice).toContain("already being read");
  expect(out.twice).toContain("secondReader");
});
