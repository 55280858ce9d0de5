/** Pipe test helpers: run a child script under `sh -c` (bounded: killed after `ms`), in a temp dir. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SRC = join(import.meta.dir, "../../../src");
export const BUN = process.execPath;

/**
 * Write `script(src, dir)` to `dir/child.ts` and run `shell` (with $BUN, $CHILD, $D set) in
 * `sh -c`; the whole process group is killed after `ms`. Resolves with trimmed stdout/stderr.
 */
export async function sh(script: (src: string, dir: string) => string, shell: string, ms = 5000): Promise<{ out: string; err: string; killed: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), "corun-pipes-"));
  try {
    const child = join(dir, "child.ts");
    writeFileSync(child, script(SRC, dir));
    const p = Bun.spawn(["setsid", "sh", "-c", shell], { env: { ...process.env, BUN, CHILD: child, D: dir }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-p.pid, "SIGKILL"); // the group setsid made: only what this test started
      } catch {}
    }, ms);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(killer);
    return { out: out.trim(), err: err.trim(), killed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The line of `err` naming the error (a thrown NetError's first line), for a readable failure. */
export const errLine = (err: string) => err.split("\n").find((l) => /Error/.test(l) && !/^\s*\d+ \|/.test(l)) ?? "";
