/**
 * Checking a scenario's targets against one run's results: a peer's own figure against a
 * bound, or its ratio to another peer's figure in the same run (a peer by name, or the best
 * of the others). Pure: reads results, returns verdicts; the runner prints and saves them.
 */
import type { Scenario, Target } from "../scenario.ts";
import type { RunResult } from "./spawn-child.ts";
import { fmt } from "./table.ts";

/** `Target.vs` for "the best of the other peers" (the highest, or the lowest, as the scenario's primary metric goes). */
export const BEST_OTHER = "best other";

/** A checked target, for the report. */
export interface TargetResult extends Target {
  scenario: string;
  variant: string | undefined;
  /** The figure compared with the bound: the peer's own, or (with `vs`) its ratio to the other's. */
  value: number | undefined;
  met: boolean | undefined;
  /** With `vs`: the peer's own figure, the other's, and which peer that was. */
  own?: number;
  other?: number;
  otherPeer?: string;
  /** Why there is no figure: the run left out its size (a `--quick` run measures fewer), or a peer had a round that did not end ok. */
  why?: string;
}

/** A row's figure: one of its metrics, or its `peak_rss_mb` / `wall_ms`; undefined unless a finite number. */
function figure(row: RunResult | undefined, metric: string): number | undefined {
  if (row === undefined || row.status !== "ok") return undefined;
  const raw = row.metrics[metric] ?? (metric === "peak_rss_mb" ? row.peak_rss_mb : metric === "wall_ms" ? row.wall_ms : undefined);
  // A figure that could not be measured (NaN or ±∞, written to JSON as null) meets nothing.
  return typeof raw === "number" && Number.isFinite(raw) ? raw : undefined;
}

/**
 * One verdict per target and variant (each variant is its own measurement): met, missed, or
 * not measured (a peer that failed, was skipped, or gave no such figure).
 *
 * @example
 * ```ts
 * checkTargets(scenario, report.results); // [{ label, value: 1.45, met: false, ... }]
 * ```
 */
export function checkTargets(s: Scenario, results: RunResult[]): TargetResult[] {
  const variants = [...new Set(results.filter((r) => r.scenario === s.name).map((r) => r.variant))];
  return (s.targets ?? []).flatMap((t) => [
    ...variants
      .filter((variant) => t.variants === undefined || (variant !== undefined && t.variants.includes(variant)))
      .map((variant): TargetResult => {
        const rows = results.filter((r) => r.scenario === s.name && r.variant === variant);
        const peer = t.peer ?? "corun";
        // A peer with a round that did not end ok: its best round is no verdict (its own target is
        // missed; one compared with it was not measured).
        const ownRow = rows.find((r) => r.peer === peer);
        if (ownRow?.failedRounds !== undefined) return { ...t, scenario: s.name, variant, value: undefined, met: false, why: `${peer}: ${ownRow.failedRounds}` };
        const own = figure(rows.find((r) => r.peer === peer), t.metric);
        let value = own;
        let extra: Partial<TargetResult> = {};
        // Which of the others is best: by the target's own direction, else the scenario's primary one.
        const higher = (t.better ?? (t.metric === s.primary?.metric ? s.primary.better : "lower")) === "higher";
        if (t.vs !== undefined) {
          let otherPeer: string | undefined = t.vs;
          let other: number | undefined;
          if (t.vs === BEST_OTHER) {
            otherPeer = undefined;
            // "The fastest peer" is unknown while a peer that ran gave no figure, or failed a round.
            const missing = rows.find((r) => {
              if (r.peer === peer || r.status === "skipped") return false;
              const f = figure(r, t.metric);
              return r.failedRounds !== undefined || f === undefined || f <= 0;
            });
            if (missing !== undefined) {
              const why = missing.failedRounds ?? (missing.status !== "ok" ? `${missing.status}${missing.error ? `: ${missing.error}` : ""}` : `gave no ${t.metric}`);
              return { ...t, scenario: s.name, variant, value: undefined, met: undefined, why: `${missing.peer} ${why}` };
            }
            for (const r of rows) {
              const f = r.peer === peer ? undefined : figure(r, t.metric);
              // A figure of zero or less is no measurement (below): never the best.
              if (f !== undefined && f > 0 && (other === undefined || (higher ? f > other : f < other))) [other, otherPeer] = [f, r.peer];
            }
          } else {
            const vsRow = rows.find((r) => r.peer === t.vs);
            if (vsRow?.failedRounds !== undefined) return { ...t, scenario: s.name, variant, value: undefined, met: undefined, why: `${t.vs}: ${vsRow.failedRounds}` };
            other = figure(vsRow, t.metric);
          }
          // Figures that cannot be negative: a negative one is no measurement, nor a divisor of zero
          // (an own figure of zero is a ratio of zero: a rate of nothing misses a minimum).
          value = own === undefined || other === undefined || own < 0 || other <= 0 ? undefined : own / other;
          extra = { own, other, otherPeer };
        }
        const met = value === undefined ? undefined : (t.max === undefined || value <= t.max) && (t.min === undefined || value >= t.min);
        return { ...t, scenario: s.name, variant, value, met, ...extra };
      }),
    // The sizes it names that this run did not measure: listed as such, not left out.
    ...(t.variants ?? [])
      .filter((variant) => !variants.includes(variant))
      .map((variant): TargetResult => ({ ...t, scenario: s.name, variant, value: undefined, met: undefined, why: "this size was not run" })),
  ]);
}

/**
 * A verdict in words: `overhead_ms 77.7 ÷ 53.5 (async/await) = 1.452 (target ≤ 0.5) MISSED`.
 * Ratios get three decimals, so one just past its bound does not print as the bound itself.
 *
 * @example
 * ```ts
 * describeTarget(result, (met) => (met ? "met" : "MISSED"));
 * ```
 */
export function describeTarget(t: TargetResult, verdictOf: (met: boolean) => string): string {
  const bound = [t.max !== undefined ? `≤ ${t.max}` : "", t.min !== undefined ? `≥ ${t.min}` : ""].filter(Boolean).join(", ");
  const verdict = t.met === undefined ? `not measured${t.why ? ` (${t.why})` : ""}` : `${verdictOf(t.met)}${t.why ? ` (${t.why})` : ""}`;
  if (t.why !== undefined) return `(target ${bound}) ${verdict}`;
  const figureText =
    t.vs === undefined
      ? `${t.metric} = ${fmt(t.value)}`
      : `${t.metric} ${fmt(t.own)} ÷ ${fmt(t.other)}${t.otherPeer ? ` (${t.otherPeer})` : ""} = ${t.value === undefined ? "–" : t.value.toFixed(3)}`;
  return `${figureText} (target ${bound}) ${verdict}`;
}

/**
 * The targets as the terminal report's last section.
 *
 * @example
 * ```ts
 * console.log(formatTargets(report.targets));
 * ```
 */
export function formatTargets(targets: TargetResult[]): string {
  const lines = targets.map((t) => `  ${t.scenario}${t.variant ? ` [${t.variant}]` : ""}: ${t.label}: ${describeTarget(t, (met) => (met ? "met" : "MISSED"))}`);
  return ["Targets", ...lines].join("\n");
}
