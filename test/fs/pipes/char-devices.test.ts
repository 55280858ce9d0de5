/**
 * Character devices that never wait for a writer (/dev/null, /dev/zero, /dev/urandom, and
 * /dev/stdin on /dev/null) read as before on the pool: null, or the bytes asked for (found by
 * review: read through an epoll stream, every read failed with EPERM).
 */
import { test, expect } from "bun:test";
import { run } from "../../../src/index.ts";
import { open } from "../../../src/fs/file.ts";
import { sh, errLine } from "./helpers.ts";

function* readTwice(path: string, n: number) {
  const f = yield* open(path, "r");
  const out: (number | null | string)[] = [];
  for (let i = 0; i < 2; i++) {
    try {
      const b = yield* f.read(n);
      out.push(b === null ? null : b.length);
    } catch (e) {
      out.push(String((e as Error).message));
    }
  }
  yield* f.close();
  return out;
}

test("open('/dev/null', 'r'): read() returns null (the end) at once", async () => {
  expect(await run(() => readTwice("/dev/null", 16))).toEqual([null, null]);
}, 10_000);

test("/dev/zero and /dev/urandom: read(16) returns 16 bytes, twice", async () => {
  expect(await run(() => readTwice("/dev/zero", 16))).toEqual([16, 16]);
  expect(await run(() => readTwice("/dev/urandom", 16))).toEqual([16, 16]);
}, 10_000);

test("/dev/stdin when stdin is /dev/null (cron, CI, spawn with stdin ignored): readAll() is empty, not EPERM", async () => {
  const r = await sh(
    (src) => `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const n = await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  const b = yield* f.readAll();
  yield* f.close();
  return b.length;
});
console.log(n);
`,
    '"$BUN" "$CHILD" < /dev/null',
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: "0", err: "" });
}, 10_000);
