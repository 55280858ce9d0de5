#!/usr/bin/env bun
/**
 * The `corun` executable: `--version`, `--help`, `bench [scenario…] [--quick] [--json FILE]`.
 * Argument parsing and dispatch only; the harness lives in bench/harness and the scenarios
 * (statically imported, so the compiled binary embeds them) in bench/scenarios.
 */
import pkg from "../package.json" with { type: "json" };
import { scenarios } from "../bench/scenarios/index.ts";
import { runBench, BenchUsageError } from "../bench/harness/runner.ts";
import { runChild } from "../bench/harness/child.ts";
import { serveCanned } from "../bench/lib/canned-server.ts";

const VERSION: string = pkg.version;

const HELP = `corun ${VERSION} — a coroutine runtime for Bun

Usage:
  corun bench [scenario…] [--quick] [--json FILE] [--timeout SEC]
                        run benchmarks (default: all scenarios), each scenario × peer
                        in its own process; prints tables and writes raw figures as JSON
  corun bench --list    list the scenarios
  corun --version       print the version
  corun --help          print this help

Options of bench:
  --quick               smaller sizes (well under 3 minutes in all)
  --json FILE           where to write the raw figures (default: dist/bench.json)
  --timeout SEC         per-peer time limit (default: 90 quick, 300 full)
`;

/** Which child-process command re-runs this program: the binary itself, or bun + this script. */
function selfCommand(): string[] {
  const compiled = Bun.isStandaloneExecutable ?? Bun.main.startsWith("/$bunfs/");
  return compiled ? [process.execPath] : [process.execPath, Bun.main];
}

function fail(message: string): never {
  process.stderr.write(`corun: ${message}\nRun 'corun --help' for usage.\n`);
  process.exit(2);
}

interface Flags {
  positional: string[];
  values: Map<string, string>;
  switches: Set<string>;
}

/** Split args into positionals, `--name value` options (for `valued`) and `--switch`es. */
function parseFlags(args: string[], valued: string[], switches: string[]): Flags {
  const f: Flags = { positional: [], values: new Map(), switches: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) f.positional.push(a);
    else if (valued.includes(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) fail(`${a} needs a value`);
      f.values.set(a, v);
    } else if (switches.includes(a)) f.switches.add(a);
    else fail(`unknown option ${a}`);
  }
  return f;
}

/** The longest --timeout: a host timer's limit, 2^31 − 1 ms. */
const MAX_TIMEOUT_SEC = 2_147_483;

/** Print to stdout; once a reader went away (`corun bench | head`), the run goes on quietly. */
let stdoutGone = false;
function print(text: string): void {
  if (stdoutGone) return;
  try {
    process.stdout.write(text);
  } catch (error) {
    stdoutFailed(error);
  }
}
/** A reader gone (EPIPE): the run goes on quietly. Any other failure (a full disk): said in one line, exit 1. */
function stdoutFailed(error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EPIPE") {
    stdoutGone = true;
    return;
  }
  process.stderr.write(`corun: cannot write to stdout: ${typeof code === "string" ? code : String(error)}\n`);
  process.exit(1);
}
process.stdout.on?.("error", stdoutFailed);

async function bench(args: string[]): Promise<void> {
  const f = parseFlags(args, ["--json", "--timeout"], ["--quick", "--tiny", "--list"]);
  if (f.switches.has("--list")) {
    for (const s of scenarios.filter((x) => !x.hidden)) {
      process.stdout.write(`${s.name.padEnd(12)} ${s.description}\n    peers: ${Object.keys(s.peers).join(", ")}\n`);
    }
    return;
  }
  const timeout = f.values.get("--timeout");
  // Plain decimal seconds (not "0x10", nor " 5"), at least 1: a child takes longer than that to
  // start, so less would kill every one. Timers take at most 2^31 − 1 ms; a longer one would fire at once.
  const timeoutSec = timeout === undefined ? undefined : /^\d+(\.\d+)?$/.test(timeout) ? Number(timeout) : NaN;
  if (timeoutSec !== undefined && !(timeoutSec >= 1 && timeoutSec <= MAX_TIMEOUT_SEC)) {
    fail(`--timeout must be a number of seconds from 1 to ${MAX_TIMEOUT_SEC}, got "${timeout}"`);
  }
  try {
    await runBench(scenarios, {
      names: f.positional,
      quick: f.switches.has("--quick"),
      tiny: f.switches.has("--tiny"),
      json: f.values.get("--json") ?? "dist/bench.json",
      ...(timeoutSec !== undefined ? { timeoutSec } : {}),
      command: selfCommand(),
      version: VERSION,
      out: print,
    });
  } catch (error) {
    if (error instanceof BenchUsageError) fail(error.message);
    throw error;
  }
}

async function child(args: string[]): Promise<void> {
  const f = parseFlags(args, ["--variant"], ["--quick", "--tiny"]);
  const [name, peer] = f.positional;
  const s = scenarios.find((x) => x.name === name);
  if (s === undefined || peer === undefined) fail(`__bench-child: unknown scenario or missing peer: ${args.join(" ")}`);
  const variant = f.values.get("--variant");
  const tiny = f.switches.has("--tiny");
  await runChild(s, peer, { quick: tiny || f.switches.has("--quick"), tiny, command: selfCommand(), ...(variant !== undefined ? { variant } : {}) });
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "--version":
    case "-v":
    case "version":
      process.stdout.write(`${VERSION}\n`);
      return;
    case undefined:
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(HELP);
      return;
    case "bench":
      return bench(rest);
    case "__bench-child":
      return child(rest);
    case "__bench-server": {
      const kind = rest[0];
      if (kind !== "corun" && kind !== "bun") fail(`__bench-server: expected "corun" or "bun", got ${JSON.stringify(kind)}`);
      return serveCanned(kind);
    }
    default:
      fail(`unknown command "${cmd}"`);
  }
}

await main(process.argv.slice(2));
