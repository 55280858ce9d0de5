/**
 * `group(body)`: a task group (trio's nursery). Children started with `g.spawn` run
 * concurrently; the group waits for all of them; the first failure cancels the rest and
 * the group throws a `GroupError`. Nothing outlives the group. Built on the Supervisor.
 */
import type { Task } from "../task.ts";
import type { Co, TaskBody, SpawnOptions } from "../types.ts";
import { GroupError } from "./errors.ts";
import { Supervisor, checkTaskBody } from "./supervisor.ts";
import { finish, keep } from "./held.ts";
import { checkSpawnOptions } from "../task-body.ts";
import { asyncBodyError, describe } from "../syscall.ts";
import { checkKeys } from "../option-keys.ts";

/**
 * The handle a group body gets: start children, read them.
 *
 * @example
 * ```ts
 * import { run, group, sleep, type Co, type Group } from "corun";
 * function* fanOut(g: Group, n: number): Co<void> {
 *   for (let i = 0; i < n; i++) yield* g.spawn(function* () { yield* sleep(i); });
 * }
 * const n = await run(() => group(function* (g) { yield* fanOut(g, 3); return g.tasks.length; }));
 * console.log(n); // 3
 * ```
 */
export interface Group {
  /** Start a child in this group (`yield* g.spawn(co)`). Throws (a `UsageError`) once the group has ended or begun to wind down. */
  spawn<T>(co: TaskBody<T>, options?: SpawnOptions): Co<Task<T>>;
  /** The children, in spawn order (with `forget`, those not forgotten). */
  readonly tasks: readonly Task<unknown>[];
  /** The children's results, in spawn order (`undefined` for one that did not finish). */
  readonly results: unknown[];
}

/**
 * Options for `group`.
 *
 * @example
 * ```ts
 * import { run, group, sleep, type GroupOptions } from "corun";
 * const options: GroupOptions = { name: "conns", forget: true }; // long-lived: children that end done or cancelled are dropped
 * await run(() => group(function* (g) { yield* g.spawn(function* () { yield* sleep(1); }); }, options));
 * ```
 */
export interface GroupOptions {
  /** For messages, `ps()` and task names. Default `"group"`. */
  name?: string | undefined;
  /**
   * Forget children that end done, or cancelled by another task (a connection kicked):
   * `g.tasks` and `g.results` then list only the children still running and those that
   * failed. For a
   * long-lived group, such as one task per accepted connection, whose memory would otherwise
   * grow with every child it ever ran. Default false.
   */
  forget?: boolean | undefined;
}

class Handle implements Group {
  readonly #sup: Supervisor;
  readonly #forget: boolean;
  constructor(sup: Supervisor, forget: boolean) {
    this.#sup = sup;
    this.#forget = forget;
  }
  spawn<T>(co: TaskBody<T>, options?: SpawnOptions): Co<Task<T>> {
    // Checked at the call, as spawn() does: a child made of it would fail and take the group down.
    checkTaskBody(co, `${this.#sup.label}.spawn`);
    checkSpawnOptions(options, `${this.#sup.label}.spawn`);
    return this.#sup.start(co, options?.name);
  }
  get tasks(): readonly Task<unknown>[] {
    const sup = this.#sup;
    if (!this.#forget) return sup.tasks.slice(1);
    // With forget, children that ended but did not fail are dropped from the supervisor in
    // batches (see its compaction); none is listed.
    const kept: Task<unknown>[] = [];
    for (let i = 1; i < sup.tasks.length; i++) if (!sup.tasks[i]!.ended || sup.endings[i] === "failed") kept.push(sup.tasks[i]!);
    return kept;
  }
  get results(): unknown[] {
    return this.tasks.map((t) => t.result);
  }
}

/**
 * Run `body` as the first member of a new task group and wait until it and every child it
 * (or any child) started with `g.spawn` has ended. Returns what `body` returned.
 *
 * If a member fails, every other one is cancelled (concurrently; their `finally` blocks run)
 * and the group throws a `GroupError` naming the failed task(s). If the task running the
 * group is cancelled, the members are cancelled and waited for before the `Cancelled`
 * propagates. A member cancelled directly by someone else just ends; the group goes on (the
 * body so cancelled has no result: its `Cancelled` is thrown once the others have ended).
 * `body` runs in its own task, so `current()` inside it is not the caller.
 *
 * @example
 * ```ts
 * import { run, sleep, group } from "corun";
 * const out = await run(function* () {
 *   return yield* group(function* (g) {
 *     yield* g.spawn(function* a() { yield* sleep(20); return "a"; });
 *     yield* g.spawn(function* b() { yield* sleep(10); return "b"; });
 *     return g;
 *   });
 * });
 * console.log(out.results); // ["a", "b"]: spawn order
 * ```
 */
export function* group<R>(body: (g: Group) => Co<R>, options?: GroupOptions): Co<R> {
  if (typeof body !== "function") throw new TypeError(`group(body): body must be a generator function, got ${typeof body}`);
  const refused = asyncBodyError(body, "group(body)"); // before it is wrapped: calling it would run it
  if (refused !== undefined) throw refused;
  checkGroupOptions(options);
  const name = options?.name ?? "group";
  const sup = new Supervisor(name, (_i, ending) => ending === "failed", options?.forget === true);
  const g = new Handle(sup, options?.forget === true);
  const first = yield* sup.start(() => body(g), `${name} body`);
  let cancelled: unknown = undefined;
  let wasCancelled = false;
  try {
    yield* sup.wait();
  } catch (error) {
    wasCancelled = true; // only the owner's own Cancelled can land here
    cancelled = error;
  }
  // The GroupError reports every failure; leaving with a cancel or another error of its own,
  // the group reports none, and run() does.
  const late = yield* sup.shutdown((_i, held) => !wasCancelled && held === undefined);
  // A cancel that came when every member had finished is raised after the result is returned.
  yield* finish(wasCancelled ? keep(late, cancelled, true) : late, sup.tasks.every((t) => t.state === "done"));
  if (sup.failures.length > 0) throw new GroupError(name, sup.failures);
  // The body cancelled directly (by a task that had it), not through the group: it has no
  // result to return, so its Cancelled is thrown, as joining it would.
  if (first.state !== "done") throw first.error;
  return first.result as R;
}

const GROUP_KEYS = Object.keys({ name: 1, forget: 1 } satisfies Record<keyof GroupOptions, 1>);

/** `options`, if given, is an object whose `name`, if given, is a string and whose `forget`, if given, is a boolean. */
function checkGroupOptions(options: GroupOptions | undefined): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") throw new TypeError(`group(body, options): options must be an object such as { name, forget }, got ${describe(options)}`);
  checkKeys(options, GROUP_KEYS, "group(body, options)");
  if (options.name !== undefined && typeof options.name !== "string") throw new TypeError(`group(body, { name }): name must be a string, got ${describe(options.name)}`);
  if (options.forget !== undefined && typeof options.forget !== "boolean") throw new TypeError(`group(body, { forget }): forget must be true or false, got ${describe(options.forget)}`);
}
