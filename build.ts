/**
 * Build the `corun` executable: `bun build.ts` → dist/corun, a standalone binary for this
 * host (Bun.build with `compile: true`) embedding the CLI and every benchmark scenario.
 * Works offline: the Bun runtime it embeds is the one running this script.
 * `bun build.ts [OUTFILE]` writes elsewhere (the tests build into a temp dir).
 */
import { resolve } from "node:path";

const outfile = process.argv[2] ? resolve(process.argv[2]) : `${import.meta.dir}/dist/corun`;
const result = await Bun.build({
  entrypoints: [`${import.meta.dir}/src/cli.ts`],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  minify: false,
  sourcemap: "linked",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
for (const out of result.outputs) console.log(`built ${out.path}`);
