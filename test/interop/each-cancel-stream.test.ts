/** Found by review.
 * README ("Interop with Promise code"): `each(source, body)` — "the iterator is closed on exit";
 * src/interop/each.ts header: "The source's iterator is closed when the loop ends early, fails or
 * is cancelled". For the sources users actually hand it (a Node Readable such as a socket, a web
 * ReadableStream such as fetch's body), a cancel/timeout that arrives while each() waits for the
 * next item leaves the stream open: their iterators are async generators (or spec'd like one),
 * whose return() is queued behind the pending next() and so never runs.
 */
import { expect, test } from "bun:test";
import { createServer, connect, type Socket } from "node:net";
import { each, run, timeout } from "../../src/index.ts";

test("each(socket) cut short by a timeout while it waits: the socket is destroyed (it stayed open, keeping the process alive)", async () => {
  const peers: Socket[] = [];
  const server = createServer((s) => peers.push(s)); // accepts, never sends
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, "127.0.0.1");
  await new Promise<void>((r) => sock.once("connect", () => r()));
  try {
    const outcome = await run(function* () {
      try {
        yield* timeout(20, () => each(sock, function* () {}));
        return "read";
      } catch (e) {
        return (e as Error).name;
      }
    });
    expect(outcome).toBe("TimeoutError");
    await Bun.sleep(20);
    // Expected: each() closed the iterator on exit, i.e. the Readable was destroyed.
    expect(sock.destroyed).toBe(true);
  } finally {
    sock.destroy();
    for (const p of peers) p.destroy();
    server.close();
  }
});

test("each(ReadableStream) cut short by a timeout while it waits: the stream is cancelled and unlocked (it was neither)", async () => {
  let cancelled = false;
  const rs = new ReadableStream<number>({
    pull: () => new Promise<void>(() => {}), // a body that has nothing more yet
    cancel: () => { cancelled = true; },
  });
  const outcome = await run(function* () {
    try {
      yield* timeout(20, () => each(rs, function* () {}));
      return "read";
    } catch (e) {
      return (e as Error).name;
    }
  });
  expect(outcome).toBe("TimeoutError");
  await Bun.sleep(20);
  expect([cancelled, rs.locked]).toEqual([true, false]);
});

test("a source with a destroy() of its own that is no Node stream: a cancel while waiting calls return(), not destroy() (found by review)", async () => {
  const log: string[] = [];
  class Feed {
    [Symbol.asyncIterator](): AsyncIterator<number> {
      return {
        next: () => new Promise<IteratorResult<number>>(() => {}), // nothing new yet
        return: async () => { log.push("iterator closed"); return { done: true, value: undefined }; },
      };
    }
    destroy(): void { log.push("feed DELETED"); } // e.g. deletes the feed on the server
  }
  const outcome = await run(function* () {
    try { yield* timeout(20, () => each(new Feed(), function* () {})); return "read"; } catch (e) { return (e as Error).name; }
  });
  expect(outcome).toBe("TimeoutError");
  expect(log).toEqual(["iterator closed"]);
});
