/**
 * A pipe read and left open when run() ends: its stream is cancelled with the rest, so the
 * process exits at once, not when (or if ever) the writer goes (found by review).
 */
import { test, expect } from "bun:test";
import { sh, errLine } from "./helpers.ts";

const SCRIPT = (src: string, close: boolean) => `
import { run } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const t0 = performance.now();
let ended = 0;
process.on("exit", () => console.log("RESULT " + JSON.stringify({ exitAfterRunMs: Math.round(performance.now() - ended) })));
await run(function* () {
  const f = yield* open("/dev/stdin", "r");
  yield* f.read(4);
  ${close ? "yield* f.close();" : "/* left open: the end of run() closes it */"}
});
ended = performance.now();
`;

for (const close of [false]) {
  test(`stdin pipe read once, ${close ? "closed" : "left open at run end"}: the process exits at once, not when the writer goes`, async () => {
    // The producer writes a header, then stays for 1.5 s.
    const r = await sh((src) => SCRIPT(src, close), '{ printf "head\\nrest\\n"; sleep 1.5; } | "$BUN" "$CHILD"', 8000);
    expect({ err: errLine(r.err), killed: r.killed }).toEqual({ err: "", killed: false });
    const got = JSON.parse(r.out.replace(/^RESULT /, ""));
    expect(got.exitAfterRunMs).toBeLessThan(700);
  }, 12_000);
}
