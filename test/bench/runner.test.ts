/**
 * The harness's choice of one row per peer when a scenario runs several interleaved rounds
 * (pure function; no processes).
 */
import { describe, expect, test } from "bun:test";
import { bestOf } from "../../bench/harness/runner.ts";
import type { RunResult } from "../../bench/harness/spawn-child.ts";

function run(peer: string, value: number | undefined, status: RunResult["status"] = "ok"): RunResult {
  const metrics: Record<string, number> = value === undefined ? {} : { rps: value };
  return { scenario: "s", variant: undefined, peer, status, metrics, wall_ms: 1, peak_rss_mb: 1, elapsed_s: 1 };
}

describe("bestOf", () => {
  test("keeps each peer's best ok run and lists every ok run's figure, in order", () => {
    const runs = [run("corun", 5), run("raw", 9), run("corun", 7), run("raw", 8), run("corun", 6, "crashed")];
    const rows = bestOf(runs, { metric: "rps", better: "higher" });
    expect(rows.map((r) => [r.peer, r.metrics.rps, r.rounds])).toEqual([
      ["corun", 7, [5, 7]],
      ["raw", 9, [9, 8]],
    ]);
  });

  test("rounds that failed are counted in the row's note, not hidden", () => {
    const rows = bestOf([run("corun", 5), { ...run("corun", undefined, "timeout"), error: "no result after 90 s" }, run("corun", 6)], { metric: "rps", better: "higher" });
    expect(rows[0]!.status).toBe("ok");
    expect(rows[0]!.note).toBe("1 of 3 rounds timeout (no result after 90 s)");
  });

  test("picks the smallest figure when lower is better", () => {
    const rows = bestOf([run("a", 3), run("a", 2), run("a", 4)], { metric: "rps", better: "lower" });
    expect(rows[0]!.metrics.rps).toBe(2);
  });

  test("a single run is reported as it is; a peer with no ok run keeps its first failure", () => {
    const rows = bestOf([run("one", 1), run("bad", undefined, "timeout"), run("bad", undefined, "crashed")], {
      metric: "rps",
      better: "higher",
    });
    expect(rows[0]).toEqual(run("one", 1));
    expect(rows[1]!.status).toBe("timeout");
  });
});
