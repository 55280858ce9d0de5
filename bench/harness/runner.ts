/**
 * `corun bench`: plan scenario × variant × peer runs, run each in its own child process
 * (one at a time, so peers do not compete for the 2 cores), print progress, a table per
 * scenario variant and the targets, and write every raw figure as JSON.
 */
import type { Scenario } from "../scenario.ts";
import { runInChild, type RunResult } from "./spawn-child.ts";
import { formatTable, formatVertical, type Primary } from "./table.ts";
import { checkTargets, formatTargets, type TargetResult } from "./targets.ts";
import { checkSink, reportSink, writeReport, type ReportSink } from "./report-file.ts";

export type { TargetResult };

/** Options of `corun bench`. */
export interface BenchOptions {
  /** Scenario names; empty for all that are not hidden. */
  names: string[];
  quick: boolean;
  /** Hidden test size. */
  tiny: boolean;
  /** Where to write the JSON report. */
  json: string;
  /** Per-child timeout override, seconds. */
  timeoutSec?: number;
  /** The command that re-executes this program (the binary, or bun + script). */
  command: string[];
  version: string;
  /** Where progress and tables go. */
  out: (text: string) => void;
}

/** The whole JSON report. */
export interface BenchReport {
  tool: "corun bench";
  version: string;
  started: string;
  mode: "full" | "quick" | "tiny";
  host: { platform: string; arch: string; cpus: number; bun: string };
  /** How each scenario run here is reported: its description, primary metric and layout. */
  scenarios: Record<string, { description: string; primary: Primary | undefined; layout: "table" | "vertical" }>;
  /** One row per peer and variant (the best of its rounds, for a scenario with rounds). */
  results: RunResult[];
  targets: TargetResult[];
  /** Every child's own result, each round included, in the order they ran. */
  runs: RunResult[];
}

/**
 * Thrown for a bad scenario name: the CLI prints it and exits 2.
 *
 * @example
 * ```ts
 * try { selectScenarios(all, ["nope"]); } catch (e) { console.log(e instanceof BenchUsageError); } // true
 * ```
 */
export class BenchUsageError extends Error {
  override name = "BenchUsageError";
}

/**
 * Pick the scenarios to run by name (all visible ones when `names` is empty).
 *
 * @example
 * ```ts
 * selectScenarios(allScenarios, ["concurrent"]);
 * ```
 */
export function selectScenarios(all: Scenario[], names: string[]): Scenario[] {
  if (names.length === 0) return all.filter((s) => !s.hidden);
  // A scenario named twice runs once.
  return [...new Set(names)].map((n) => {
    const s = all.find((x) => x.name === n);
    if (s === undefined) {
      const known = all.filter((x) => !x.hidden).map((x) => x.name).join(", ");
      throw new BenchUsageError(`unknown scenario "${n}" (scenarios: ${known})`);
    }
    return s;
  });
}

/**
 * Run the benchmarks and return the report (also written to `opts.json`).
 *
 * @example
 * ```ts
 * await runBench(scenarios, { names: ["concurrent"], quick: true, tiny: false, json: "dist/bench.json", command: [process.execPath], version: "0.1.0", out: (t) => process.stdout.write(t) });
 * ```
 */
export async function runBench(all: Scenario[], opts: BenchOptions): Promise<BenchReport> {
  const chosen = selectScenarios(all, opts.names);
  const sink = checkWritable(opts.json);
  const peerOpts = { quick: opts.quick || opts.tiny, tiny: opts.tiny };
  const jobs = chosen.flatMap((s) =>
    (s.variants?.(peerOpts) ?? [undefined]).flatMap((v) => {
      const rounds = Math.max(1, s.rounds?.(peerOpts) ?? 1);
      return Array.from({ length: rounds }, (_, round) => Object.keys(s.peers).map((peer) => ({ s, v, peer, round, rounds }))).flat();
    }),
  );
  const mode = opts.tiny ? "tiny" : opts.quick ? "quick" : "full";
  const report: BenchReport = {
    tool: "corun bench",
    version: opts.version,
    started: new Date().toISOString(),
    mode,
    host: { platform: process.platform, arch: process.arch, cpus: navigator.hardwareConcurrency, bun: Bun.version },
    scenarios: Object.fromEntries(chosen.map((s) => [s.name, { description: s.description, primary: s.primary, layout: s.layout ?? "table" }])),
    results: [],
    targets: [],
    runs: [],
  };
  const out = opts.out;
  out(`corun ${opts.version} bench (${mode}): ${jobs.length} runs, each in its own process\n`);
  const t0 = performance.now();
  let i = 0;
  const runs = report.runs;
  for (const { s, v, peer, round, rounds } of jobs) {
    i++;
    const label = `[${i}/${jobs.length}] ${s.name}${v ? ` ${v}` : ""} · ${peer}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ""}`;
    const skip = s.skip?.(peer, v);
    let r: RunResult;
    if (skip !== undefined) {
      r = { scenario: s.name, variant: v, peer, status: "skipped", metrics: {}, wall_ms: undefined, peak_rss_mb: undefined, error: skip, elapsed_s: 0 };
      out(`${label} … skipped\n`);
    } else {
      out(`${label} …`);
      const timeoutSec = opts.timeoutSec ?? s.timeoutSec ?? (peerOpts.quick ? 90 : 300);
      r = await runInChild(opts.command, { scenario: s.name, variant: v, peer, quick: peerOpts.quick, tiny: opts.tiny, timeoutSec }, (sec) => out(` ${sec}s…`));
      const note = r.status === "ok" ? s.note?.(r.metrics, peer) : undefined;
      if (note) r.note = note;
      const total = ((performance.now() - t0) / 1000).toFixed(0);
      out(` ${r.status} in ${r.elapsed_s.toFixed(1)} s (total ${total} s)${r.status === "ok" ? "" : `: ${r.error ?? ""}`}\n`);
    }
    runs.push(r);
    if (jobs[i]?.s !== s || jobs[i]?.v !== v) {
      const mine = runs.filter((x) => x.scenario === s.name && x.variant === v);
      report.results.push(...bestOf(mine, primaryOf(s, mine)));
      out(`\n${tableFor(s, v, report.results)}\n\n`);
    }
    // What is done so far, in case the run is cut short (an interrupt keeps it).
    writeReport(sink, JSON.stringify(report, null, 2) + "\n", false);
  }
  report.targets = chosen.flatMap((s) => checkTargets(s, report.results));
  if (report.targets.length > 0) out(`${formatTargets(report.targets)}\n`);
  try {
    writeReport(sink, JSON.stringify(report, null, 2) + "\n", true);
    out(`raw figures: ${opts.json}\n`);
  } catch (error) {
    // A reader that went away (`--json /dev/stdout | head`) is no failure to report, as for the progress.
    if ((error as { code?: unknown } | null)?.code !== "EPIPE") process.stderr.write(`could not write ${opts.json}: ${String(error)}\n`);
    process.exitCode = 1;
  }
  return report;
}

/** Refuse a JSON path that cannot be written before any run, not after all of them. */
function checkWritable(path: string): ReportSink {
  if (path === "") throw new BenchUsageError("--json needs a file path");
  try {
    const sink = reportSink(path);
    checkSink(sink);
    return sink;
  } catch (error) {
    throw new BenchUsageError(`--json ${path}: cannot write there (${(error as { code?: string }).code ?? String(error)})`);
  }
}

/**
 * One row per peer from its runs: the best ok run by the primary metric (the first run if
 * none was ok), with every ok run's figure in `rounds` when there was more than one run.
 * Rounds that did not end ok are not hidden: the row's note says how many and why.
 */
export function bestOf(runs: RunResult[], primary: Primary): RunResult[] {
  const peers = [...new Set(runs.map((r) => r.peer))];
  return peers.map((peer) => {
    const mine = runs.filter((r) => r.peer === peer);
    const ok = mine.filter((r) => r.status === "ok" && r.metrics[primary.metric] !== undefined);
    if (mine.length === 1 || ok.length === 0) return mine[0]!;
    const value = (r: RunResult): number => r.metrics[primary.metric]!;
    const best = ok.reduce((a, b) => (primary.better === "higher" ? (value(b) > value(a) ? b : a) : value(b) < value(a) ? b : a));
    const bad = mine.filter((r) => r.status !== "ok");
    if (bad.length === 0) return { ...best, rounds: ok.map(value) };
    const why = `${bad.length} of ${mine.length} rounds ${bad[0]!.status}${bad[0]!.error ? ` (${bad[0]!.error})` : ""}`;
    return { ...best, rounds: ok.map(value), note: best.note ? `${best.note}; ${why}` : why, failedRounds: why };
  });
}

function primaryOf(s: Scenario, rows: RunResult[]): Primary {
  if (s.primary) return s.primary;
  const first = Object.keys(rows.find((r) => r.peer === "corun")?.metrics ?? rows[0]?.metrics ?? {})[0];
  return { metric: first ?? "wall_ms", better: "lower" };
}

function tableFor(s: Scenario, v: string | undefined, results: RunResult[]): string {
  const rows = results.filter((r) => r.scenario === s.name && r.variant === v);
  const title = `${s.name}${v ? ` [${v}]` : ""}: ${s.description}`;
  return s.layout === "vertical" ? formatVertical(title, rows) : formatTable(title, rows, primaryOf(s, rows));
}
