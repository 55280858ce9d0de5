/**
 * Shared helpers for the socket tests: a connected client/server pair on loopback.
 */
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
