/**
 * The `corun` executable: built once into a temp dir, then --version, --help, errors, a
 * tiny `bench concurrent` run (table + valid JSON), and a crashing/hanging peer reported
 * rather than fatal. Also `bun src/cli.ts` (the non-compiled self re-exec path).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const root = join(import.meta.dir, "..");
const bun = process.execPath;
let dir = "";
let binary = "";

function sh(cmd: string[], timeoutMs = 20_000, cwd = root): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "corun-cli-test-"));
  binary = join(dir, "corun");
  const b = sh([bun, "build.ts", binary], 60_000);
  if (b.code !== 0) throw new Error(`build failed: ${b.stderr}`);
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("corun binary", () => {
  test("--version prints the package version", () => {
    const r = sh([binary, "--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test("--help lists the commands", () => {
    const r = sh([binary, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("corun bench");
    expect(r.stdout).toContain("--quick");
    expect(r.stdout).toContain("--json FILE");
  });

  test("stdout that fails (a full disk) is one line on stderr and exit 1, not a stack trace (found by review)", () => {
    for (const args of ["--help", "--version", "bench --list"]) {
      const r = sh(["sh", "-c", `'${binary}' ${args} > /dev/full`]);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 1, stderr: "corun: cannot write to stdout: ENOSPC\n" });
    }
  });

  test("--timeout takes plain decimal seconds from 1 (0x10, ' 5' and 1e-9 were taken, the last killing every child at once; found by review)", () => {
    for (const bad of ["0x10", " 5", "1e-9", "0.5", "-1", ""]) {
      const r = sh([binary, "bench", "selftest", "--tiny", "--timeout", bad]);
      expect({ bad, code: r.code }).toEqual({ bad, code: 2 });
      expect(r.stderr).toContain(`--timeout must be a number of seconds from 1 to 2147483, got "${bad}"`);
    }
  });

  test("an unknown command is an error naming it, exit code 2", () => {
    const r = sh([binary, "frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  test("an unknown scenario or option is an error naming it", () => {
    const a = sh([binary, "bench", "no-such-scenario"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown scenario "no-such-scenario"');
    expect(a.stderr).toContain("concurrent");
    const b = sh([binary, "bench", "--fast"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("unknown option --fast");
  });

  test("bench --list names the scenarios but not the hidden self-test", () => {
    const r = sh([binary, "bench", "--list"]);
    expect(r.code).toBe(0);
    for (const s of ["concurrent", "io", "micro"]) expect(r.stdout).toContain(s);
    expect(r.stdout).not.toContain("selftest");
  });

  test("bench concurrent (tiny) prints progress and a table, and writes valid JSON", () => {
    const json = join(dir, "concurrent.json");
    const r = sh([binary, "bench", "concurrent", "--tiny", "--json", json], 30_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("concurrent tiny · corun …");
    expect(r.stdout).toMatch(/concurrent \[tiny\]/);
    expect(r.stdout).toMatch(/peer\s+overhead_ms\s+÷ corun/);
    expect(r.stdout).toMatch(/\ncorun\s+\S+\s+1\.00×/);
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.version).toBe(pkg.version);
    expect(report.mode).toBe("tiny");
    const peers = report.results.map((x: { peer: string }) => x.peer);
    expect(peers).toEqual(["corun", "async/await", "workers", "effection", "effect", "redux-saga", "bare generators"]);
    const corun = report.results[0];
    expect(corun.status).toBe("ok");
    expect(corun.metrics.tasks).toBe(200);
    expect(corun.metrics.overhead_ms).toBeGreaterThan(-1);
    expect(corun.peak_rss_mb).toBeGreaterThan(1);
    expect(corun.wall_ms).toBeGreaterThan(0);
  }, 90_000);

  test("every listed scenario runs (tiny sizes) inside the compiled binary", () => {
    const json = join(dir, "all.json");
    const r = sh([binary, "bench", "--tiny", "--json", json], 60_000);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(json, "utf8"));
    const listed = sh([binary, "bench", "--list"]).stdout.split("\n").filter((l) => /^\S/.test(l)).map((l) => l.split(/\s+/)[0] ?? "");
    expect(Object.keys(report.scenarios).sort()).toEqual([...listed].sort());
    const bad = report.results.filter((x: { status: string }) => x.status !== "ok" && x.status !== "skipped");
    expect(bad).toEqual([]);
    // Every urlfetch client (corun, fetch() alone or inside a library, Workers, bare callbacks) got every response right.
    const fetches = report.results.filter((x: { scenario: string }) => x.scenario === "urlfetch");
    expect(fetches.length).toBeGreaterThanOrEqual(9);
    for (const x of fetches) {
      expect({ peer: x.peer, failures: x.metrics.http10_failures }).toEqual({ peer: x.peer, failures: 0 });
      if (x.metrics.ka_failures !== undefined) expect({ peer: x.peer, failures: x.metrics.ka_failures }).toEqual({ peer: x.peer, failures: 0 });
    }
    expect(r.stdout).toContain("Targets");
  }, 90_000);

  test("a peer that throws, crashes or hangs is reported in the table, not fatal", () => {
    const json = join(dir, "selftest.json");
    const scratchBefore = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith("corun-bench-")));
    const r = sh([binary, "bench", "selftest", "--tiny", "--timeout", "2", "--json", json], 30_000);
    // Every child's scratch dir is gone, the killed one's included (a killed io child left up to 320 MB; found by review).
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith("corun-bench-") && !scratchBefore.has(n))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("FAILED: Error: selftest peer threw on purpose");
    expect(r.stdout).toContain("CRASHED: exit code 3: selftest peer exits with code 3 on purpose");
    expect(r.stdout).toContain("TIMEOUT: no result after 2 s");
    const report = JSON.parse(readFileSync(json, "utf8"));
    const status = Object.fromEntries(report.results.map((x: { peer: string; status: string }) => [x.peer, x.status]));
    expect(status).toEqual({ corun: "ok", other: "ok", throws: "failed", crash: "crashed", hang: "timeout", garbage: "crashed", shapeless: "crashed", unmeasured: "ok" });
    // JSON of the wrong shape is a crash too (it threw in the parent; found by review).
    expect(r.stdout).toContain("CRASHED: its result line is not a result");
    // Every child's own result is in the JSON, beside the table's rows.
    expect(report.runs.map((x: { peer: string }) => x.peer)).toEqual(Object.keys(status));
    expect(r.stdout).toMatch(/\nother\s+3\.00\s+1\.50×/);
    // A result line that is not JSON is that peer's crash, not the end of the run.
    expect(r.stdout).toContain("CRASHED: its result line is not JSON");
    // A NaN figure is not measured: shown as –, left out of the JSON, and it meets no target.
    expect(r.stdout).toMatch(/\nunmeasured\s+–/);
    expect(report.results.find((x: { peer: string }) => x.peer === "unmeasured").metrics).toEqual({});
    expect(r.stdout).toContain("selftest: a figure not measured meets no target: value = – (target ≤ 100) not measured");
  }, 90_000);

  test("a scenario named twice runs once", () => {
    const json = join(dir, "twice.json");
    const once = sh([binary, "bench", "channels", "--tiny", "--json", json], 60_000);
    const r = sh([binary, "bench", "channels", "channels", "--tiny", "--json", json], 60_000);
    expect(r.code).toBe(0);
    const runs = (out: string) => out.match(/: (\d+) runs, each in its own process/)?.[1];
    expect(runs(r.stdout)).toBe(runs(once.stdout));
    const report = JSON.parse(readFileSync(json, "utf8"));
    const rows = report.results.map((x: { variant: string; peer: string }) => `${x.variant} ${x.peer}`);
    expect(rows.length).toBe(new Set(rows).size);
  }, 90_000);

  test("--json through a symlink writes the file it names and keeps the link; --json /dev/null stays the device (the report replaced them; found by review)", () => {
    writeFileSync(join(dir, "real.json"), "{}");
    symlinkSync("real.json", join(dir, "latest.json"));
    const r = sh([binary, "bench", "selftest", "--tiny", "--timeout", "2", "--json", join(dir, "latest.json")], 60_000);
    expect(r.code).toBe(0);
    expect(lstatSync(join(dir, "latest.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "real.json"), "utf8")).tool).toBe("corun bench");
    const n = sh([binary, "bench", "selftest", "--tiny", "--timeout", "2", "--json", "/dev/null"], 60_000);
    expect(n.code).toBe(0);
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
    expect(readdirSync("/dev").filter((f) => f.startsWith("null.part-"))).toEqual([]);
    // A dangling link: the file it names is made, and the link kept (the link was replaced, and an empty file left).
    mkdirSync(join(dir, "runs"));
    symlinkSync("runs/new.json", join(dir, "next.json"));
    const d = sh([binary, "bench", "selftest", "--tiny", "--timeout", "2", "--json", join(dir, "next.json")], 60_000);
    expect(d.code).toBe(0);
    expect(lstatSync(join(dir, "next.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "runs/new.json"), "utf8")).tool).toBe("corun bench");
    // /dev/stdout into a pipe: the JSON goes down it (it went to a file named "pipe:[N]" in the working directory).
    const cwd = mkdtempSync(join(tmpdir(), "corun-stdout-"));
    try {
      const p = sh(["sh", "-c", `'${binary}' bench selftest --tiny --timeout 2 --json /dev/stdout | cat`], 60_000, cwd);
      expect(p.stdout).toContain('"tool": "corun bench"');
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 180_000);

  test("a --json path that cannot be written is refused before any run, exit code 2", () => {
    const r = sh([binary, "bench", "selftest", "--tiny", "--json", "/dev/null/x.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--json /dev/null/x.json: cannot write there");
    expect(r.stdout).not.toContain("[1/");
  });

  test("a --timeout beyond a host timer's range is refused (it used to kill every child at once)", () => {
    const r = sh([binary, "bench", "selftest", "--tiny", "--timeout", "3000000"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--timeout must be a number of seconds from 1 to 2147483");
  });

  test("SIGTERM to corun bench kills the child it is running", async () => {
    const json = join(dir, "sigterm.json");
    const parent = Bun.spawn([binary, "bench", "selftest", "--tiny", "--timeout", "60", "--json", json], { cwd: root, stdout: "pipe", stderr: "pipe" });
    // Wait until the hanging peer's child runs (its progress line is printed before it starts).
    const reader = parent.stdout.getReader();
    let seen = "";
    while (!seen.includes("selftest · hang")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    await Bun.sleep(300);
    const childAlive = () => sh(["pgrep", "-f", `${binary} __bench-child selftest hang`]).stdout.trim() !== "";
    expect(childAlive()).toBe(true);
    parent.kill("SIGTERM");
    expect(await parent.exited).toBe(143);
    await Bun.sleep(300);
    expect(childAlive()).toBe(false);
    // The runs done before it are saved, whole (the file was left empty; found by review).
    expect(JSON.parse(readFileSync(json, "utf8")).runs.map((x: { peer: string }) => x.peer)).toEqual(["corun", "other", "throws", "crash"]);
  }, 30_000);

  test("a reader that goes away (| head) ends the output quietly; the run goes on", () => {
    const json = join(dir, "epipe.json");
    const r = sh(["bash", "-c", `'${binary}' bench selftest --tiny --timeout 2 --json '${json}' | head -c 10 >/dev/null; echo "status \${PIPESTATUS[0]}"`], 30_000);
    expect(r.stdout).toContain("status 0");
    expect(r.stderr).not.toContain("EPIPE");
    expect(JSON.parse(readFileSync(json, "utf8")).results.length).toBeGreaterThan(0);
    // The report itself down that pipe: quiet too (it said "could not write /dev/stdout: EPIPE"; found by review).
    const s = sh(["bash", "-c", `'${binary}' bench selftest --tiny --timeout 2 --json /dev/stdout | head -c 10 >/dev/null`], 30_000);
    expect(s.stderr).toBe("");
  }, 60_000);
});

describe("bun src/cli.ts (not compiled)", () => {
  test("re-executes itself through bun for each child", () => {
    const json = join(dir, "selftest-src.json");
    const r = sh([bun, "src/cli.ts", "bench", "selftest", "--tiny", "--timeout", "2", "--json", json], 30_000);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.results[0].status).toBe("ok");
    expect(report.results[0].metrics.value).toBe(2);
  }, 90_000);
});
