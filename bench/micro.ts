/**
 * Run alone for mitata's full output: `./node_modules/.bin/bun bench/micro.ts`.
 * The same cases as the `micro` scenario (bench/lib/micro-cases.ts), each corun case in a
 * summary with its baseline; `corun bench micro` reports the same figures as ratios.
 */
import { bench, run, summary } from "mitata";
import { makePairs, startHost, SIZES } from "./lib/micro-cases.ts";

const host = startHost();
for (const p of makePairs(host, SIZES)) {
  summary(() => {
    bench(`corun: ${p.label}`, p.corun);
    bench(`baseline: ${p.baselineLabel}`, p.baseline);
  });
}
await run();
await host.close();
for (const p of makePairs(host, SIZES)) {
  const per = p.ops > 1 ? `divide by ${p.ops.toLocaleString("en-US")} for one op` : `subtract ${p.idleNs / 1e6} ms of sleeping for the overhead`;
  console.log(`${p.key}: times are per call; ${per}`);
}
