/**
 * The harness's target checks (pure functions; no processes): a peer's own figure against a
 * bound, its ratio to a named peer or to the best of the others, per variant, and the wording.
 */
import { describe, expect, test } from "bun:test";
import { BEST_OTHER, checkTargets, describeTarget, formatTargets } from "../../bench/harness/targets.ts";
import { bestOf } from "../../bench/harness/runner.ts";
import type { RunResult } from "../../bench/harness/spawn-child.ts";
import type { Scenario } from "../../bench/scenario.ts";

function row(peer: string, variant: string | undefined, metrics: Record<string, number>, status: RunResult["status"] = "ok", rss = 100): RunResult {
  return { scenario: "s", variant, peer, status, metrics, wall_ms: 10, peak_rss_mb: rss, elapsed_s: 1 };
}

function scenario(targets: Scenario["targets"], better: "lower" | "higher" = "lower"): Scenario {
  return { name: "s", description: "", peers: {}, primary: { metric: "ms", better }, targets };
}

describe("checkTargets", () => {
  test("a ratio to a named peer, per variant, only at the variants it names", () => {
    const results = [row("corun", "small", { ms: 10 }), row("async", "small", { ms: 40 }), row("corun", "big", { ms: 30 }, "ok", 60), row("async", "big", { ms: 40 }, "ok", 100)];
    const s = scenario([
      { metric: "ms", vs: "async", max: 0.5, variants: ["big"], label: "overhead ≤ 0.5× async" },
      { metric: "peak_rss_mb", vs: "async", max: 0.7, label: "RSS ≤ 0.7× async" },
    ]);
    const out = checkTargets(s, results).map((t) => [t.label, t.variant, t.value, t.met, t.own, t.other, t.otherPeer]);
    expect(out).toEqual([
      ["overhead ≤ 0.5× async", "big", 0.75, false, 30, 40, "async"],
      ["RSS ≤ 0.7× async", "small", 1, false, 100, 100, "async"],
      ["RSS ≤ 0.7× async", "big", 0.6, true, 60, 100, "async"],
    ]);
  });

  test("a size a target names that the run left out (a --quick run) is listed as not measured, saying why", () => {
    const results = [row("corun", "small", { ms: 10 }), row("async", "small", { ms: 40 })];
    const s = scenario([{ metric: "ms", vs: "async", max: 0.5, variants: ["small", "big"], label: "overhead ≤ 0.5× async" }]);
    const out = checkTargets(s, results);
    expect(out.map((t) => [t.variant, t.value, t.met, t.why])).toEqual([
      ["small", 0.25, true, undefined],
      ["big", undefined, undefined, "this size was not run"],
    ]);
    expect(formatTargets(out).split("\n")[2]).toBe("  s [big]: overhead ≤ 0.5× async: (target ≤ 0.5) not measured (this size was not run)");
  });

  test("the best of the others: the highest when higher is better, the peer itself left out", () => {
    const results = [row("corun", undefined, { ms: 90 }), row("a", undefined, { ms: 100 }), row("b", undefined, { ms: 80 })];
    const [t] = checkTargets(scenario([{ metric: "ms", vs: "best other", min: 0.9, label: "within 10 %" }], "higher"), results);
    expect([t!.value, t!.met, t!.otherPeer]).toEqual([0.9, true, "a"]);
    const [u] = checkTargets(scenario([{ metric: "ms", vs: "best other", max: 1, label: "fastest" }], "lower"), results);
    expect([u!.value, u!.otherPeer]).toEqual([90 / 80, "b"]);
  });

  test("a negative figure, or another's of zero, is no measurement (a ratio of them would read as met; found by review); an own zero is a ratio of zero", () => {
    const s = scenario([{ metric: "ms", vs: "async", max: 0.5, label: "x" }]);
    for (const [own, other] of [[10, -5], [-1, -10], [1, 0]]) {
      const [t] = checkTargets(s, [row("corun", undefined, { ms: own! }), row("async", undefined, { ms: other! })]);
      expect([t!.value, t!.met]).toEqual([undefined, undefined]);
    }
    const [rate] = checkTargets(scenario([{ metric: "ms", vs: "async", min: 0.8, label: "rate" }]), [row("corun", undefined, { ms: 0 }), row("async", undefined, { ms: 10 })]);
    expect([rate!.value, rate!.met]).toEqual([0, false]); // a rate of nothing misses its minimum
  });

  test("the best other is never a figure that is no measurement (a negative one won when lower is better): while a peer gave none, the best is unknown", () => {
    const [t] = checkTargets(scenario([{ metric: "ms", vs: "best other", max: 2, label: "x" }]), [row("corun", undefined, { ms: 6 }), row("broken", undefined, { ms: -1 }), row("b", undefined, { ms: 5 })]);
    expect([t!.value, t!.met, t!.why]).toEqual([undefined, undefined, "broken gave no ms"]);
    const [u] = checkTargets(scenario([{ metric: "ms", vs: "best other", max: 2, label: "x" }]), [row("corun", undefined, { ms: 6 }), row("b", undefined, { ms: 5 }), row("c", undefined, { ms: 9 })]);
    expect([u!.otherPeer, u!.value]).toEqual(["b", 6 / 5]);
  });

  test("the best other for a metric other than the primary goes by the target's own direction", () => {
    const results = [row("corun", undefined, { ms: 1, mb: 50 }, "ok", 50), row("a", undefined, { ms: 2 }, "ok", 40), row("b", undefined, { ms: 3 }, "ok", 90)];
    const [t] = checkTargets(scenario([{ metric: "peak_rss_mb", vs: "best other", max: 1, label: "least memory" }], "higher"), results);
    expect([t!.other, t!.otherPeer]).toEqual([40, "a"]); // lower is better for it, whatever the primary's way
    const [u] = checkTargets(scenario([{ metric: "peak_rss_mb", vs: "best other", better: "higher", min: 0, label: "most" }], "lower"), results);
    expect(u!.otherPeer).toBe("b");
  });

  test("a peer that failed, was skipped or gave no figure: not measured, on either side", () => {
    const results = [row("corun", undefined, { ms: 10 }), row("gone", undefined, {}, "skipped"), row("nan", undefined, { ms: NaN })];
    const s = scenario([
      { metric: "ms", vs: "gone", max: 0.1, label: "vs skipped" },
      { metric: "ms", vs: "nan", max: 0.1, label: "vs NaN" },
      { metric: "ms", vs: "absent", max: 0.1, label: "vs absent" },
      { peer: "gone", metric: "ms", max: 100, label: "own skipped" },
    ]);
    expect(checkTargets(s, results).map((t) => [t.label, t.value, t.met])).toEqual([
      ["vs skipped", undefined, undefined],
      ["vs NaN", undefined, undefined],
      ["vs absent", undefined, undefined],
      ["own skipped", undefined, undefined],
    ]);
  });
});

describe("describeTarget", () => {
  test("a ratio prints both figures and three decimals, so one just past its bound is not shown as the bound", () => {
    const [t] = checkTargets(scenario([{ metric: "ms", vs: "async", max: 2, label: "≤ 2×" }]), [row("corun", undefined, { ms: 20.04 }), row("async", undefined, { ms: 10 })]);
    expect(describeTarget(t!, (met) => (met ? "met" : "MISSED"))).toBe("ms 20.0 ÷ 10.0 (async) = 2.004 (target ≤ 2) MISSED");
    expect(formatTargets([t!])).toBe("Targets\n  s: ≤ 2×: ms 20.0 ÷ 10.0 (async) = 2.004 (target ≤ 2) MISSED");
  });
});

describe("a failure is never a good verdict (found by review)", () => {
  test("a peer with a round that did not end ok: its own target is missed, saying why; one compared with it is not measured", () => {
    const rows = bestOf(
      [
        row("corun", undefined, { ms: 5 }),
        row("async", undefined, { ms: 20 }),
        row("corun", undefined, {}, "failed"),
        row("async", undefined, { ms: 21 }),
      ],
      { metric: "ms", better: "lower" },
    );
    const [own] = checkTargets(scenario([{ metric: "ms", vs: "async", max: 0.5, label: "≤ 0.5×" }]), rows);
    expect([own!.met, own!.why]).toEqual([false, "corun: 1 of 2 rounds failed"]);
    expect(describeTarget(own!, (met) => (met ? "met" : "MISSED"))).toBe("(target ≤ 0.5) MISSED (corun: 1 of 2 rounds failed)");
    const swapped = bestOf([row("corun", undefined, { ms: 5 }), row("async", undefined, { ms: 20 }), row("async", undefined, {}, "crashed")], { metric: "ms", better: "lower" });
    const [vs] = checkTargets(scenario([{ metric: "ms", vs: "async", max: 0.5, label: "≤ 0.5×" }]), swapped);
    expect([vs!.met, vs!.why]).toEqual([undefined, "async: 1 of 2 rounds crashed"]);
  });

  test("'the best of the others' is not measured while another peer that ran gave no figure (the fastest may be the one that crashed); a skipped one does not count", () => {
    const s = scenario([{ metric: "mb", vs: BEST_OTHER, min: 0.9, better: "higher", label: "within 10 %" }], "higher");
    const crashed = checkTargets(s, [row("corun", undefined, { mb: 3000 }), { ...row("fs", undefined, {}, "crashed"), error: "killed by SIGSEGV" }, row("effect", undefined, { mb: 3200 })]);
    expect([crashed[0]!.met, crashed[0]!.why]).toEqual([undefined, "fs crashed: killed by SIGSEGV"]);
    const skipped = checkTargets(s, [row("corun", undefined, { mb: 3000 }), row("workers", undefined, {}, "skipped"), row("effect", undefined, { mb: 3200 })]);
    expect([skipped[0]!.met, skipped[0]!.otherPeer]).toEqual([true, "effect"]);
  });
});

test("'the best of the others' is not measured while a peer that ran ok gave no figure for the metric (found by review)", () => {
  const s = scenario([{ metric: "mb", vs: BEST_OTHER, min: 0.9, better: "higher", label: "within 10 %" }], "higher");
  const [t] = checkTargets(s, [row("corun", undefined, { mb: 3000 }), row("fs", undefined, { mb: NaN }), row("effect", undefined, { mb: 3200 })]);
  expect([t!.met, t!.why]).toEqual([undefined, "fs gave no mb"]);
});
