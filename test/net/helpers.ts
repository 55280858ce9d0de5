/**
 * Shared helpers for the socket tests: a connected client/server pair on loopback, and a
 * throwaway self-signed certificate for the TLS tests.
 */
import { join as joinPath } from "node:path";
import { spawn, join, type Co } from "../../src/index.ts";
import { listen, connect, type Conn } from "../../src/net/index.ts";

/** Loopback only: tests never use another address. */
export const HOST = "127.0.0.1";

/** A connected pair on 127.0.0.1 (the listener is closed once the pair is made). */
export function* pair(): Co<{ client: Conn; server: Conn }> {
  const l = yield* listen({ hostname: HOST, port: 0 });
  const acc = yield* spawn(function* () { return yield* l.accept(); });
  const client = yield* connect({ hostname: HOST, port: l.port });
  const server = yield* join(acc);
  yield* l.close();
  return { client, server };
}

/** A self-signed certificate for `/CN=<cn>`, made with openssl in `dir` (key and cert as PEM text). */
export async function selfSigned(dir: string, cn: string): Promise<{ key: string; cert: string }> {
  const key = joinPath(dir, `${cn}.key`);
  const cert = joinPath(dir, `${cn}.pem`);
  const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${cn}`], { stderr: "ignore" });
  if (gen.exitCode !== 0) throw new Error(`openssl could not make a certificate for ${cn}`);
  return { key: await Bun.file(key).text(), cert: await Bun.file(cert).text() };
}
