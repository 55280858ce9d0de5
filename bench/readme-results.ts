/**
 * Refresh the README's results block from a bench JSON report:
 *   ./dist/corun bench && ./node_modules/.bin/bun bench/readme-results.ts [dist/bench.json]
 * Replaces only the lines between `<!-- BENCH-RESULTS -->` and `<!-- /BENCH-RESULTS -->`.
 * `--print` writes the Markdown to stdout instead.
 */
import { toMarkdown } from "./harness/markdown.ts";
import type { BenchReport } from "./harness/runner.ts";

const args = process.argv.slice(2);
const print = args.includes("--print");
const file = args.find((a) => !a.startsWith("--")) ?? "dist/bench.json";
const report = (await Bun.file(file).json()) as BenchReport;
if (report.tool !== "corun bench" || !Array.isArray(report.results)) throw new Error(`${file} is not a corun bench report`);
const md = toMarkdown(report);
if (print) {
  console.log(md);
} else {
  const readmePath = `${import.meta.dir}/../README.md`;
  const readme = await Bun.file(readmePath).text();
  const start = readme.indexOf("<!-- BENCH-RESULTS");
  const endMark = "<!-- /BENCH-RESULTS -->";
  const end = readme.indexOf(endMark);
  if (start < 0 || end < start) throw new Error("README.md has no <!-- BENCH-RESULTS --> … <!-- /BENCH-RESULTS --> block");
  const open = readme.slice(start, readme.indexOf("\n", start) + 1);
  await Bun.write(readmePath, readme.slice(0, start) + open + md + "\n" + readme.slice(end));
  console.log(`README.md: results block refreshed from ${file}`);
}
