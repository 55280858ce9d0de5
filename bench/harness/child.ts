/**
 * The child side of the harness: run one scenario × variant × peer in this process and
 * print one result line (marked, JSON) with the peer's metrics, wall time and peak RSS.
 * Must not import the parent runner: a child knows only its one measurement.
 */
import { writeSync } from "node:fs";
import { tmpdir } from "node:os";
import type { PeerOptions, Scenario } from "../scenario.ts";

/** Prefix of the one stdout line a child prints with its result (peers may print too). */
export const RESULT_MARK = "@@corun-bench-result@@";

/**
 * The environment variable naming a child's scratch directory: a peer puts its temporary files
 * there (`scratchDir()`), and the parent removes it when the child ends, however it ends (a
 * child killed at its timeout, or with the parent, runs no cleanup of its own).
 */
export const SCRATCH_ENV = "CORUN_BENCH_TMP";

/**
 * Where a peer puts temporary files: the scratch directory its parent made and removes, else
 * (a peer run by hand) the system's.
 *
 * @example
 * ```ts
 * const dir = mkdtempSync(join(scratchDir(), "corun-bench-io-"));
 * ```
 */
export function scratchDir(): string {
  return process.env[SCRATCH_ENV] || tmpdir();
}

/** What a child reports. */
export interface ChildResult {
  ok: boolean;
  metrics: Record<string, number>;
  /** Wall time of the peer function, ms. */
  wall_ms: number;
  /** Peak resident set size of the whole child process, MiB. */
  peak_rss_mb: number;
  error?: string;
}

/**
 * Peak RSS of this process in MiB: VmHWM from /proc (Linux), else `resourceUsage().maxRSS`.
 *
 * @example
 * ```ts
 * console.log(peakRssMb() > 0); // true
 * ```
 */
export async function peakRssMb(): Promise<number> {
  try {
    const status = await Bun.file("/proc/self/status").text();
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(status);
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Run `peer` of `scenario` and print its result line, then exit (0 even when the peer threw:
 * the error is in the result; a crash or a hang is for the parent to see).
 *
 * @example
 * ```ts
 * await runChild(scenario, "corun", { quick: true, variant: "100k" });
 * ```
 */
export async function runChild(scenario: Scenario, peer: string, opts: PeerOptions): Promise<never> {
  const fn = scenario.peers[peer];
  let result: ChildResult;
  if (fn === undefined) {
    const known = Object.keys(scenario.peers).join(", ");
    result = { ok: false, metrics: {}, wall_ms: 0, peak_rss_mb: 0, error: `scenario "${scenario.name}" has no peer "${peer}" (peers: ${known})` };
  } else {
    const t0 = performance.now();
    try {
      const metrics = await fn(opts);
      const wall = performance.now() - t0;
      result = { ok: true, metrics: checkMetrics(metrics, peer), wall_ms: wall, peak_rss_mb: await peakRssMb() };
    } catch (error) {
      const wall = performance.now() - t0;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      result = { ok: false, metrics: {}, wall_ms: wall, peak_rss_mb: await peakRssMb(), error: message };
    }
  }
  // Synchronous, so process.exit cannot cut the line off.
  writeSync(1, `\n${RESULT_MARK}${JSON.stringify(result)}\n`);
  // Workers, sockets or timers a peer left behind must not keep the child alive.
  process.exit(0);
}

function checkMetrics(metrics: unknown, peer: string): Record<string, number> {
  if (metrics === null || typeof metrics !== "object") throw new TypeError(`peer "${peer}" returned ${typeof metrics}, not a metrics object`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== "number") throw new TypeError(`peer "${peer}": metric "${k}" is ${typeof v}, not a number`);
    // NaN or ±∞ (a p99 of zero successful requests): not measured, so left out (JSON would make it null).
    if (Number.isFinite(v)) out[k] = v;
  }
  return out;
}
