/**
 * The contract between the benchmark harness and a scenario module: a scenario names its
 * peers, each peer measures in its own child process and returns metric → number.
 * Imports nothing; scenario files import only the types from here.
 */

/** Options every peer gets. `tiny` is a hidden test size (smaller still than `quick`). */
export interface PeerOptions {
  /** A shorter run (`corun bench --quick`, `npm run bench`). */
  quick: boolean;
  /** Hidden: smallest sizes, for the harness's own tests. Implies `quick`. */
  tiny?: boolean;
  /** Which variant (size) to run, when the scenario declares `variants`. */
  variant?: string;
  /** The command that re-runs this program (`corun`, or bun + src/cli.ts), for peers that start helper processes. */
  command?: string[];
}

/** One peer's measurement: metric name → number (the harness adds wall time and peak RSS). */
export type PeerFn = (opts: PeerOptions) => Promise<Record<string, number>>;

/**
 * A target the harness checks after a run: a peer's own figure against a bound, e.g.
 * `{ metric: "switch_ratio", max: 2 }`, or with `vs` its ratio to another peer's figure in
 * the same run, e.g. `{ metric: "overhead_ms", vs: "async/await", max: 0.5 }` (corun's ÷ theirs).
 */
export interface Target {
  /** Metric of the `corun` peer (or `peer`) to check; also `peak_rss_mb` or `wall_ms`. */
  metric: string;
  /** Compare as a ratio: this peer's figure ÷ that peer's, or ÷ the best of the others' (`"best other"`). */
  vs?: string;
  /** Only at these variants (sizes); default every one. */
  variants?: string[];
  /** With `vs: "best other"`: which way is better for `metric` (default: the primary metric's way for it, else lower). */
  better?: "lower" | "higher";
  /** Pass if the value is at most this... */
  max?: number;
  /** ...and/or at least this. */
  min?: number;
  /** What the target means, for the report. */
  label: string;
  /** Which peer's figure to check; default `corun`. */
  peer?: string;
}

/**
 * A benchmark scenario. Export it as `scenario` from `bench/scenarios/<name>.ts`.
 *
 * @example
 * ```ts
 * import type { Scenario } from "../scenario.ts";
 * export const scenario: Scenario = {
 *   name: "noop",
 *   description: "does nothing, fast",
 *   primary: { metric: "ops_per_s", better: "higher" },
 *   peers: {
 *     corun: async () => ({ ops_per_s: 1e6 }),
 *     "async/await": async () => ({ ops_per_s: 9e5 }),
 *   },
 * };
 * ```
 */
export interface Scenario {
  name: string;
  description: string;
  /** Peer name → measurement. The `corun` peer is the reference for the ratio column. */
  peers: Record<string, PeerFn>;
  /** The metric the table ranks peers by. Default: the first metric the corun peer returns, lower is better. */
  primary?: { metric: string; better: "lower" | "higher" };
  /** Figures to check after the run (shown as met / missed; never a failure of the run). */
  targets?: Target[];
  /**
   * Sizes to run, each as its own table (and each peer × variant in its own process).
   * Omit for a single run; a peer then gets `variant: undefined`.
   */
  variants?: (opts: PeerOptions) => string[];
  /** A remark for a result row (e.g. "capped at 256 workers"); empty for none. */
  note?: (metrics: Record<string, number>, peer: string) => string;
  /** Why `peer` is not run at `variant` (e.g. it needs more memory than the machine has); undefined to run it. */
  skip?: (peer: string, variant: string | undefined) => string | undefined;
  /** "vertical": one row per metric and a column per peer (for many metrics and few peers). */
  layout?: "table" | "vertical";
  /**
   * Measure each peer this many times, interleaved (all peers once, then again...), and
   * report each peer's best run: for short scenarios on a noisy machine. Default 1.
   */
  rounds?: (opts: PeerOptions) => number;
  /** Per-peer child timeout in seconds (default: 90 quick, 300 full). */
  timeoutSec?: number;
  /** Not listed and not run by default (harness self-tests). */
  hidden?: boolean;
}
