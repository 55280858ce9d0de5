/**
 * Scenario "urlfetch": a local HTTP server on 127.0.0.1, in a process of its own, answers a
 * canned response; N client tasks each fetch once over HTTP/1.0 (a connection per request, as
 * the original corun benchmark), then N fetch once more with keep-alive. Reports requests/s,
 * failures and p50/p99 latency of each phase. Peers: corun's client and Bun's fetch(), each
 * against corun's server and against Bun.serve; against Bun.serve also fetch() inside
 * effection, Effect and redux-saga, one Worker per request (capped), and bare Bun.connect
 * callbacks (the ceiling). The peer's own process holds only the client.
 */
import { resolve } from "node:path";
import { run, spawn, join, netStats, HttpClient, type Co, type Task } from "../../src/index.ts";
import { CANNED_BODY as BODY, startCanned, type ServerKind } from "../lib/canned-server.ts";
import { rawHttp10 } from "../lib/raw-http10.ts";
import { effectPhase, effectionPhase, fetchPhase, sagaPhase, workersPhase, type ClientPhase, type PhaseRunner } from "../lib/fetch-clients.ts";
import type { PeerOptions, Scenario } from "../scenario.ts";
import { runStandalone } from "../harness/standalone.ts";

const SIZES: Record<string, number> = { "100": 100, "1k": 1_000, "10k": 10_000 };

/** How to start the server process: this program's own command, or bun + src/cli.ts when run standalone. */
function commandOf(opts: PeerOptions): string[] {
  return opts.command ?? [process.execPath, resolve(import.meta.dir, "../../src/cli.ts")];
}

/** One phase's figures, and (corun) the most connects in flight. */
interface Phase extends ClientPhase {
  maxConnects?: number;
}

function summarize(prefix: string, p: Phase): Record<string, number> {
  const ok = Array.from(p.lat).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const q = (f: number): number => (ok.length === 0 ? NaN : ok[Math.min(ok.length - 1, Math.floor(f * ok.length))]!);
  return {
    // Requests answered right per second: a failed request is not served.
    [`${prefix}_rps`]: Math.round((ok.length / p.wall) * 1000),
    [`${prefix}_failures`]: p.failures,
    [`${prefix}_p50_ms`]: Math.round(q(0.5) * 10) / 10,
    [`${prefix}_p99_ms`]: Math.round(q(0.99) * 10) / 10,
  };
}

/** `n` corun tasks each make one request with `client` (inside the peer's one `run()`). */
function* corunPhase(url: string, n: number, client: HttpClient, http10: boolean): Co<Phase> {
  const lat = new Float64Array(n);
  let failures = 0;
  const t0 = performance.now();
  const tasks: Task<void>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    tasks[i] = yield* spawn(function* () {
      try {
        const res = yield* client.request(url, { http10 });
        if (res.status !== 200 || res.text() !== BODY) throw new Error(`bad response ${res.status}`);
        lat[i] = performance.now() - t0; // from the phase's start, as for every client
      } catch {
        failures++;
        lat[i] = NaN;
      }
    });
  }
  for (const t of tasks) yield* join(t);
  const wall = performance.now() - t0;
  return { lat, failures, wall, maxConnects: (yield* netStats()).maxConnectsInFlight };
}

/** Runs of each phase; the median (by wall time) is reported, as runs on a shared machine vary. */
function roundsOf(opts: PeerOptions): number {
  return opts.tiny ? 1 : 3;
}

/** The median run by wall time, with the worst failure count of all runs, the untimed warm-up's included (a failure there is one too). */
function median(runs: Phase[], warmUp?: Phase): Phase {
  const sorted = [...runs].sort((a, b) => b.wall - a.wall);
  const worst = runs.reduce((a, b) => Math.max(a, b.failures), warmUp?.failures ?? 0);
  return { ...sorted[Math.floor(sorted.length / 2)]!, failures: worst };
}

function sizeOf(opts: PeerOptions): number {
  const n = SIZES[opts.variant ?? ""];
  if (n === undefined) throw new Error(`urlfetch: unknown size variant ${JSON.stringify(opts.variant)}`);
  return n;
}

function report(n: number, http10: Phase, keepAlive: Phase): Record<string, number> {
  const out: Record<string, number> = { n, ...summarize("http10", http10), ...summarize("ka", keepAlive) };
  // corun's TCP driver admits connects in waves below Bun's listen backlog (512): check it did.
  if (http10.maxConnects !== undefined) out.max_connects_in_flight = http10.maxConnects;
  if (http10.ran !== undefined) out.ran = http10.ran;
  return out;
}

/** Start the `kind` server process, run `body` against its URL, then stop the server. */
async function withServer<T>(opts: PeerOptions, kind: ServerKind, body: (url: string) => Promise<T>): Promise<T> {
  const server = await startCanned(commandOf(opts), kind);
  try {
    return await body(server.url);
  } finally {
    await server.stop();
  }
}

/**
 * The corun client: warm up, then the HTTP/1.0 runs and the keep-alive runs, all in one
 * `run()` with one client, so its pool stays warm across phases as fetch()'s does.
 */
function measureCorun(opts: PeerOptions, kind: ServerKind): Promise<Record<string, number>> {
  const n = sizeOf(opts);
  return withServer(opts, kind, (url) =>
    run(function* () {
      const client = new HttpClient();
      const warm10 = yield* corunPhase(url, Math.min(n, 500), client, true);
      const warmKa = yield* corunPhase(url, Math.min(n, 500), client, false);
      const h10: Phase[] = [];
      const ka: Phase[] = [];
      for (let i = 0; i < roundsOf(opts); i++) h10.push(yield* corunPhase(url, n, client, true));
      for (let i = 0; i < roundsOf(opts); i++) ka.push(yield* corunPhase(url, n, client, false));
      yield* client.close();
      return report(n, median(h10, warm10), median(ka, warmKa));
    }),
  );
}

/** A fetch()-based client (`runner`: plain fetch(), a library around it, or Workers): the same warm-up and runs. */
function measureClient(opts: PeerOptions, kind: ServerKind, runner: PhaseRunner): Promise<Record<string, number>> {
  const n = sizeOf(opts);
  return withServer(opts, kind, async (url) => {
    const warm10 = await runner(url, Math.min(n, 500), true, BODY);
    const warmKa = await runner(url, Math.min(n, 500), false, BODY);
    const h10: Phase[] = [];
    const ka: Phase[] = [];
    for (let i = 0; i < roundsOf(opts); i++) h10.push(await runner(url, n, true, BODY));
    for (let i = 0; i < roundsOf(opts); i++) ka.push(await runner(url, n, false, BODY));
    return report(n, median(h10, warm10), median(ka, warmKa));
  });
}

/**
 * The ceiling for a client on the JavaScript thread: bare `Bun.connect` callbacks, HTTP/1.0
 * only (no keep-alive figures), with the same warm-up, runs and connect limit (256).
 */
function measureRaw(opts: PeerOptions, kind: ServerKind): Promise<Record<string, number>> {
  const n = sizeOf(opts);
  return withServer(opts, kind, async (url) => {
    const warm = await rawHttp10(url, Math.min(n, 500), BODY);
    const h10: Phase[] = [];
    for (let i = 0; i < roundsOf(opts); i++) h10.push(await rawHttp10(url, n, BODY));
    return { n, ...summarize("http10", median(h10, warm)) };
  });
}

/** The "urlfetch" scenario. */
export const scenario: Scenario = {
  name: "urlfetch",
  description:
    "N concurrent clients each GET a canned response from a loopback server in its own process: HTTP/1.0 (connection per request), then keep-alive; " +
    "corun = corun client → corun server",
  primary: { metric: "http10_rps", better: "higher" },
  note: (metrics) =>
    metrics.ran !== undefined && metrics.n !== undefined && metrics.ran < metrics.n
      ? `capped: ran ${metrics.ran} of ${metrics.n} requests per phase (one Worker each)`
      : "",
  variants: (opts) => (opts.tiny ? ["100"] : opts.quick ? ["1k"] : ["1k", "10k"]),
  targets: [
    // Against both servers; p99 is rounded to 0.1 ms, so < 500 is ≤ 499.9.
    ...(["corun", "corun→Bun.serve"] as const).flatMap((peer) => {
      const server = peer === "corun" ? "corun's server" : "Bun.serve";
      const fetchPeer = peer === "corun" ? "fetch→corun" : "fetch→Bun.serve";
      return [
        { peer, metric: "http10_failures", max: 0, label: `no failed request (HTTP/1.0, ${server})` },
        { peer, metric: "ka_failures", max: 0, label: `no failed request (keep-alive, ${server})` },
        { peer, metric: "http10_p99_ms", max: 499.9, label: `p99 latency < 500 ms (HTTP/1.0, ${server})` },
        { peer, metric: "ka_p99_ms", max: 499.9, label: `p99 latency < 500 ms (keep-alive, ${server})` },
        { peer, metric: "http10_rps", vs: fetchPeer, min: 1.5, variants: ["10k"], label: `corun client ≥ 1.5× fetch() (HTTP/1.0, ${server})` },
        { peer, metric: "ka_rps", vs: fetchPeer, min: 1.5, variants: ["10k"], label: `corun client ≥ 1.5× fetch() (keep-alive, ${server})` },
      ];
    }),
    { metric: "max_connects_in_flight", max: 511, label: "connects admitted below the listen backlog (512)" },
  ],
  peers: {
    corun: (o) => measureCorun(o, "corun"),
    "corun→Bun.serve": (o) => measureCorun(o, "bun"),
    "fetch→corun": (o) => measureClient(o, "corun", fetchPhase),
    "fetch→Bun.serve": (o) => measureClient(o, "bun", fetchPhase),
    "workers→Bun.serve": (o) => measureClient(o, "bun", workersPhase),
    "effection→Bun.serve": (o) => measureClient(o, "bun", effectionPhase),
    "effect→Bun.serve": (o) => measureClient(o, "bun", effectPhase),
    "redux-saga→Bun.serve": (o) => measureClient(o, "bun", sagaPhase),
    "Bun.connect→Bun.serve": (o) => measureRaw(o, "bun"),
  },
};

if (import.meta.main) await runStandalone(scenario);
