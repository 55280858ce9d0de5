/**
 * Scheduler ticks run in this process, by every scheduler: a virtual-time reactor that sat
 * idle reads it to tell "nothing happened anywhere" from "another run was busy" (a task of
 * another run may be about to wake one of its tasks). And I/O submissions, likewise counted.
 * Imports nothing.
 */

/**
 * The count, bumped by each tick of any scheduler.
 *
 * @example
 * ```ts
 * const seen = ticksEverywhere.count; // ... later: ticksEverywhere.count !== seen if any run ticked
 * ```
 */
export const ticksEverywhere = { count: 0 };

/**
 * The count of I/O batches handed to a reactor, by every scheduler. A socket marks it when a
 * task yields an op on it: while it is unchanged that op has not reached the driver yet (see
 * `Conn.takeBuffered`). Within one tick of one scheduler, only that scheduler bumps it.
 *
 * @example
 * ```ts
 * const at = ioSubmits.count; // ... ioSubmits.count !== at once the tick's I/O went out
 * ```
 */
export const ioSubmits = { count: 0 };
