/**
 * Bun Workers made from inline source (a Blob URL), so they also work inside the compiled
 * `corun` binary without a separate worker entry point. Bench-only helper.
 */

/** Most Workers a benchmark starts at once: one OS thread and one JS heap each. */
export const WORKER_CAP = 256;

/**
 * Start `count` workers running `source` (a classic worker script: `self.onmessage = ...`).
 *
 * @example
 * ```ts
 * const [w] = startWorkers(`self.onmessage = (e) => postMessage(e.data + 1);`, 1);
 * ```
 */
export function startWorkers(source: string, count: number): Worker[] {
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  // The URL stays valid for the (short-lived) bench child: workers load it asynchronously.
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) workers.push(new Worker(url));
  return workers;
}

/**
 * Send each worker one message and wait for one reply from each (rejects on a worker error).
 *
 * @example
 * ```ts
 * const replies = await roundTrip(workers, (i) => ({ id: i }));
 * ```
 */
export function roundTrip<T>(workers: Worker[], message: (i: number) => unknown): Promise<T[]> {
  return Promise.all(
    workers.map(
      (w, i) =>
        new Promise<T>((resolve, reject) => {
          w.onmessage = (e: MessageEvent) => resolve(e.data as T);
          w.onerror = (e: ErrorEvent) => reject(new Error(`worker ${i}: ${e.message}`));
          w.postMessage(message(i));
        }),
    ),
  );
}

/**
 * Terminate all workers.
 *
 * @example
 * ```ts
 * stopWorkers(workers);
 * ```
 */
export function stopWorkers(workers: Worker[]): void {
  for (const w of workers) w.terminate();
}
