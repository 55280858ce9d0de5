/**
 * Scheduler ticks run in this process, by every scheduler: a virtual-time reactor that sat
 * idle reads it to tell "nothing happened anywhere" from "another run was busy" (a task of
 * another run may be about to wake one of its tasks). Imports nothing.
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
