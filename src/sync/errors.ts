/**
 * Errors raised by the synchronisation primitives (channels, locks). Each names the
 * primitive and the operation. Imports nothing from the kernel.
 */

/**
 * Thrown by `send` on a closed channel (also to senders still waiting when it closes).
 * Receivers never see it: `recv` on a closed, drained channel returns `{ done: true }`.
 *
 * @example
 * ```ts
 * import { run, channel, ChannelClosed } from "corun";
 * await run(function* () {
 *   const ch = channel<number>(1, "jobs");
 *   ch.close();
 *   try { yield* ch.send(1); } catch (e) { console.log(e instanceof ChannelClosed); } // true
 * });
 * ```
 */
export class ChannelClosed extends Error {
  override name = "ChannelClosed";
  /** The channel's name. */
  readonly channel: string;
  /** The operation that found it closed. */
  readonly op: string;
  /** The task that sent (`task "name" (#id)`), or "" outside any task. */
  readonly task: string;
  constructor(channel: string, op: string, task: object | undefined = undefined) {
    super(`${op} on closed channel "${channel}"${task === undefined ? "" : ` by ${String(task)}`}`);
    this.channel = channel;
    this.op = op;
    this.task = task === undefined ? "" : String(task);
  }
}

/**
 * A primitive was used wrongly: releasing a lock that is not held or that another task
 * holds, a semaphore above its bound, waiting on a condition without holding its lock.
 *
 * @example
 * ```ts
 * import { Lock, SyncUsageError } from "corun";
 * try { new Lock("db").release(); } catch (e) { console.log(e instanceof SyncUsageError); } // true
 * ```
 */
export class SyncUsageError extends Error {
  override name = "SyncUsageError";
  constructor(message: string) {
    super(message);
  }
}
