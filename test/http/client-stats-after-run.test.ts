/**
 * Found by review: client.stats() says "the connections open, idle and waiting now" (README, new
 * HttpClient). A client whose run() has ended keeps counting the keep-alive connection that
 * run closed as open and idle.
 */
import { test, expect } from "bun:test";
import { run, HttpClient } from "../../src/index.ts";
import { keepAliveServer } from "../http/helpers.ts";

test("after run() ends (which closes the client's sockets), stats() no longer counts them open and idle", async () => {
  const srv = await keepAliveServer();
  try {
    const client = new HttpClient({ timeout: 2000 });
    await run(function* () {
      yield* client.request(`http://127.0.0.1:${srv.port}/`);
    });
    for (let i = 0; i < 40 && srv.live() > 0; i++) await Bun.sleep(5);
    const serverSide = srv.live(); // 0: the run closed the keep-alive connection
    // Observed: { open: 1, idle: 1 } while the server sees no connection at all.
    expect({ serverSide, open: client.stats().open, idle: client.stats().idle }).toEqual({ serverSide: 0, open: 0, idle: 0 });
  } finally {
    srv.stop();
  }
});
