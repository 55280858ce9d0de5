/**
 * BunReactor's host timer: a deadline beyond what setTimeout takes (2^31 - 1 ms) is waited for
 * in steps, not fired at once.
 */
import { describe, expect, test } from "bun:test";
import { BunReactor } from "../../src/index.ts";

describe("BunReactor timer", () => {
  test("a deadline 50 days away does not fire within 50 ms (setTimeout would overflow to 1 ms)", async () => {
    const r = new BunReactor();
    let fired = 0;
    r.setTimer(r.now() + 50 * 24 * 3600 * 1000, () => fired++);
    await Bun.sleep(50);
    r.clearTimer();
    await r.close();
    expect(fired).toBe(0);
  });
});
