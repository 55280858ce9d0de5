/**
 * Scenario "micro": mitata measurements of corun's hot paths against their baselines in one
 * process (context switch vs a bare generator loop, spawn+join vs async/await, sleep(0),
 * 100k sleepers vs Bun.sleep), reported as ns per op and as ratios checked against targets.
 */
import { measure } from "mitata";
import { makePairs, startHost, SIZES, type MicroSizes } from "../lib/micro-cases.ts";
import type { PeerOptions, Scenario } from "../scenario.ts";

const TINY: MicroSizes = { switchTasks: 100, switchRounds: 10, spawnBatch: 100, sleep0Count: 10, sleepers: 1000, sleepMs: 10 };

/**
 * mitata options per mode (`min_cpu_time` is in ns) and alternating rounds per case.
 * `batch_threshold: 0`: every sample is one call on both sides. (mitata batches a function
 * faster than 65 µs into averages of 4096 calls, so a fast baseline and a slower corun side
 * would otherwise be compared as two different statistics.)
 */
function mitataOptions(opts: PeerOptions): { rounds: number; m: { min_cpu_time: number; min_samples: number; warmup_samples: number; batch_threshold: number } } {
  if (opts.tiny) return { rounds: 1, m: { min_cpu_time: 5e6, min_samples: 2, warmup_samples: 1, batch_threshold: 0 } };
  if (opts.quick) return { rounds: 2, m: { min_cpu_time: 150e6, min_samples: 6, warmup_samples: 2, batch_threshold: 0 } };
  return { rounds: 4, m: { min_cpu_time: 250e6, min_samples: 8, warmup_samples: 2, batch_threshold: 0 } };
}

async function corunVsBaselines(opts: PeerOptions): Promise<Record<string, number>> {
  const host = startHost();
  const out: Record<string, number> = {};
  const { rounds, m } = mitataOptions(opts);
  try {
    const pairs = makePairs(host, opts.tiny ? TINY : SIZES);
    // Warm every case, both sides, before measuring any: the engine's shared generator and
    // promise paths then see every shape first, so no side is measured in a fresher JIT state.
    for (let round = 0; round < (opts.tiny ? 1 : 3); round++) {
      for (const p of pairs) {
        await p.corun();
        await p.baseline();
      }
    }
    for (const p of pairs) {
      // Alternate the sides for a few rounds and keep each side's best median (ns per call):
      // on a shared machine, load and JIT tiering move single figures by 2×.
      let c = Infinity;
      let b = Infinity;
      for (let r = 0; r < rounds; r++) {
        c = Math.min(c, (await measure(p.corun, m)).p50);
        b = Math.min(b, (await measure(p.baseline, m)).p50);
      }
      c -= p.idleNs; // minus the idle part (a sleep's own duration)
      b -= p.idleNs;
      if (p.idleNs > 0) {
        out[`${p.key}_overhead_ms`] = c / 1e6;
        out[`${p.key}_baseline_overhead_ms`] = b / 1e6;
      } else {
        out[`${p.key}_ns`] = c / p.ops;
        out[`${p.key}_baseline_ns`] = b / p.ops;
      }
      out[`${p.key}_ratio`] = c / b;
    }
  } finally {
    await host.close();
  }
  return out;
}

/** The "micro" scenario. */
export const scenario: Scenario = {
  name: "micro",
  description: "hot paths vs baselines (mitata, one process): switch, spawn+join, sleep(0), 100k sleepers",
  primary: { metric: "switch_ratio", better: "lower" },
  layout: "vertical",
  targets: [
    { metric: "switch_ratio", max: 2, label: "yield round trip ≤ 2× a bare generator.next() loop" },
    { metric: "spawn_join_ratio", max: 1.5, label: "spawn+join ≤ 1.5× async call + await" },
    { metric: "sleepers_ratio", max: 0.5, label: "100k sleepers' overhead ≤ 0.5× 100k Bun.sleep's" },
  ],
  peers: { corun: corunVsBaselines },
};
