/**
 * The README is the user's manual: every ```ts block in it is run here, as its own program
 * importing "corun" by name, and typechecked, so the examples cannot rot; what a
 * `console.log(...); // output` line says it prints is checked against what it printed (in
 * order; `…` stands for anything, a trailing " (why)" is an explanation, and a comment
 * starting "e.g." is only an illustration). ```typescript blocks are shown only.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const readme = await Bun.file(join(root, "README.md")).text();
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
// Inside the package, so `import "corun"` resolves to this checkout (package self-reference);
// one directory per run, so two suite runs in one checkout do not remove each other's files.
const dir = join(root, ".readme-examples", String(process.pid));
mkdirSync(dir, { recursive: true });
blocks.forEach((code, i) => writeFileSync(join(dir, `example-${i + 1}.ts`), code));
writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../tsconfig.json", include: ["./*.ts"] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README examples", () => {
  test("there are examples to run", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
  });

  test("they typecheck under the project's strict tsconfig", async () => {
    const tsc = join(root, "node_modules", ".bin", "tsc");
    const proc = Bun.spawn([tsc, "--noEmit", "-p", join(dir, "tsconfig.json")], { cwd: root, stdout: "pipe", stderr: "pipe" });
    const [exit, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    if (exit !== 0) console.error(out);
    expect(exit).toBe(0);
  }, 60_000);

  blocks.forEach((code, i) => {
    const title = code.split("\n").find((l) => l.trim() && !l.startsWith("import"))?.trim().slice(0, 60) ?? "";
    test(`example ${i + 1}: ${title}`, async () => {
      const file = join(dir, `example-${i + 1}.ts`);
      const proc = Bun.spawn([process.execPath, file], { cwd: root, stdout: "pipe", stderr: "pipe" });
      const killer = setTimeout(() => proc.kill(), 20_000);
      const [exit, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      clearTimeout(killer);
      if (exit !== 0) console.error(`README example ${i + 1} failed:\n${code}\n${stderr}`);
      expect(exit).toBe(0);
      expect(unprinted(code, stdout)).toEqual([]);
    }, 25_000);
  });
});

/** Whitespace and trailing commas removed: a multi-line object prints as its one-line form. */
const flat = (s: string): string => s.replace(/\s+/g, "").replace(/,([}\]])/g, "$1");

/** The `console.log(...); // output` comments of `code` that `stdout` does not show, in order. */
function unprinted(code: string, stdout: string): string[] {
  const out = flat(stdout);
  let at = 0;
  const missing: string[] = [];
  for (const m of code.matchAll(/console\.log\(.*\);?\s*\/\/\s*(.*)$/gm)) {
    const said = m[1]!.trim();
    if (said.startsWith("e.g.")) continue;
    // The whole comment, or without its trailing " (explanation)".
    const forms = [said, said.replace(/ \([^)]*\)$/, "")];
    const found = forms
      .map((f) => new RegExp(flat(f).split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+?")).exec(out.slice(at)))
      .find((r) => r !== null);
    if (found) at += found.index + found[0].length;
    else missing.push(said);
  }
  return missing;
}
