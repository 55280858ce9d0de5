/**
 * Reading a file that another process is appending to, with two reads of one handle in flight
 * at a time: every byte reaches the tasks once, in the order their reads were made. The
 * deterministic cases are in test/reactor/file-reads.test.ts; this one races a real writer.
 */
import { test, expect } from "bun:test";
import { spawn as childSpawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { run, spawn, join } from "../../src/index.ts";
import { open } from "../../src/fs/file.ts";
import { inTempDir } from "./helpers.ts";

// Appends `total` bytes in chunks of `chunk`, a short busy pause between them.
const APPENDER = `
const fs = require("node:fs");
const [path, total, chunk] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const fd = fs.openSync(path, "a");
const buf = Buffer.alloc(chunk);
for (let at = 0; at < total; at += chunk) {
  for (let i = 0; i < chunk; i++) buf[i] = ((at + i) * 7 + ((at + i) >> 8)) & 255;
  fs.writeSync(fd, buf);
  const until = performance.now() + 0.2;
  while (performance.now() < until) {}
}
fs.closeSync(fd);
`;

test("two reads at a time of a file another process appends to deliver each byte once, in order", async () => {
  await inTempDir(async (dir) => {
    const path = joinPath(dir, "growing.bin");
    const script = joinPath(dir, "appender.cjs");
    writeFileSync(path, "");
    writeFileSync(script, APPENDER);
    const total = 4096 * 4000; // about a second of appends
    const child = childSpawn(process.execPath, [script, path, String(total), "4096"], { stdio: "ignore" });
    let appended = false;
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve(void (appended = true))));
    try {
      const got = await run(function* () {
        const f = yield* open(path, "r");
        const parts: Uint8Array[] = [];
        for (;;) {
          const last = appended; // taken before the reads: once true, two nulls are the end
          const a = yield* spawn(() => f.read(1000));
          const b = yield* spawn(() => f.read(1000));
          const ra = yield* join(a);
          const rb = yield* join(b);
          if (ra !== null) parts.push(ra);
          if (rb !== null) parts.push(rb);
          if (last && ra === null && rb === null) break;
        }
        yield* f.close();
        return Buffer.concat(parts);
      });
      await exited;
      const file = readFileSync(path);
      expect(file.length).toBe(total);
      expect(got.length).toBe(total); // before: some of B's bytes came twice (about 300 times a second)
      expect(got.equals(file)).toBe(true);
    } finally {
      child.kill();
    }
  });
}, 20_000);
