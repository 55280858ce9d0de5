/**
 * A bare HTTP/1.0 client on `Bun.connect` callbacks, for the urlfetch benchmark: what a client
 * on the JavaScript thread can reach at best (no tasks, no parsing beyond a status check).
 * At most `limit` connects in flight, like corun's TCP driver. Bench-only helper.
 */
import type { Socket } from "bun";

/** One run's figures: latency per request in ms (NaN for a failure), failures, wall ms. */
export interface RawPhase {
  lat: Float64Array;
  failures: number;
  wall: number;
}

interface Req {
  i: number;
  start: number;
  text: string;
  settled: boolean;
}

/**
 * `n` HTTP/1.0 GETs of `url`, each on its own connection, expecting status 200 and `body`.
 *
 * @example
 * ```ts
 * const r = await rawHttp10(server.url, 1000, "hello\n");
 * console.log(r.failures); // 0
 * ```
 */
export function rawHttp10(url: string, n: number, body: string, limit = 256): Promise<RawPhase> {
  const u = new URL(url);
  const port = Number(u.port);
  const request = new TextEncoder().encode(`GET ${u.pathname} HTTP/1.0\r\nHost: ${u.host}\r\n\r\n`);
  const decoder = new TextDecoder();
  const lat = new Float64Array(n);
  let failures = 0;
  let started = 0;
  let settled = 0;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const finish = (r: Req, ok: boolean): void => {
      if (r.settled) return;
      r.settled = true;
      if (ok) lat[r.i] = performance.now() - r.start;
      else {
        lat[r.i] = NaN;
        failures++;
      }
      settled++;
      if (started < n) start();
      else if (settled === n) resolve({ lat, failures, wall: performance.now() - t0 });
    };
    const handlers = {
      open(s: Socket<Req>) {
        s.write(request);
      },
      data(s: Socket<Req>, d: Uint8Array) {
        s.data.text += decoder.decode(d);
      },
      end(s: Socket<Req>) {
        s.end();
      },
      close(s: Socket<Req>) {
        const t = s.data.text;
        finish(s.data, (t.startsWith("HTTP/1.1 200") || t.startsWith("HTTP/1.0 200")) && t.endsWith(body));
      },
      error(s: Socket<Req>) {
        finish(s.data, false);
      },
      connectError(s: Socket<Req>) {
        finish(s.data, false);
      },
    };
    const start = (): void => {
      // Latency counts from the moment all n start, as for the other clients (so it includes the wait for a slot).
      const r: Req = { i: started++, start: t0, text: "", settled: false };
      Bun.connect<Req>({ hostname: u.hostname, port, data: r, socket: handlers }).catch(() => finish(r, false));
    };
    for (let k = 0; k < Math.min(limit, n); k++) start();
  });
}
