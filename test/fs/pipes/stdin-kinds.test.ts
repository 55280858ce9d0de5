/** Polled character devices, and /dev/stdin as a pipe, on /dev/null and as a regular file. */
import { test, expect } from "bun:test";
import { accessSync, constants } from "node:fs";
import { sh, errLine } from "./helpers.ts";

const DEV = (src: string) => `
import { run, moveOnAfter, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const res = {};
const t0 = performance.now();
await run(function* () {
  const n = yield* open("/dev/null", "r");
  res.nullRead = yield* n.read(); res.nullAll = (yield* n.readAll()).length; res.nullAgain = yield* n.read(); yield* n.close();
  const z = yield* open("/dev/zero", "r");
  const zs = []; for (let i = 0; i < 3; i++) zs.push((yield* z.read(5)).join(""));
  res.zero = zs; yield* z.close();
  const u = yield* open("/dev/urandom", "r");
  const a = yield* spawn(function* () { return (yield* u.read(16)).length; });
  const b = yield* spawn(function* () { return (yield* u.read(32)).length; });
  res.urandom = [yield* join(a), yield* join(b)];
  res.big = (yield* u.read(1 << 20)).length;
  yield* u.close();
});
res.ms = Math.round(performance.now() - t0);
console.log("RESULT " + JSON.stringify(res));
`;

test("/dev/null, /dev/zero, /dev/urandom", async () => {
  const r = await sh(DEV, '"$BUN" "$CHILD"', 6000);
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  const got = JSON.parse(r.out.replace(/^RESULT /, ""));
  expect(got).toMatchObject({ nullRead: null, nullAll: 0, nullAgain: null, zero: ["00000", "00000", "00000"], urandom: [16, 32], big: 1 << 20 });
}, 10_000);

const kmsgOk = (() => { try { accessSync("/dev/kmsg", constants.R_OK); return true; } catch { return false; } })();
test.skipIf(!kmsgOk)("/dev/kmsg: read to its last record, a read cut mid-wait, a second waiting read, close: exits at once", async () => {
  const r = await sh((src) => `
import { run, moveOnAfter, spawn, join, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
let ended = 0; const res = {};
process.on("exit", () => console.log("RESULT " + JSON.stringify({ ...res, exitMs: Math.round(performance.now() - ended) })));
await run(function* () {
  const k = yield* open("/dev/kmsg", "r");
  let recs = 0;
  for (;;) { const b = yield* moveOnAfter(300, () => k.read(8192)); if (b === undefined) break; if (b === null) { res.nullSeen = true; break; } recs++; }
  res.recs = recs > 0;
  const w = yield* spawn(function* () { try { return yield* k.read(8192); } catch (e) { return e.code; } });
  yield* sleep(100);
  yield* k.close();
  res.waiter = yield* join(w);
});
ended = performance.now();
`, '"$BUN" "$CHILD"', 6000);
  expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
  const got = JSON.parse(r.out.replace(/^RESULT /, ""));
  expect(got.waiter).toBe("ERR_SOCKET_CLOSED");
  expect(got.exitMs).toBeLessThan(500);
}, 10_000);

const STDIN = (src: string) => `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const out = await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  const parts = [];
  for (let i = 0; i < 50; i++) { const b = yield* moveOnAfter(2000, () => f.read(3)); if (b === undefined) { parts.push("cut"); break; } if (b === null) break; parts.push(new TextDecoder().decode(b)); }
  yield* f.close();
  return parts.join("|");
});
console.log("RESULT " + out);
`;
test("/dev/stdin as a pipe (read(3) pieces of one chunk)", async () => {
  const r = await sh(STDIN, 'printf abcdefgh | "$BUN" "$CHILD"', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: "RESULT abc|def|gh", err: "" });
}, 10_000);
test("/dev/stdin on /dev/null", async () => {
  const r = await sh(STDIN, '"$BUN" "$CHILD" </dev/null', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: "RESULT", err: "" });
}, 10_000);
test("/dev/stdin as a regular file", async () => {
  const r = await sh(STDIN, 'printf abcdefgh > "$D/in" && "$BUN" "$CHILD" <"$D/in"', 6000);
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: "RESULT abc|def|gh", err: "" });
}, 10_000);
test("/dev/stdin as a pipe with the writer in pieces", async () => {
  const r = await sh(STDIN, '{ printf ab; sleep 0.1; printf cdef; sleep 0.1; printf g; } | "$BUN" "$CHILD"', 6000);
  expect(errLine(r.err)).toBe("");
  // How the pieces fall depends on when the child starts reading; each read takes at most 3 bytes, all in order.
  const parts = r.out.replace(/^RESULT /, "").split("|");
  expect(parts.join("")).toBe("abcdefg");
  expect(parts.every((p) => p.length >= 1 && p.length <= 3)).toBe(true);
}, 10_000);
