/**
 * Starting a task: a task body (a coroutine, a function returning one, or returning one
 * syscall or task) turned into the generator the task runs, checked, and the spawn syscall's
 * handler. Imports no Bun API.
 */
import { Syscall, asyncBodyError, describe, notGeneratorHint } from "./syscall.ts";
import { ADOPT, type AdoptingOptions } from "./syscalls.ts";
import { claimSource } from "./task-body.ts";
import { Task } from "./task.ts";
import type { Co, TaskBody, SpawnOptions, Yieldable } from "./types.ts";
import type { Kernel } from "./kernel.ts";
import { Thrown, handlerFailed } from "./outcome.ts";

/** A spawn answered in place at `yield*` (inline.ts): as `immediate` would, without the dispatch. */
export function spawnNow(k: Kernel, task: Task<unknown>, d: Syscall<unknown>): unknown {
  try {
    const source = d.a;
    if (typeof source === "function" && d.b === undefined) {
      // The common case, `spawn(fn)`, with startable's checks in line (the rest goes through it).
      let gen: unknown;
      try {
        gen = source();
      } catch (error) {
        return new Thrown(error);
      }
      if (gen !== null && typeof gen === "object" && typeof (gen as Generator).next === "function" && typeof (gen as Generator).throw === "function" && !(Symbol.asyncIterator in gen)) {
        return k.newTask(gen as Co<unknown>, source, task);
      }
      // Not a plain generator: one syscall or task to wrap, or the error, as startable words it.
      const made = startable(source as () => Co<unknown>, "spawn", task, true, gen);
      return made instanceof Thrown ? made : k.newTask(made, source, task);
    }
    return spawn(k, task, source as TaskBody<unknown>, d.b as SpawnOptions | undefined);
  } catch (error) {
    return handlerFailed(task, error);
  }
}

export function spawn(k: Kernel, parent: Task<unknown>, source: TaskBody<unknown>, options: SpawnOptions | undefined): unknown {
  // A supervisor's child (syscalls.spawnAdopted) is registered at its creation; its source is
  // the supervisor's own wrapper (the supervisor claims the user's generator).
  const adopt = (options as Partial<AdoptingOptions> | undefined)?.[ADOPT];
  const made = startable(source, "spawn", parent, adopt === undefined);
  if (made instanceof Thrown) return made;
  const task = k.newTask(made, options?.name ?? source, parent);
  if (adopt !== undefined) adopt(task);
  return task;
}

/** A task's body for one syscall (or one join): make it and return its result. */
function* single(d: Iterable<Yieldable, unknown, unknown>): Co<unknown> {
  return yield* d;
}

/** The `made` of `startable` when the source was not called yet. */
const NOT_MADE: unique symbol = Symbol("not made");

/** Turn a coroutine source into a generator, or a Thrown naming what was wrong (`made`: what the function returned, if it was called already). */
export function startable(source: TaskBody<unknown>, op: string, by: Task<unknown> | undefined, claim = true, made: unknown = NOT_MADE): Co<unknown> | Thrown {
  let gen: unknown = source;
  if (made !== NOT_MADE) gen = made;
  else if (typeof source === "function") {
    const refused = asyncBodyError(source, op, by ? ` (in ${by})` : "");
    if (refused !== undefined) return new Thrown(refused);
    try {
      gen = source();
    } catch (error) {
      return new Thrown(error);
    }
  }
  // A function returning one syscall (`() => conn.read()`) or a task (`() => t`): its task makes it, and returns its result.
  if (typeof source === "function" && (gen instanceof Syscall || gen instanceof Task)) gen = single(gen as Iterable<Yieldable, unknown, unknown>);
  if (gen === null || typeof gen !== "object" || typeof (gen as Generator).next !== "function" || typeof (gen as Generator).throw !== "function") {
    const fn = typeof source === "function" ? ` (${source.name || "an anonymous function"} returned ${describe(gen)})` : ` (got ${describe(gen)})`;
    const where = by ? ` in ${by}` : "";
    return new Thrown(new TypeError(`${op}: expected a generator${fn}${where}; ${notGeneratorHint(gen, typeof source === "function")}`));
  }
  if (Symbol.asyncIterator in gen) {
    // Its next() returns a promise: stepped as a generator it would never end (nor its rejections be seen).
    const fn = typeof source === "function" ? ` (${source.name || "anonymous function"})` : "";
    const where = by ? ` in ${by}` : "";
    return new Thrown(new TypeError(`${op}: got an async generator${fn}${where}; a corun task is a plain generator (function*, not async function*): wait for promises with yield* wait(p)`));
  }
  if (claim && typeof source !== "function") {
    try {
      claimSource(gen, op);
    } catch (error) {
      return new Thrown(error);
    }
  }
  return gen as Co<unknown>;
}


