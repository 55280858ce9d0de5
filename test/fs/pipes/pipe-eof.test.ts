/**
 * The end of a pipe or terminal is not final: a FIFO gets a new writer, a terminal more input
 * after ^D, and the next read gets those bytes (found by review: read through a stream, once
 * done, every later read answered null).
 */
import { test, expect } from "bun:test";
import { sh, errLine, hasPython, ptyDriver } from "./helpers.ts";

const CHILD = (src: string, path: string) => `
import { run, sleep } from ${JSON.stringify(src + "/index.ts")};
import { open } from ${JSON.stringify(src + "/fs/file.ts")};
const dec = (b) => (b === null ? null : new TextDecoder().decode(b));
const parts = await run(function* () {
  const f = yield* open(${path}, "r");
  const parts = [];
  // read until the end twice; after the first end, wait for a new writer / more input
  for (let i = 0; i < 8 && parts.filter((p) => p === null).length < 2; i++) {
    const b = yield* f.read();
    parts.push(dec(b));
    if (b === null) yield* sleep(400);
  }
  yield* f.close();
  return parts;
});
console.log("RESULT " + JSON.stringify(parts));
`;

test("a FIFO read to its end, then a second writer: its bytes are read", async () => {
  const r = await sh(
    (src, dir) => CHILD(src, JSON.stringify(dir + "/fifo")),
    'mkfifo "$D/fifo" && { { printf one > "$D/fifo"; sleep 0.15; printf two > "$D/fifo"; } & } && "$BUN" "$CHILD"; wait',
  );
  expect({ out: r.out, err: errLine(r.err) }).toEqual({ out: 'RESULT ["one",null,"two",null]', err: "" });
}, 10_000);

// A terminal: ^D at the start of a line makes one read return 0; the terminal goes on.
const PTY = ptyDriver(String.raw`time.sleep(1.0); os.write(fd, b"abc\n")
time.sleep(0.2); os.write(fd, b"\x04")
time.sleep(0.2); os.write(fd, b"xy\n")
time.sleep(0.2); os.write(fd, b"\x04")`);


test.skipIf(!hasPython)("a terminal (/dev/tty) after ^D: the next line is read", async () => {
  const r = await sh(
    (src, dir) => {
      require("node:fs").writeFileSync(dir + "/ptyrun.py", PTY);
      return CHILD(src, JSON.stringify("/dev/tty"));
    },
    'python3 "$D/ptyrun.py" "$BUN" "$CHILD"',
    8000,
  );
  expect(r.out).toBe('RESULT ["abc\\n",null,"xy\\n",null]');
}, 12_000);
