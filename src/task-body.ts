/**
 * What a task body may be, checked before it runs: a generator, a function making one (never
 * an async one, which would run as it is called), or one syscall or task a function returns.
 * A generator object runs in one task only (claimed). Imports only the descriptor, Task and types.
 */
import { Syscall, asyncBodyError, describe, notGeneratorHint } from "./syscall.ts";
import { Task } from "./task.ts";
import { checkKeys } from "./option-keys.ts";
import type { TaskBody, SpawnOptions, Yieldable } from "./types.ts";

/** Generator objects given to a task so far (spawn, run, a combinator): a generator runs in one task only. */
const claimed = new WeakSet<object>();

/**
 * @internal Claim `co` for a task if it is a generator object (a function makes a fresh one
 * each time). Given a second time it is a TypeError: the second task would resume the
 * generator the first is suspended in (skipping its sleep, taking its result).
 */
export function claimSource(co: unknown, op: string): void {
  // Only a generator (or other iterator) runs once; a descriptor or a task may be given again.
  if (typeof co !== "object" || co === null || typeof (co as { next?: unknown }).next !== "function") return;
  if (claimed.has(co)) {
    throw new TypeError(`${op}: this generator object was given to a task already, and a generator runs once; pass a function that makes a fresh one (() => work()) instead`);
  }
  claimed.add(co);
}

/**
 * @internal What a task body made, ready for `yield*`: a coroutine, or a single syscall or task
 * (a function may return one). Anything else, an async generator included, is a TypeError
 * naming what was given or returned. A generator object given directly is claimed (`claim`:
 * unless the caller already did).
 */
export function bodyOf<T>(body: TaskBody<T>, op: string, claim = true): Iterable<Yieldable, T, unknown> {
  if (claim && typeof body !== "function") claimSource(body, op); // a generator object given directly runs once
  const refused = asyncBodyError(body, op);
  if (refused !== undefined) throw refused;
  const made: unknown = typeof body === "function" ? body() : body;
  if (made instanceof Syscall || made instanceof Task) return made as Iterable<Yieldable, T, unknown>;
  const what = typeof body === "function" ? `${body.name || "a function"} returned ${describe(made)}` : `got ${describe(made)}`;
  if (made === null || typeof made !== "object" || typeof (made as { next?: unknown }).next !== "function") {
    throw new TypeError(`${op}: expected a generator (${what}); ${notGeneratorHint(made, typeof body === "function")}`);
  }
  if (Symbol.asyncIterator in made) {
    throw new TypeError(`${op}: got an async generator (${what}); a corun task is a plain generator (function*, not async function*): wait for promises with yield* wait(p)`);
  }
  return made as Iterable<Yieldable, T, unknown>;
}

/** @internal The keys of SpawnOptions (others are refused: a misspelt one would be ignored). */
export const SPAWN_KEYS = Object.keys({ name: 1 } satisfies Record<keyof SpawnOptions, 1>);

/** @internal `options` of a spawn (`op` names the call): an object, if given, whose `name`, if given, is a string. */
export function checkSpawnOptions(options: unknown, op: string): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw new TypeError(`${op}(co, options): options must be an object such as { name }, got ${describe(options)}`);
  checkKeys(options, SPAWN_KEYS, `${op}(co, options)`);
  const name = (options as SpawnOptions).name;
  if (name !== undefined && typeof name !== "string") throw new TypeError(`${op}(co, { name }): name must be a string, got ${describe(name)}`);
}

/** @internal A spawn's `co` (`op` names the call): a function (not an async one: calling it would run it) or a generator. */
export function checkSource(co: unknown, op: string): void {
  if (typeof co === "function") {
    const refused = asyncBodyError(co, `${op}(co)`);
    if (refused !== undefined) throw refused;
    return;
  }
  if (co !== null && typeof co === "object" && typeof (co as Iterator<unknown>).next === "function" && typeof (co as Iterator<unknown>).throw === "function") return;
  throw new TypeError(`${op}(co): expected a generator or a function returning one, got ${describe(co)}`);
}
