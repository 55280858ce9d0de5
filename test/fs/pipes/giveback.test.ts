/** readAll() cut short on a FIFO while its next read waits: what it read comes back, in order; /dev/stdin on a socketpair never hangs. */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

test("readAll cut short mid-poll gives back its bytes; the next reads get them, then the rest", async () => {
  const r = await sh(
    (src, dir) => `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : b === undefined ? "cut" : new TextDecoder().decode(b));
const out = await run(function* () {
  const f = yield* open(${JSON.stringify(dir + "/fifo")}, "r");
  const parts = [dec(yield* moveOnAfter(300, () => f.readAll()))];
  for (let i = 0; i < 5; i++) { const b = yield* f.read(); parts.push(dec(b)); if (b === null) break; }
  yield* f.close();
  return parts;
});
console.log("RESULT " + JSON.stringify(out));
`,
    'mkfifo "$D/fifo" && { { exec 3>"$D/fifo"; sleep 0.1; printf abc >&3; sleep 0.5; printf def >&3; exec 3>&-; } & } && "$BUN" "$CHILD"; wait',
    6000,
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT ["cut","abc","def",null]', err: "" });
}, 10_000);

test("/dev/stdin on a socketpair: fails at once or reads, never hangs", async () => {
  const r = await sh(
    (src) => `
import { run, moveOnAfter } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const out = await run(function* () {
  try { const f = yield* open("/dev/stdin", "r"); const b = yield* moveOnAfter(1000, () => f.readAll()); yield* f.close(); return b === undefined ? "cut" : "read " + b.length; }
  catch (e) { return "error " + e.code; }
});
console.log("RESULT " + out);
`,
    `python3 -c 'import socket,os,sys
a,b=socket.socketpair(); os.dup2(b.fileno(),0); a.sendall(b"hi"); a.shutdown(socket.SHUT_WR)
os.execv(sys.argv[1], sys.argv[1:])' "$BUN" "$CHILD"`,
    6000,
  );
  expect(r.killed).toBe(false);
}, 10_000);
