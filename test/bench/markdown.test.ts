/**
 * The Markdown form of a bench report (for the README's results block): a table per scenario
 * variant with the ratio to corun, the vertical form, failures and targets.
 */
import { describe, expect, test } from "bun:test";
import { toMarkdown } from "../../bench/harness/markdown.ts";
import type { BenchReport } from "../../bench/harness/runner.ts";
import type { RunResult } from "../../bench/harness/spawn-child.ts";

function row(scenario: string, variant: string | undefined, peer: string, metrics: Record<string, number>, status: RunResult["status"] = "ok", error?: string): RunResult {
  return { scenario, variant, peer, status, metrics, wall_ms: 10, peak_rss_mb: 50, elapsed_s: 1, ...(error ? { error } : {}) };
}

const report: BenchReport = {
  tool: "corun bench",
  version: "9.9.9",
  started: "2026-01-02T03:04:05.000Z",
  mode: "full",
  host: { platform: "linux", arch: "x64", cpus: 2, bun: "1.4.5" },
  scenarios: {
    concurrent: { description: "d", primary: { metric: "overhead_ms", better: "lower" }, layout: "table" },
    micro: { description: "m", primary: { metric: "switch_ratio", better: "lower" }, layout: "vertical" },
  },
  results: [
    row("concurrent", "100k", "corun", { overhead_ms: 100 }),
    row("concurrent", "100k", "effect", { overhead_ms: 250 }),
    row("concurrent", "100k", "saga", {}, "failed", "RangeError | stack"),
    row("micro", undefined, "corun", { switch_ns: 20, switch_ratio: 1.5 }),
  ],
  targets: [{ scenario: "micro", variant: undefined, metric: "switch_ratio", max: 2, label: "switch ≤ 2×", value: 1.5, met: true }],
  runs: [],
};

describe("toMarkdown", () => {
  const md = toMarkdown(report);
  test("names the run", () => {
    expect(md).toContain("corun 9.9.9, 2026-01-02 03:04 UTC, linux/x64, 2 CPUs, Bun 1.4.5");
  });
  test("a table per variant with the ratio to corun and failures escaped", () => {
    expect(md).toContain("**concurrent [100k]** — overhead_ms, lower is better");
    expect(md).toContain("| corun | 100 | 1.00× | 50.0 |  |");
    expect(md).toContain("| effect | 250 | 2.50× | 50.0 |  |");
    expect(md).toContain("| saga | – | – | 50.0 | failed: RangeError \\| stack |");
  });
  test("the vertical layout: a row per metric", () => {
    expect(md).toContain("| metric | corun |");
    expect(md).toContain("| switch_ns | 20.0 |");
  });
  test("targets with their verdicts", () => {
    expect(md).toContain("| micro | switch ≤ 2× | switch_ratio = 1.50 (target ≤ 2) met |");
  });
});

test("the vertical layout says why a peer has no figures", () => {
  const md = toMarkdown({ ...report, results: [row("micro", undefined, "corun", {}, "crashed", "killed by SIGKILL")] });
  expect(md).toContain("| status | crashed: killed by SIGKILL |");
});
