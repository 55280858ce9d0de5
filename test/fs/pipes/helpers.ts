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

/** python3 is here (the terminal tests drive a pseudo-terminal with it). */
export const hasPython = Bun.spawnSync(["sh", "-c", "command -v python3"]).exitCode === 0;

/**
 * Python source that runs the command in its argv on a pseudo-terminal, runs `feed` (Python
 * statements writing to the terminal: `time.sleep(1.0); os.write(fd, b"abc\\n")`), then prints
 * the child's RESULT and Error lines (for at most 3 s, or until a RESULT line has come) and kills it.
 */
export function ptyDriver(feed: string): string {
  return `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
${feed}
out, end = b"", time.time() + 3
while time.time() < end:
    if select.select([fd], [], [], 0.2)[0]:
        try: d = os.read(fd, 4096)
        except OSError: break
        if not d: break
        out += d
        if b"RESULT" in out and out.endswith(b"\\n"): break
print("\\n".join(l for l in out.decode(errors="replace").splitlines() if "RESULT" in l or "Error" in l))
try: os.kill(pid, 9)
except Exception: pass
`;
}
