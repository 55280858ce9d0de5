/**
 * Run one scenario in this process, without the harness (`bun bench/scenarios/<name>.ts
 * [--quick] [--peer=NAME]`): every variant × peer in turn, one JSON line each. For working
 * on a scenario; `corun bench` is the measurement (a process per peer).
 */
import type { Scenario } from "../scenario.ts";

/**
 * Run `scenario`'s peers here and print each one's metrics, then exit.
 *
 * @example
 * ```ts
 * if (import.meta.main) await runStandalone(scenario);
 * ```
 */
export async function runStandalone(scenario: Scenario): Promise<never> {
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((a) => a.startsWith("--peer="))?.slice(7);
  for (const variant of scenario.variants?.({ quick }) ?? [undefined]) {
    for (const [name, peer] of Object.entries(scenario.peers)) {
      if (only !== undefined && name !== only) continue;
      const label = `${variant === undefined ? "" : `${variant} `}${name.padEnd(16)}`;
      const t0 = performance.now();
      try {
        const m = await peer({ quick, ...(variant === undefined ? {} : { variant }) });
        console.log(label, JSON.stringify(m), `${Math.round(performance.now() - t0)} ms`);
      } catch (error) {
        console.log(label, "FAILED", error instanceof Error ? error.message : String(error));
      }
    }
  }
  // Servers, sockets or timers a peer left behind must not keep the process alive.
  process.exit(0);
}
