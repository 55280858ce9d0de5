/**
 * What `bun add corun` users get: the package's exports, files and type declarations. The
 * declarations are emitted into a temp dir and a strict consumer project (NodeNext, no
 * `.ts` imports allowed, unused-locals checks, libraries checked) typechecks against them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const root = join(import.meta.dir, "..");
const tsc = join(root, "node_modules/.bin/tsc");
const dir = mkdtempSync(join(tmpdir(), "corun-package-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(cmd: string[], cwd = root): { code: number; out: string } {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() };
}

describe("the npm package", () => {
  test("ships the library and its declarations, not the CLI (whose benchmarks are not shipped) nor a binary", () => {
    expect((pkg as { bin?: unknown }).bin).toBeUndefined();
    expect(pkg.files).toEqual(expect.arrayContaining(["src", "!src/cli.ts", "types"]));
    // "types" before "bun": a consumer whose tsconfig sets customConditions ["bun"] still gets the
    // declarations; this repository's own tsconfig asks for "corun-source" to check the sources.
    expect(pkg.exports["."]).toEqual({ "corun-source": "./src/index.ts", types: "./types/index.d.ts", bun: "./src/index.ts", default: "./src/index.ts" });
    expect(pkg.exports["./testing"]).toEqual({ "corun-source": "./src/testing.ts", types: "./types/testing.d.ts", bun: "./src/testing.ts", default: "./src/testing.ts" });
    expect(Object.keys(pkg.exports["."])).toEqual(["corun-source", "types", "bun", "default"]);
    // types/ is emptied first: a declaration of a module since removed must not ship.
    expect(pkg.scripts.prepack).toBe("node -e \"require('fs').rmSync('types',{recursive:true,force:true})\" && tsc -p tsconfig.types.json");
  });

  test("its declarations typecheck in a strict consumer project that does not allow .ts imports", () => {
    const lib = join(dir, "consumer/node_modules/corun");
    const emit = sh([tsc, "-p", "tsconfig.types.json", "--outDir", join(lib, "types")]);
    expect(emit.out).toBe("");
    expect(emit.code).toBe(0);
    writeFileSync(join(lib, "package.json"), JSON.stringify({ name: "corun", type: "module", exports: pkg.exports }));
    mkdirSync(join(lib, "src"), { recursive: true });
    cpSync(join(root, "src"), join(lib, "src"), { recursive: true });
    const consumer = join(dir, "consumer");
    symlinkSync(join(root, "node_modules/@types"), join(consumer, "node_modules/@types"));
    symlinkSync(join(root, "node_modules/bun-types"), join(consumer, "node_modules/bun-types"));
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true,
          noUnusedLocals: true, noPropertyAccessFromIndexSignature: true, skipLibCheck: false, types: ["bun"],
        },
        include: ["main.ts"],
      }),
    );
    writeFileSync(
      join(consumer, "main.ts"),
      [
        'import { run, sleep, spawn, channel, timeout, HttpClient, type Co } from "corun";',
        'import { FakeReactor, TimerQueue, type Bucket } from "corun/testing";',
        "function* worker(): Co<number> { yield* sleep(1); return 1; }",
        "const r: number = await run(function* () {",
        "  const t = yield* spawn(worker);",
        "  const ch = channel<number>(1);",
        "  yield* ch.send(1);",
        "  const got = yield* timeout(10, () => ch.recv());",
        "  return (yield* t) + (got.value ?? 0);",
        "});",
        "const bucket: Bucket<{ undo: unknown }> = new TimerQueue<{ undo: unknown }>().add({ undo: undefined }, 10); // the type add() returns can be named",
        "console.log(r, new FakeReactor(), HttpClient.name, bucket.deadline);",
        "",
      ].join("\n"),
    );
    const check = sh([tsc, "-p", "."], consumer);
    expect(check.out).toBe("");
    expect(check.code).toBe(0);
    // A Bun-style project (bundler resolution, the "bun" condition, stricter options) gets the declarations too.
    writeFileSync(
      join(consumer, "tsconfig.bun.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ESNext", module: "Preserve", moduleResolution: "bundler", customConditions: ["bun"], strict: true, noEmit: true,
          exactOptionalPropertyTypes: true, noUnusedLocals: true, noPropertyAccessFromIndexSignature: true, skipLibCheck: false, types: ["bun"],
        },
        include: ["main.ts"],
      }),
    );
    const bunStyle = sh([tsc, "-p", "tsconfig.bun.json"], consumer);
    expect(bunStyle.out).toBe("");
    expect(bunStyle.code).toBe(0);
    // Every declaration file shipped compiles, those no export reaches included (two referred
    // to members stripInternal had removed; found by review).
    writeFileSync(join(consumer, "tsconfig.all.json"), JSON.stringify({ extends: "./tsconfig.bun.json", include: ["node_modules/corun/types/**/*.d.ts"] }));
    const all = sh([tsc, "-p", "tsconfig.all.json"], consumer);
    expect(all.out).toBe("");
    expect(all.code).toBe(0);
    // What is marked @internal is not in the declarations: a consumer cannot write a task's state
    // or flags, or reach a channel's queues (they shipped as public, writable API; found by review).
    writeFileSync(
      join(consumer, "leak.ts"),
      [
        'import { run, spawn, sleep, channel, Scheduler } from "corun";',
        "await run(function* () {",
        "  const t = yield* spawn(function* () { yield* sleep(1); });",
        '  t.state = "done";',
        "  t.flags = 0;",
        "  console.log(channel<number>(1).recvq, Scheduler.defaultReactor);",
        "});",
        "",
      ].join("\n"),
    );
    writeFileSync(join(consumer, "tsconfig.leak.json"), JSON.stringify({ extends: "./tsconfig.json", include: ["leak.ts"] }));
    const leak = sh([tsc, "-p", "tsconfig.leak.json"], consumer);
    expect(leak.out.match(/error TS\d+/g)).toEqual(["error TS2540", "error TS2339", "error TS2551", "error TS2339"]) // read-only; no flags; no recvq (did you mean recv?); no defaultReactor;
  }, 60_000);
});
