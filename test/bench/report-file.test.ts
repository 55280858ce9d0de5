/**
 * `corun bench --json` targets (found by review): a FIFO with a reader, our own redirected
 * stdout, links with relative targets through a linked directory, a file under /dev/shm in a
 * directory not made yet, and a directory the report cannot be renamed into. Each run is the
 * tiny selftest (a few seconds), through `bun src/cli.ts`.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { partName } from "../../bench/harness/report-file.ts";

const root = join(import.meta.dir, "../..");
const cli = join(root, "src/cli.ts");
const dir = mkdtempSync(join(tmpdir(), "corun-report-file-"));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(json: string, cwd = dir, pre: string[] = []): { code: number; stdout: string; stderr: string } {
  // SIGKILL: a process blocked opening a FIFO never runs its SIGTERM handler.
  const p = Bun.spawnSync([...pre, process.execPath, cli, "bench", "selftest", "--tiny", "--timeout", "2", "--json", json], { cwd, stdout: "pipe", stderr: "pipe", timeout: 30_000, killSignal: "SIGKILL" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

test("a FIFO with a reader: the reader gets the report and the run ends (it hung: the check's open and close ended the reader)", async () => {
  const fifo = join(dir, "fifo");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
  try {
    await Bun.sleep(200);
    expect(bench(fifo).code).toBe(0);
    expect(await new Response(reader.stdout).text()).toContain('"tool": "corun bench"');
  } finally {
    reader.kill();
  }
}, 60_000);

test("/dev/stdout redirected to a file: the progress stays and the JSON follows it whole (the file was truncated, then overwritten)", () => {
  const out = join(dir, "redirected.txt");
  const r = Bun.spawnSync(["sh", "-c", `'${process.execPath}' '${cli}' bench selftest --tiny --timeout 2 --json /dev/stdout > '${out}'`], { cwd: dir, timeout: 30_000, stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  const text = readFileSync(out, "utf8");
  expect(text).toContain("[1/8] selftest");
  const json = text.slice(text.indexOf("{\n"), text.lastIndexOf("\n}\n") + 3);
  expect(JSON.parse(json).tool).toBe("corun bench");
}, 60_000);

test("a link with a relative '..' target reached through a linked directory: the file the kernel resolves gets the report", () => {
  const base = join(dir, "u");
  mkdirSync(join(base, "real/a/b"), { recursive: true });
  mkdirSync(join(base, "work"));
  writeFileSync(join(base, "real/a/r.json"), '{"old":true}\n');
  symlinkSync("../real/a/b", join(base, "work/dirlink"));
  symlinkSync("../r.json", join(base, "real/a/b/x.json"));
  expect(bench("work/dirlink/x.json", base).code).toBe(0);
  expect(JSON.parse(readFileSync(join(base, "real/a/r.json"), "utf8")).tool).toBe("corun bench");
  expect(existsSync(join(base, "work/r.json"))).toBe(false);
}, 60_000);

test.if(existsSync("/dev/shm"))("a regular file under /dev/shm in a directory not made yet is written (it was refused)", () => {
  const sub = `/dev/shm/corun-report-file-${process.pid}`;
  try {
    const r = bench(`${sub}/run/r.json`);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(JSON.parse(readFileSync(`${sub}/run/r.json`, "utf8")).tool).toBe("corun bench");
  } finally {
    rmSync(sub, { recursive: true, force: true });
  }
}, 60_000);

test("a writable file in a directory the report cannot be renamed into: refused before any run (it failed after every run)", () => {
  const ro = join(dir, "ro");
  mkdirSync(ro);
  writeFileSync(join(ro, "report.json"), "{}\n");
  chmodSync(join(ro, "report.json"), 0o666);
  const asRoot = process.getuid?.() === 0;
  const pre = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  if (!asRoot) chmodSync(ro, 0o555);
  try {
    const r = bench(join(ro, "report.json"), dir, pre);
    expect({ code: r.code, ran: r.stdout.includes("[1/8]") }).toEqual({ code: 2, ran: false });
  } finally {
    chmodSync(ro, 0o755);
  }
}, 60_000);

test("a directory given as --json is refused before any run (every run went by, then the report was lost to EISDIR; found by review)", () => {
  const sub = join(dir, "a-directory");
  mkdirSync(sub);
  const r = bench(sub);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`--json ${sub}: cannot write there (EISDIR)`);
  expect(r.stdout).not.toContain("[1/");
}, 60_000);

test("a report named as long as a name may be is written, and no temporary file is left (its temporary name passed the limit; found by review)", () => {
  const long = join(dir, `${"a".repeat(250)}.json`);
  const r = bench(long);
  expect([r.code, r.stderr]).toEqual([0, ""]);
  expect(JSON.parse(readFileSync(long, "utf8")).tool).toBe("corun bench");
  expect(readdirSync(dir).filter((f) => f.includes(".part"))).toEqual([]);
}, 60_000);

test("the temporary file's name is new on every call: runs that share a pid (in other PID namespaces) and a directory never share one (found by review)", () => {
  const a = partName(join(dir, "a.json"));
  const b = partName(join(dir, "b.json"));
  expect(a).not.toBe(b);
  expect(partName(join(dir, "a.json"))).not.toBe(a);
  expect(dirname(a)).toBe(dir);
  expect(basename(a).length).toBeLessThan(64);
});
