/** Bad input found by a review sweeping the public API: each is a clear error at the call, naming the argument. */
import { expect, test } from "bun:test";
import { channel, recvAsync, sendAsync, iterate } from "../../src/index.ts";

// recvAsync/sendAsync/iterate take { signal }. Passing the AbortSignal itself (a natural slip:
// fetch-style APIs differ) is silently taken as "no options": the wait never gives up.
// Expected: a TypeError naming the options ("options must be { signal }, got [object AbortSignal]").
const settle = (p: Promise<unknown>) =>
  Promise.race([p.then(() => "resolved", (e: Error) => `rejected: ${e.message}`), Bun.sleep(300).then(() => "still waiting after 300 ms")]);

test("recvAsync(ch, signal) instead of { signal } is refused, not ignored", async () => {
  const out = await settle(recvAsync(channel<number>(1), AbortSignal.timeout(20) as never));
  expect(out).toMatch(/^rejected: .*recvAsync.*options/);
});

test("sendAsync(ch, v, signal) instead of { signal } is refused, not ignored", async () => {
  const out = await settle(sendAsync(channel<number>(0), 1, AbortSignal.timeout(20) as never));
  expect(out).toMatch(/^rejected: .*sendAsync.*options/);
});

test("iterate(ch, 5) is refused at the call", () => {
  expect(() => iterate(channel<number>(1), 5 as never)).toThrow(/iterate.*options/);
});
