/** Helpers for the file tests: a temporary directory per test. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";

/** Run `body` with a fresh temporary directory, removed afterwards whatever happens. */
export async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(joinPath(tmpdir(), "corun-fs-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
