/**
 * urlfetch counts every failed request, the untimed warm-up's included: a "no failed request"
 * target cannot be met by a client whose warm-up failed (found by review: the warm-up's
 * failures were thrown away). The server is a stand-in that fails its first requests.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { scenario } from "../../bench/scenarios/urlfetch.ts";
import { checkTargets } from "../../bench/harness/targets.ts";
import type { RunResult } from "../../bench/harness/spawn-child.ts";

// tiny, variant "100": a warm-up of 100 HTTP/1.0 and 100 keep-alive requests, then one run of each.
const failingWarmUp = [process.execPath, join(import.meta.dir, "fixtures", "flaky-server.ts"), "200"];

describe("urlfetch: failed requests in the warm-up count", () => {
  for (const peer of ["corun", "fetch→corun"]) {
    test(`${peer}: 200 failed warm-up requests are failures, and its "no failed request" targets are missed`, async () => {
      const metrics = await scenario.peers[peer]!({ quick: true, tiny: true, variant: "100", command: failingWarmUp });
      expect(metrics.http10_failures).toBe(100);
      expect(metrics.ka_failures).toBe(100);
      if (peer !== "corun") return;
      const row: RunResult = { scenario: "urlfetch", variant: "100", peer, status: "ok", metrics, wall_ms: 1, peak_rss_mb: 1, elapsed_s: 1 };
      const verdicts = checkTargets(scenario, [row]).filter((t) => t.metric.endsWith("_failures") && t.peer === peer);
      expect(verdicts.map((t) => t.met)).toEqual([false, false]);
    }, 20_000);
  }
});
