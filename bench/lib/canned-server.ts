/**
 * The urlfetch benchmark's local HTTP server, in a process of its own: `corun __bench-server
 * corun|bun` serves one canned response on 127.0.0.1 (port 0), prints `READY <url>`, and exits
 * when its stdin closes. The client under test gets its process to itself, as in the original
 * corun benchmark (a local server, and the client measured). Bench-only helper.
 */
import { run, serve, wait } from "../../src/index.ts";

/** The canned response body. */
export const CANNED_BODY = "hello from the urlfetch benchmark\n";

/** Which server to run: corun's `serve` or `Bun.serve`. */
export type ServerKind = "corun" | "bun";

/** A server process, until `stop()`. */
export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

const READY = "READY ";

/**
 * Run the server in this process until stdin closes (the `__bench-server` command).
 *
 * @example
 * ```ts
 * await serveCanned("bun"); // prints "READY http://127.0.0.1:<port>"
 * ```
 */
export async function serveCanned(kind: ServerKind): Promise<void> {
  const stdinClosed = (async () => {
    for await (const _ of Bun.stdin.stream()) {
      // nothing is sent: the parent only closes the pipe
    }
  })();
  if (kind === "bun") {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(CANNED_BODY) });
    process.stdout.write(`${READY}http://127.0.0.1:${server.port}\n`);
    await stdinClosed;
    await server.stop(true);
    return;
  }
  await run(function* () {
    const server = yield* serve({ port: 0, handler: function* () { return CANNED_BODY; } });
    process.stdout.write(`${READY}${server.url}\n`);
    yield* wait(stdinClosed);
    yield* server.close();
  });
}

/**
 * Start `[...command, "__bench-server", kind]` and wait (at most 20 s) for its URL.
 *
 * @example
 * ```ts
 * const server = await startCanned([process.execPath, "src/cli.ts"], "corun");
 * await fetch(server.url);
 * await server.stop();
 * ```
 */
export async function startCanned(command: string[], kind: ServerKind): Promise<ServerProcess> {
  const proc = Bun.spawn([...command, "__bench-server", kind], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const stop = async (): Promise<void> => {
    try {
      void proc.stdin.end();
    } catch {
      // already closed
    }
    const exited = await Promise.race([proc.exited, Bun.sleep(5_000).then(() => undefined)]);
    if (exited === undefined) proc.kill(9);
  };
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (!text.includes("\n")) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => "timeout" as const)]);
    if (chunk === "timeout" || chunk.done) {
      await stop();
      throw new Error(`urlfetch: the ${kind} server process ${chunk === "timeout" ? "did not start within 20 s" : "exited before it was ready"}`);
    }
    text += new TextDecoder().decode(chunk.value);
  }
  reader.releaseLock();
  const line = text.slice(0, text.indexOf("\n"));
  if (!line.startsWith(READY)) {
    await stop();
    throw new Error(`urlfetch: the ${kind} server process said ${JSON.stringify(line)}`);
  }
  return { url: line.slice(READY.length), stop };
}
