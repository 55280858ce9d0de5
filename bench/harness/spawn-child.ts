/**
 * The parent side of one measurement: start a child process for scenario × variant × peer,
 * enforce its timeout, and turn its result line (or its crash, or its silence) into a RunResult.
 * Must not import scenarios: it only launches processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin } from "node:path";
import { RESULT_MARK, SCRATCH_ENV, type ChildResult } from "./child.ts";

/** The outcome of one scenario × variant × peer, as shown in the table and the JSON. */
export interface RunResult {
  scenario: string;
  variant: string | undefined;
  peer: string;
  /** ok; failed (the peer threw); crashed (the process died); timeout; skipped. */
  status: "ok" | "failed" | "crashed" | "timeout" | "skipped";
  metrics: Record<string, number>;
  wall_ms: number | undefined;
  peak_rss_mb: number | undefined;
  /** Why it is not ok: the error, the exit code and last stderr line, or the skip reason. */
  error?: string;
  /** The scenario's remark on this row (e.g. a cap). */
  note?: string;
  /** Seconds the child process lived, start-up included. */
  elapsed_s: number;
  /** With several rounds: the primary metric of every ok run, in order (this row is the best). */
  rounds?: number[];
  /** With several rounds, some not ok: how many and why (the row's figures are the best ok round's; its targets are not met). */
  failedRounds?: string;
}

/** The children running now: killed with the parent (a SIGTERM or SIGINT to `corun bench` must not orphan them). */
const running = new Set<{ kill(signal?: number | NodeJS.Signals): void }>();
/** Their scratch directories, removed with them. */
const scratches = new Set<string>();
let guarded = false;

/** Once: on SIGINT/SIGTERM, kill every running child and remove its scratch, then exit as the signal would (128 + its number). */
function guardChildren(): void {
  if (guarded) return;
  guarded = true;
  const stopAll = (): void => {
    for (const p of running) p.kill("SIGKILL");
    for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
  };
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(sig, () => {
      stopAll();
      process.exit(code);
    });
  }
  process.once("exit", stopAll);
}

/** What to run in one child. */
export interface ChildJob {
  scenario: string;
  variant: string | undefined;
  peer: string;
  quick: boolean;
  tiny: boolean;
  timeoutSec: number;
}

/**
 * Run one job in a child process: `[...command, "__bench-child", scenario, peer, flags]`.
 * `onTick(seconds)` is called every `tickSec` while it runs (for progress output).
 *
 * @example
 * ```ts
 * const r = await runInChild([process.execPath], { scenario: "concurrent", variant: "100k", peer: "corun", quick: true, tiny: false, timeoutSec: 60 });
 * ```
 */
export async function runInChild(command: string[], job: ChildJob, onTick?: (seconds: number) => void, tickSec = 15): Promise<RunResult> {
  const args = [...command, "__bench-child", job.scenario, job.peer];
  if (job.variant !== undefined) args.push("--variant", job.variant);
  if (job.quick) args.push("--quick");
  if (job.tiny) args.push("--tiny");
  const base = { scenario: job.scenario, variant: job.variant, peer: job.peer };
  const t0 = performance.now();
  let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  let scratch: string | undefined;
  try {
    guardChildren();
    scratch = mkdtempSync(pathJoin(tmpdir(), "corun-bench-"));
    scratches.add(scratch);
    proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, [SCRATCH_ENV]: scratch } });
    running.add(proc);
  } catch (error) {
    if (scratch !== undefined) removeScratch(scratch);
    return { ...base, status: "crashed", metrics: {}, wall_ms: undefined, peak_rss_mb: undefined, error: `could not start: ${String(error)}`, elapsed_s: 0 };
  }
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, job.timeoutSec * 1000);
  const ticker = onTick ? setInterval(() => onTick(Math.round((performance.now() - t0) / 1000)), tickSec * 1000) : undefined;
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const elapsed_s = (performance.now() - t0) / 1000;
    const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK));
    if (timedOut) {
      return { ...base, status: "timeout", metrics: {}, wall_ms: undefined, peak_rss_mb: undefined, error: `no result after ${job.timeoutSec} s (killed)`, elapsed_s };
    }
    if (line === undefined) {
      const why = proc.signalCode ? `killed by ${proc.signalCode}` : `exit code ${code}`;
      return { ...base, status: "crashed", metrics: {}, wall_ms: undefined, peak_rss_mb: undefined, error: `${why}: ${lastLine(stderr) || lastLine(stdout) || "no output"}`, elapsed_s };
    }
    let r: ChildResult;
    try {
      r = JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult;
    } catch {
      return { ...base, status: "crashed", metrics: {}, wall_ms: undefined, peak_rss_mb: undefined, error: `its result line is not JSON: ${line.slice(0, 120)}`, elapsed_s };
    }
    if (!isChildResult(r)) {
      return { ...base, status: "crashed", metrics: {}, wall_ms: undefined, peak_rss_mb: undefined, error: `its result line is not a result ({ ok, metrics, ... }): ${line.slice(0, 120)}`, elapsed_s };
    }
    return {
      ...base,
      status: r.ok ? "ok" : "failed",
      metrics: r.metrics,
      wall_ms: r.wall_ms,
      peak_rss_mb: r.peak_rss_mb,
      ...(r.error !== undefined ? { error: r.error } : {}),
      elapsed_s,
    };
  } finally {
    running.delete(proc);
    clearTimeout(killer);
    if (ticker !== undefined) clearInterval(ticker);
    removeScratch(scratch);
  }
}

/** A child's result of the right shape: `ok`, an object of metrics, numbers or nothing for the rest. */
function isChildResult(r: unknown): r is ChildResult {
  if (r === null || typeof r !== "object") return false;
  const c = r as Partial<Record<keyof ChildResult, unknown>>;
  const num = (x: unknown): boolean => x === undefined || x === null || typeof x === "number";
  const metricsOk = c.metrics !== null && typeof c.metrics === "object" && !Array.isArray(c.metrics) && Object.values(c.metrics).every((v) => typeof v === "number");
  return typeof c.ok === "boolean" && metricsOk && num(c.wall_ms) && num(c.peak_rss_mb) && (c.error === undefined || typeof c.error === "string");
}

function removeScratch(dir: string | undefined): void {
  if (dir === undefined) return;
  scratches.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left behind (it cannot be removed): not a reason to lose the run's result.
  }
}


/** The most telling line of a crash's output: the last error-looking line, else the last line. */
function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("Bun v"));
  const err = lines.findLast((l) => /error|exception|panic|killed|abort/i.test(l));
  const pick = err ?? lines.at(-1) ?? "";
  return pick.length > 200 ? pick.slice(0, 200) + "…" : pick;
}
