/**
 * Reporting only (mitata's rule: measuring is separate): format one scenario variant's results
 * as a text table with each peer's figures and its ratio to corun on the primary metric.
 * Imports no scenario and runs nothing.
 */
import type { RunResult } from "./spawn-child.ts";

/** Which metric ranks the peers, and which way is better. */
export interface Primary {
  metric: string;
  better: "lower" | "higher";
}

/** Metrics not worth a column of their own (sizes the variant already names). */
const QUIET = new Set(["n", "tasks", "sleep_ms", "worker_cap", "files", "bytes", "rounds"]);

/**
 * A number in a short, readable form: 3 significant digits, thousands grouped.
 *
 * @example
 * ```ts
 * fmt(1234.567); // "1,235"
 * fmt(0.012345); // "0.0123"
 * ```
 */
export function fmt(x: number | undefined | null): string {
  if (typeof x !== "number" || Number.isNaN(x)) return "–"; // null: a NaN that went through JSON
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "-∞";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  return x.toPrecision(3);
}

/**
 * Peer ÷ corun on the primary metric, or undefined when either is missing or corun's is 0, or
 * when the peer did less of the work (a Worker peer capped at a few hundred tasks: `tasks`
 * or `ran` below `n`), which no ratio can compare.
 *
 * @example
 * ```ts
 * ratioToCorun(rows, rows[1]!, { metric: "overhead_ms", better: "lower" }); // e.g. 2.5
 * ```
 */
export function ratioToCorun(rows: RunResult[], row: RunResult, primary: Primary): number | undefined {
  const ref = rows.find((r) => r.peer === "corun" && r.status === "ok")?.metrics[primary.metric];
  const v = row.status === "ok" ? row.metrics[primary.metric] : undefined;
  if (ref === undefined || v === undefined || ref === 0) return undefined;
  const m = row.metrics;
  if (m.n !== undefined && ((m.tasks !== undefined && m.tasks < m.n) || (m.ran !== undefined && m.ran < m.n))) return undefined;
  return v / ref;
}

/**
 * The note of an ok row: its rounds (when the peer ran several, "best of 3: a / b / c") and
 * the scenario's remark.
 *
 * @example
 * ```ts
 * okNote({ ...row, rounds: [1500, 3000, 2000] }); // "best of 3: 1,500 / 3,000 / 2,000"
 * ```
 */
export function okNote(r: RunResult): string {
  const runs = r.rounds !== undefined && r.rounds.length > 1 ? `best of ${r.rounds.length}: ${r.rounds.map(fmt).join(" / ")}` : "";
  return [runs, r.note ?? ""].filter(Boolean).join("; ");
}

/**
 * The table for one scenario variant.
 *
 * @example
 * ```ts
 * console.log(formatTable("concurrent 100k", rows, { metric: "overhead_ms", better: "lower" }));
 * ```
 */
export function formatTable(title: string, rows: RunResult[], primary: Primary): string {
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].filter((m) => m !== primary.metric && !QUIET.has(m));
  const head = ["peer", primary.metric, "÷ corun", "wall s", "peak RSS MB", ...extra, "status / note"];
  const body = rows.map((r) => {
    const ratio = ratioToCorun(rows, r, primary);
    const status = r.status === "ok" ? okNote(r) : `${r.status.toUpperCase()}: ${r.error ?? ""}`;
    return [
      r.peer,
      fmt(r.metrics[primary.metric]),
      ratio === undefined ? "–" : `${ratio.toFixed(2)}×`,
      r.wall_ms === undefined ? "–" : r.wall_ms < 10 ? "<0.01" : (r.wall_ms / 1000).toFixed(2),
      fmt(r.peak_rss_mb),
      ...extra.map((m) => fmt(r.metrics[m])),
      status,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const dir = primary.better === "lower" ? "lower is better" : "higher is better";
  return [
    `${title}  (${primary.metric}: ${dir}; ÷ corun = peer's ${primary.metric} / corun's)`,
    line(head),
    line(widths.map((w) => "─".repeat(w))),
    ...body.map(line),
  ].join("\n");
}

/**
 * The vertical form: one row per metric, one column per peer (for scenarios with many
 * metrics and few peers, like `micro`).
 *
 * @example
 * ```ts
 * console.log(formatVertical("micro", rows));
 * ```
 */
export function formatVertical(title: string, rows: RunResult[]): string {
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const head = ["metric", ...rows.map((r) => r.peer)];
  const body: string[][] = [
    ...metrics.map((m) => [m, ...rows.map((r) => fmt(r.metrics[m]))]),
    ["wall s", ...rows.map((r) => (r.wall_ms === undefined ? "–" : (r.wall_ms / 1000).toFixed(2)))],
    ["peak RSS MB", ...rows.map((r) => fmt(r.peak_rss_mb))],
  ];
  const problems = rows.filter((r) => r.status !== "ok").map((r) => `  ${r.peer}: ${r.status.toUpperCase()}: ${r.error ?? ""}`);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [title, line(head), line(widths.map((w) => "─".repeat(w))), ...body.map(line), ...problems].join("\n");
}
