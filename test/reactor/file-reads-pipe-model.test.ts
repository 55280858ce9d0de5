/**
 * A model check of FileReads on a pipe (file-reads-pipe-model.ts), seeded.
 */
import { expect, test } from "bun:test";
import { runModel } from "./file-reads-pipe-model.ts";
test("FileReads on a pipe, 1,500 seeded random runs with ends: no completion unawaited, no read over its size, give-backs as the rule says, the stream intact (found by review: a give-back crossed an end)", async () => {
  const bad: string[] = [];
  for (let seed = 1; seed <= 1500 && bad.length < 3; seed++) { const e = await runModel(seed, 500, { nulls: true }); if (e) bad.push(e); }
  if (bad.length) console.log(bad.join("\n\n"));
  expect(bad.length).toBe(0);
}, 120_000);
