/**
 * Hidden scenario "selftest": peers that succeed, throw, crash the process and hang, so the
 * harness's own tests can check that each outcome is reported and none is fatal.
 * Never listed and never run by default.
 */
import { writeFileSync, writeSync } from "node:fs";
import { join as pathJoin } from "node:path";
import { RESULT_MARK, scratchDir } from "../harness/child.ts";
import type { Scenario } from "../scenario.ts";

/** The "selftest" scenario (hidden). */
export const scenario: Scenario = {
  name: "selftest",
  description: "harness self-test: one peer of each outcome",
  hidden: true,
  primary: { metric: "value", better: "lower" },
  peers: {
    corun: async () => ({ value: 2 }),
    other: async () => ({ value: 3 }),
    throws: async () => {
      throw new Error("selftest peer threw on purpose");
    },
    crash: async () => {
      console.error("selftest peer exits with code 3 on purpose");
      process.exit(3);
    },
    // Leaves a file in its scratch dir, then hangs: the parent must remove the dir when it kills it.
    hang: () => {
      writeFileSync(pathJoin(scratchDir(), "left-by-hang"), "x");
      return new Promise<Record<string, number>>(() => setInterval(() => {}, 1000));
    },
    garbage: async () => {
      writeSync(1, `\n${RESULT_MARK}this is not JSON\n`);
      process.exit(0);
    },
    shapeless: async () => {
      writeSync(1, `\n${RESULT_MARK}{}\n`);
      process.exit(0);
    },
    unmeasured: async () => ({ value: Number.NaN }),
  },
  targets: [{ peer: "unmeasured", metric: "value", max: 100, label: "selftest: a figure not measured meets no target" }],
};
