/**
 * The urlfetch benchmark's fetch()-based clients: what a Bun user on plain async/await,
 * effection 4, Effect 4 or redux-saga would write (each library wraps `fetch()` the way its
 * docs show), and one Bun Worker per request (capped). Each runs one phase: N concurrent
 * requests, one each, timed. Bench-only helper.
 */
import * as effection from "effection";
import { Effect } from "effect";
import { runSaga } from "redux-saga";
import { all, call } from "redux-saga/effects";
import { WORKER_CAP, roundTrip, startWorkers, stopWorkers } from "./workers.ts";

/** One phase's figures: latency per request in ms (NaN for a failure), failures, wall ms. */
export interface ClientPhase {
  lat: Float64Array;
  failures: number;
  wall: number;
  /** How many requests ran, when fewer than asked (the Worker cap). */
  ran?: number;
}

/** Runs one phase: `n` concurrent GETs of `url` (a connection each if `http10`), expecting `body`. */
export type PhaseRunner = (url: string, n: number, http10: boolean, body: string) => Promise<ClientPhase>;

/** fetch()'s options for a phase: HTTP/1.0 style asks for a connection per request. */
function initOf(http10: boolean): RequestInit {
  return http10 ? { keepalive: false, headers: { connection: "close" } } : {};
}

/** Check a response; throws on a wrong status or body. */
function check(status: number, text: string, body: string): void {
  if (status !== 200 || text !== body) throw new Error(`bad response ${status}`);
}

/**
 * Time one phase of `n` requests: `start` runs them all and reports each as `ok(i)` or
 * `fail(i)`. Latency counts from the moment the phase starts (all `n` at once), as for every
 * client in this benchmark, so waiting for a connection or a slot is part of it. `ok(i, at)`
 * takes the time it finished (`performance.now()` of this thread) when it was measured elsewhere.
 */
async function timed(n: number, start: (ok: (i: number, at?: number) => void, fail: (i: number) => void, t0: number) => Promise<unknown>): Promise<ClientPhase> {
  const lat = new Float64Array(n);
  let failures = 0;
  const t0 = performance.now();
  await start(
    (i, at) => {
      lat[i] = (at ?? performance.now()) - t0;
    },
    (i) => {
      lat[i] = NaN;
      failures++;
    },
    t0,
  );
  return { lat, failures, wall: performance.now() - t0 };
}

/**
 * Plain async/await: `n` concurrent `fetch()` calls.
 *
 * @example
 * ```ts
 * const p = await fetchPhase(server.url, 1000, true, CANNED_BODY);
 * ```
 */
export const fetchPhase: PhaseRunner = (url, n, http10, body) =>
  timed(n, (ok, fail) => {
    const init = initOf(http10);
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        try {
          const res = await fetch(url, init);
          check(res.status, await res.text(), body);
          ok(i);
        } catch {
          fail(i);
        }
      }),
    );
  });

/**
 * effection 4: one spawned operation per request, `fetch()` through `until`.
 *
 * @example
 * ```ts
 * const p = await effectionPhase(server.url, 1000, false, CANNED_BODY);
 * ```
 */
export const effectionPhase: PhaseRunner = (url, n, http10, body) =>
  timed(n, (ok, fail) =>
    effection.run(function* () {
      const init = initOf(http10);
      const tasks: effection.Task<void>[] = new Array(n);
      for (let i = 0; i < n; i++) {
        tasks[i] = yield* effection.spawn(function* () {
          try {
            const res = yield* effection.until(fetch(url, init));
            check(res.status, yield* effection.until(res.text()), body);
            ok(i);
          } catch {
            fail(i);
          }
        });
      }
      for (const t of tasks) yield* t;
    }),
  );

/**
 * Effect 4: one effect per request (`Effect.tryPromise` around `fetch()`), all run with
 * unbounded concurrency by `Effect.forEach`.
 *
 * @example
 * ```ts
 * const p = await effectPhase(server.url, 1000, false, CANNED_BODY);
 * ```
 */
export const effectPhase: PhaseRunner = (url, n, http10, body) =>
  timed(n, (ok, fail) => {
    const init = initOf(http10);
    const one = (i: number) =>
      Effect.tryPromise(async () => {
        const res = await fetch(url, init);
        check(res.status, await res.text(), body);
      }).pipe(
        Effect.match({
          onFailure: () => fail(i),
          onSuccess: () => ok(i),
        }),
      );
    const ids = Array.from({ length: n }, (_, i) => i);
    return Effect.runPromise(Effect.forEach(ids, one, { concurrency: "unbounded", discard: true }));
  });

/**
 * redux-saga: one saga per request, `fetch()` through `call`, all started by `all`.
 *
 * @example
 * ```ts
 * const p = await sagaPhase(server.url, 1000, false, CANNED_BODY);
 * ```
 */
export const sagaPhase: PhaseRunner = (url, n, http10, body) =>
  timed(n, (ok, fail) => {
    const init = initOf(http10);
    function* one(i: number): Generator<unknown, void, unknown> {
      try {
        const res = (yield call(fetch, url, init)) as Response;
        check(res.status, (yield call([res, res.text])) as string, body);
        ok(i);
      } catch {
        fail(i);
      }
    }
    function* root(): Generator<unknown, void, unknown> {
      yield all(Array.from({ length: n }, (_, i) => call(one, i)));
    }
    return runSaga({}, root).toPromise();
  });

/** Each Worker makes one request and replies with when it finished (epoch ms, comparable across threads), or -1 on a failure. */
const WORKER_SOURCE = `self.onmessage = async (e) => {
  const { url, http10, body } = e.data;
  try {
    const res = await fetch(url, http10 ? { keepalive: false, headers: { connection: "close" } } : {});
    const text = await res.text();
    postMessage(res.status === 200 && text === body ? performance.timeOrigin + performance.now() : -1);
  } catch {
    postMessage(-1);
  }
};`;

/**
 * Bun Workers, one per request (a thread each, the original corun's point about threads),
 * capped at `WORKER_CAP`: `ran` says how many ran. Starting the Workers is part of the time.
 *
 * @example
 * ```ts
 * const p = await workersPhase(server.url, 10_000, true, CANNED_BODY); // p.ran === 256
 * ```
 */
export const workersPhase: PhaseRunner = async (url, n, http10, body) => {
  const count = Math.min(n, WORKER_CAP);
  const phase = await timed(count, async (ok, fail) => {
    const workers = startWorkers(WORKER_SOURCE, count);
    try {
      const replies = await roundTrip<number>(workers, () => ({ url, http10, body }));
      // Epoch ms from each worker, made this thread's performance.now() time.
      replies.forEach((done, i) => (done < 0 ? fail(i) : ok(i, done - performance.timeOrigin)));
    } finally {
      stopWorkers(workers);
    }
  });
  return { ...phase, ran: count };
};
