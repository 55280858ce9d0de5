/**
 * What was thrown into a supervised set's owner while its children wound down (its own cancel,
 * an interrupt), held back until every child has ended, and how the owner then leaves with
 * it: thrown now, or raised at its next yield after an outcome that was complete.
 */
import { raiseLater } from "../syscalls.ts";
import { Cancelled, isInstance } from "../errors.ts";
import type { Co } from "../types.ts";

/**
 * What was thrown into the owner while it shut down, held back until every child has ended:
 * the first error, and a `Cancelled` that came after a first error of another kind (an
 * interrupt), so that neither is lost.
 */
export type Held = { error: unknown; cancel?: unknown } | undefined;

/**
 * Add `error` (thrown into the owner while it winds down) to what is held: the first error is
 * kept, and a `Cancelled` after an error of another kind is kept beside it. `first`: `error`
 * came before the ones already held.
 */
export function keep(held: Held, error: unknown, first = false): Held {
  if (held === undefined) return { error };
  const [a, b] = first ? [error, held.error] : [held.error, error];
  const cancel = held.cancel ?? (!isInstance(a, Cancelled) && isInstance(b, Cancelled) ? b : undefined);
  return cancel === undefined ? { error: a } : { error: a, cancel };
}

/**
 * Leave a supervised set with `held` (see `runAll`): if the outcome is `complete` (the work
 * the caller waited for finished, say a lock was acquired or a message received), return
 * normally and have `held` raised at the caller's next yield, so the caller gets the outcome
 * (and can release what it took) before the cancel; otherwise throw it now.
 */
export function* finish(held: Held, complete: boolean): Co<void> {
  if (held === undefined) return;
  if (!complete) yield* leave(held);
  // A cancel that followed another error is raised at the owner's next yield after it.
  if (held.cancel !== undefined) yield* raiseLater(held.cancel);
  yield* raiseLater(held.error);
}

/** Throw what is held now (a cancel that followed another error is raised at the caller's next yield after it). */
export function* leave(held: NonNullable<Held>): Co<never> {
  if (held.cancel !== undefined) yield* raiseLater(held.cancel);
  throw held.error;
}
