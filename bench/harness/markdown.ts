/**
 * Reporting only: a bench JSON report as Markdown (one table per scenario variant, then the
 * targets), for the README's results section. Pure: reads a report object, returns text.
 */
import type { BenchReport } from "./runner.ts";
import type { RunResult } from "./spawn-child.ts";
import { fmt, okNote, ratioToCorun, type Primary } from "./table.ts";
import { describeTarget } from "./targets.ts";

/**
 * Markdown tables for `report`: one per scenario variant, ranked by the scenario's primary
 * metric; scenarios with the vertical layout (or no primary) get one column per peer.
 *
 * @example
 * ```ts
 * const md = toMarkdown(await Bun.file("dist/bench.json").json());
 * ```
 */
export function toMarkdown(report: BenchReport): string {
  const out: string[] = [];
  const h = report.host;
  out.push(`\`corun bench\` (${report.mode}), corun ${report.version}, ${report.started.slice(0, 16).replace("T", " ")} UTC, ${h.platform}/${h.arch}, ${h.cpus} CPUs, Bun ${h.bun}.`);
  const groups = new Map<string, RunResult[]>();
  for (const r of report.results) {
    const key = `${r.scenario}${r.variant ? ` [${r.variant}]` : ""}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  for (const [title, rows] of groups) {
    const info = report.scenarios[rows[0]!.scenario];
    const primary = info?.layout === "vertical" ? undefined : info?.primary;
    out.push("", primary ? tableRows(title, rows, primary) : verticalRows(title, rows));
  }
  const targets = report.targets.map((t) => `| ${t.scenario}${t.variant ? ` [${t.variant}]` : ""} | ${t.label} | ${describeTarget(t, (met) => (met ? "met" : "**missed**"))} |`);
  if (targets.length > 0) out.push("", "**Targets**, checked by `corun bench` in this run", "", "| scenario | target | figure and verdict |", "|---|---|---|", ...targets);
  return out.join("\n");
}

function statusOf(r: RunResult): string {
  if (r.status === "ok") return okNote(r);
  return `${r.status}: ${(r.error ?? "").replaceAll("|", "\\|")}`;
}

function tableRows(title: string, rows: RunResult[], p: Primary): string {
  const lines = rows.map((r) => {
    const v = r.status === "ok" ? r.metrics[p.metric] : undefined;
    const q = ratioToCorun(rows, r, p);
    const ratio = q === undefined ? "–" : `${q.toFixed(2)}×`;
    return `| ${r.peer} | ${fmt(v)} | ${ratio} | ${fmt(r.peak_rss_mb)} | ${statusOf(r)} |`;
  });
  return [`**${title}** — ${p.metric}, ${p.better} is better`, "", `| peer | ${p.metric} | ÷ corun | peak RSS MB | note |`, "|---|--:|--:|--:|---|", ...lines].join("\n");
}

function verticalRows(title: string, rows: RunResult[]): string {
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const lines = metrics.map((m) => `| ${m} | ${rows.map((r) => fmt(r.metrics[m])).join(" | ")} |`);
  // A peer that did not end ok says why (its metrics are empty).
  if (rows.some((r) => r.status !== "ok")) lines.push(`| status | ${rows.map(statusOf).join(" | ")} |`);
  return [`**${title}**`, "", `| metric | ${rows.map((r) => r.peer).join(" | ")} |`, `|---|${rows.map(() => "--:").join("|")}|`, ...lines].join("\n");
}
