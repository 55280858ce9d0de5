/**
 * Group, race, all, timeout and shield while they wind down: they never return before their
 * children have ended (even when an error is thrown into their owner meanwhile), and a child
 * failure they do not rethrow is still reported by run(). Virtual time.
 */
import { describe, expect, test } from "bun:test";
import { all, any, cancel, Cancelled, channel, Event, current, group, interrupt, join, moveOnAfter, race, run, shield, sleep, spawn, timeout, TimeoutError, UsageError, type Channel, type Co, type Task } from "../../src/index.ts";
import { virtual, virtualError } from "../helpers.ts";

/** What `run()` rejected with, as text: its message and those of the errors it lists. */
function reported(error: unknown): string {
  const list = (error as { errors?: unknown[] }).errors ?? [];
  return [String(error), ...list.map(String)].join(" | ");
}

describe("an error thrown into the owner while it winds down", () => {
  for (const kind of ["timeout", "race", "group"] as const) {
    test(`${kind}: the owner hears it only after its children have ended`, async () => {
      const log: string[] = [];
      const outcome = await virtualError(function* () {
        let work: Task<unknown> | undefined;
        const body = function* work$(): Co<void> {
          work = yield* current();
          try {
            yield* sleep(1000);
          } finally {
            yield* sleep(50); // a slow cleanup
            log.push("work cleaned up");
          }
        };
        const owner = yield* spawn(function* () {
          try {
            if (kind === "timeout") yield* timeout(10, body);
            else if (kind === "race") {
              yield* race([
                body,
                function* () {
                  yield* sleep(10);
                },
              ]);
            }
            else {
              yield* group(function* (g) {
                yield* g.spawn(body);
                yield* sleep(10);
                throw new Error("body fails");
              });
            }
            // race was decided (its winner returned) before the kick: it returns the winner,
            // and the kick is raised at the owner's next yield.
            yield* sleep(0);
          } catch (e) {
            log.push(`owner caught "${(e as Error).message}" with the work ${work!.state}`);
          }
        });
        yield* sleep(20); // the owner is winding down: the work's cleanup runs until t=60
        yield* interrupt(owner, new Error("kick"));
        yield* join(owner);
      }).catch(() => ({ error: undefined }));
      expect(log).toEqual(["work cleaned up", `owner caught "kick" with the work cancelled`]);
      // The group's body failed before the kick and nobody saw it: run() reports it.
      if (kind === "group") expect(reported(outcome.error)).toContain("body fails");
      else expect(outcome.error).toBeUndefined();
    });
  }
});

describe("a failure nobody rethrows is reported by run()", () => {
  const failingCleanup = function* loser(): Co<void> {
    try {
      yield* sleep(1000);
    } finally {
      throw new Error("cleanup failed");
    }
  };

  test("race: a loser whose cleanup throws", async () => {
    const { error } = await virtualError(() =>
      race([
        function* () {
          yield* sleep(5);
        },
        failingCleanup,
      ]),
    );
    expect(reported(error)).toContain("cleanup failed");
  });

  test("all: a sibling whose cleanup throws while the first failure is thrown", async () => {
    const { error } = await virtualError(() =>
      all([
        function* () {
          yield* sleep(5);
          throw new Error("first");
        },
        failingCleanup,
      ]),
    );
    expect(reported(error)).toContain("first");
    expect(reported(error)).toContain("cleanup failed");
  });

  test("timeout: work whose cleanup throws after the deadline", async () => {
    const { error } = await virtualError(() => timeout(5, failingCleanup));
    expect(reported(error)).toContain("cleanup failed");
  });

  test("shield: the shielded work fails after its caller was cancelled (the cancel still wins)", async () => {
    const { error } = await virtualError(function* () {
      const t = yield* spawn(() =>
        shield(function* commit() {
          yield* sleep(20);
          throw new Error("commit failed");
        }),
      );
      yield* sleep(5);
      yield* cancel(t);
      return t.state;
    });
    expect(reported(error)).toContain("commit failed");
  });
});

describe("what the combinator already reported is not reported again", () => {
  test("all: two children failing in the same tick; main catches all()'s error, so run() resolves", async () => {
    const { result } = await virtual(function* () {
      const fail = (m: string) =>
        function* (): Co<void> {
          yield* sleep(5);
          throw new Error(m);
        };
      try {
        yield* all([fail("a"), fail("b")]);
        return "no error";
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
    });
    expect(result).toBe("caught a");
  });

  test("race: two children failing with one error object; main lets it out: run() rejects with it, once", async () => {
    const shared = new Error("shared");
    const { error } = await virtualError(() =>
      race([
        function* () {
          yield* sleep(5);
          throw shared;
        },
        function* () {
          yield* sleep(5);
          throw shared;
        },
      ]),
    );
    expect(error).toBe(shared);
  });
});

describe("a failure that comes as the owner is cancelled or times out is never lost", () => {
  /** An error's message and those of every error it lists or wraps, at any depth. */
  const deep = (e: unknown): string =>
    e instanceof Error ? [String(e), ...((e as { errors?: unknown[] }).errors ?? []).map(deep)].join(" | ") : String(e);
  /** run()'s outcome as text (resolved value, or the rejection and every error in it). */
  async function outcome(main: () => Co<unknown>): Promise<string> {
    try {
      return `resolved ${String((await virtual(main)).result)}`;
    } catch (e) {
      return `rejected ${deep(e)}`;
    }
  }
  const failing = function* boom(): Co<never> {
    yield* sleep(5);
    throw new Error("member failed");
  };

  for (const kind of ["group", "all", "race", "any"] as const) {
    test(`${kind}: the owner cancelled in the ticks after a member failed`, async () => {
      for (let yields = 0; yields <= 3; yields++) {
        const text = await outcome(function* () {
          const owner = yield* spawn(function* (): Co<unknown> {
            if (kind === "group") return yield* group(function* () { return yield* failing(); });
            if (kind === "all") return yield* all([failing]);
            if (kind === "race") return yield* race([failing]);
            return yield* any([failing]);
          });
          yield* sleep(5);
          for (let i = 0; i < yields; i++) yield;
          yield* cancel(owner);
          return deep(owner.error);
        });
        expect(text).toContain("member failed");
      }
    });
  }

  test("nested time limits: the work's failure in the outer deadline's tick", async () => {
    const work = function* (): Co<string> { yield* sleep(1); throw new Error("member failed"); };
    expect(await outcome(() => moveOnAfter(1, () => timeout(3, work)))).toContain("member failed");
    expect(await outcome(() => moveOnAfter(1, () => timeout(5, () => timeout(3, work))))).toContain("member failed");
  });

  test("a member whose outcome is an error raised after it returned (an interrupt at timeout's end) fails its group", async () => {
    const text = await outcome(function* () {
      return yield* group(function* (g) {
        const child = yield* g.spawn(function* child() {
          return yield* timeout(100, function* () { yield* sleep(10); return "v"; });
        });
        yield* sleep(10); // wakes in the tick the work ends, before it
        yield* interrupt(child, new Error("member failed"));
        return "group returned";
      });
    });
    expect(text).toMatch(/^rejected .*member failed/);
  });

  test("all() with such a member throws its failure instead of returning a hole", async () => {
    const text = await outcome(function* () {
      const me = yield* current();
      void me;
      let child: Task<unknown> | undefined;
      const r = yield* all([
        function* first() {
          child = yield* current();
          return yield* timeout(100, function* () { yield* sleep(10); return 1; });
        },
        function* second() {
          yield* sleep(10);
          yield* interrupt(child!, new Error("member failed"));
          return 2;
        },
      ]);
      return JSON.stringify(r);
    });
    expect(text).toMatch(/^rejected .*member failed/);
  });
});

describe("a child's own failure in the tick its owner is cancelled is the outcome, then the cancel (found by review)", () => {
  // A worker loops on a nested limit and catches its TimeoutError; main cancels it after k
  // steps. Whatever step the cancel lands in, the worker stops and run() resolves: the inner
  // TimeoutError is thrown to the worker (which catches it), the Cancelled follows.
  const shapes: [string, (ch: Channel<number>) => Co<unknown>][] = [
    ["moveOnAfter(1, timeout(0, recv))", (ch) => moveOnAfter(1, () => timeout(0, () => ch.recv()))],
    ["timeout(50, timeout(0, recv))", (ch) => timeout(50, () => timeout(0, () => ch.recv()))],
    ["all([timeout(0, recv)])", (ch) => all([() => timeout(0, () => ch.recv())])],
    ["race([timeout(0, recv), recv])", (ch) => race([() => timeout(0, () => ch.recv()), () => ch.recv()])],
  ];
  for (const [label, shape] of shapes) {
    test(label, async () => {
      const outcomes: string[] = [];
      let caughtAny = false;
      for (let k = 0; k < 30; k++) {
        let caught = 0;
        const out = await virtual(function* () {
          const ch = channel<number>();
          const worker = yield* spawn(function* () {
            for (;;) {
              try {
                yield* shape(ch);
              } catch (e) {
                if (!(e instanceof TimeoutError)) throw e;
                caught++;
              }
            }
          });
          for (let i = 0; i < k; i++) yield;
          yield* cancel(worker);
          return worker.state;
        }).then(
          (r) => r.result,
          (e) => `rejected: ${String(e).split("\n")[0]}`,
        );
        outcomes.push(out);
        caughtAny ||= caught > 0;
      }
      expect(outcomes.filter((o) => o !== "cancelled")).toEqual([]);
      expect(caughtAny).toBe(true); // the inner limit did expire (and was caught) in some runs
    });
  }
});

describe("several own failures, or a failure and a result, in the tick the owner is cancelled (found by a second review)", () => {
  test("all: a second failure in the deciding tick is swallowed with the first, cancel or not (run() resolves)", async () => {
    for (const cancelToo of [false, true]) {
      const out = await virtual(function* () {
        const go = new Event();
        const owner: Task<unknown> = yield* spawn(function* () {
          for (let round = 0; ; round++) {
            if (round > 0) go.clear(); // later rounds wait for ever
            try {
              yield* all([
                function* a(): Co<never> { yield* go.wait(); throw new Error("E1"); },
                function* b(): Co<never> { yield* go.wait(); throw new Error("E2"); },
              ]);
            } catch (e) {
              if (!(e instanceof Error && /^E\d$/.test(e.message))) throw e; // a loop that handles its own errors
            }
          }
        });
        yield;
        yield;
        go.set(); // both children fail, in this tick
        if (cancelToo) yield* spawn(function* () { yield* cancel(owner); }); // the cancel lands in the same tick
        else {
          for (let i = 0; i < 10; i++) yield;
          yield* cancel(owner);
        }
      }).then(
        () => "run resolved",
        (e) => `run rejected: ${String(e)}`,
      );
      expect(`${cancelToo}: ${out}`).toBe(`${cancelToo}: run resolved`);
    }
  });

  test("race: one child done and one failed on its own as the owner is cancelled: the result wins, the failure goes with it", async () => {
    const seen: string[] = [];
    const out = await virtual(function* () {
      const go = new Event();
      const owner: Task<unknown> = yield* spawn(function* () {
        try {
          seen.push(
            `race returned ${yield* race([
              function* a(): Co<string> { yield* go.wait(); throw new Error("A failed"); },
              function* b(): Co<string> { yield* go.wait(); return "B"; },
            ])}`,
          );
          yield;
        } catch (e) {
          seen.push(`owner caught ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
          throw e;
        }
      });
      yield;
      yield;
      yield* spawn(function* () { yield* cancel(owner); }); // queues the owner with its Cancelled...
      yield;
      go.set(); // ...then a and b with their wake-up, after it
      try {
        yield* join(owner);
      } catch {
        // cancelled
      }
    }).then(
      () => "run resolved",
      (e) => `run rejected: ${String(e)}`,
    );
    expect([...seen, out]).toEqual(["race returned B", "owner caught Cancelled", "run resolved"]);
  });
});

test("all: a child that failed on its own as the owner is cancelled is thrown even when another had already succeeded (found by a final review)", async () => {
  const seen: string[] = [];
  const out = await virtual(function* () {
    const go = new Event();
    const owner: Task<unknown> = yield* spawn(function* () {
      try {
        seen.push(`all returned ${yield* all([function* b(): Co<string> { yield* go.wait(); throw new Error("B failed"); }, function* a(): Co<string> { return "A"; }])}`);
        yield;
      } catch (e) {
        seen.push(`owner caught ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
        throw e;
      }
    });
    yield;
    yield;
    yield* spawn(function* () { yield* cancel(owner); });
    yield;
    go.set();
    try {
      yield* join(owner);
    } catch {
      // cancelled
    }
  }).then(
    () => "run resolved",
    (e) => `run rejected: ${String(e)}`,
  );
  expect([...seen, out]).toEqual(["owner caught Error: B failed", "run resolved"]);
});

test.each(["timeout", "group"])("%s: an interrupt and a cancel in one step while the owner winds down: the owner still waits for its child's cleanup (found by review of the cycle fix)", async (kind) => {
  const log: string[] = [];
  // (group: the body's failure is left for run() to report, as documented, once the owner leaves with the interrupt)
  await virtual(function* () {
    let owner!: Task<unknown>;
    owner = yield* spawn(function* ownerTask(): Co<void> {
      const work = function* (): Co<void> {
        try {
          yield* sleep(1000);
        } finally {
          yield* sleep(50); // a slow cleanup
          log.push("child cleanup done");
        }
      };
      try {
        if (kind === "timeout") yield* timeout(10, work);
        else {
          yield* group(function* (g) {
            yield* g.spawn(work);
            yield* sleep(10);
            throw new Error("body failed"); // the group winds down: it cancels work
          });
        }
      } finally {
        log.push("owner left");
      }
    });
    yield* sleep(20); // the owner is now in its shutdown, waiting for work's cleanup
    yield* interrupt(owner, new Error("interrupt")); // owner ready, with an error to throw
    // Same step as the interrupt: the cancel finds the owner ready with a value -> CancelPending.
    yield* cancel(owner);
    yield* sleep(100);
  }).catch(() => {});
  expect(log).toEqual(["child cleanup done", "owner left"]);
});

test("timeout: an interrupt carrying a UsageError (op join, task = the owner) while the work cleans up: the owner still waits for it, as it is no refusal of the kernel (found by review of the cycle fix)", async () => {
  const log: string[] = [];
  await virtual(function* () {
    let owner!: Task<unknown>;
    owner = yield* spawn(function* ownerTask(): Co<void> {
      try {
        yield* timeout(10, function* work() {
          try {
            yield* sleep(1000);
          } finally {
            yield* sleep(50);
            log.push("work cleanup done");
          }
        });
      } finally {
        log.push("owner left");
      }
    });
    yield* sleep(20); // the timeout expired at 10: the owner waits in cancel(work)
    yield* interrupt(owner, new UsageError(owner, "join", "not a refusal of the kernel"));
    yield* sleep(100);
  }).catch(() => {});
  expect(log).toEqual(["work cleanup done", "owner left"]);
});

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

test.each(["timeout", "all", "group"])("%s: a child that throws a revoked Proxy fails the call (found by review: the supervisor never learnt it had ended, and its owner waited for ever)", async (kind) => {
  const thrown = revoked();
  let result = "";
  await virtual(function* () {
    const bad = function* (): Co<void> {
      yield* sleep(1);
      throw thrown;
    };
    const owner = yield* spawn(function* (): Co<unknown> {
      if (kind === "timeout") return yield* timeout(1_000_000, bad);
      if (kind === "all") return yield* all([bad]);
      return yield* group(function* (g) { yield* g.spawn(bad); });
    });
    yield* sleep(10);
    if (!owner.ended) {
      result = "still waiting at t=10 (the child ended at t=1)";
      return;
    }
    try {
      yield* join(owner);
      result = "returned";
    } catch (e) {
      result = e === thrown ? "failed with the thrown value" : `failed with ${String(e)}`;
    }
  }).catch((e) => { result += ` / run() rejected: ${String((e as Error).message).slice(0, 200)}`; });
  // A group reports a child's failure in a GroupError, as for any value.
  if (kind === "group") expect(result).toStartWith('failed with GroupError: group "group": task "bad" (#');
  else expect(result).toBe("failed with the thrown value");
});

test("real reactor: run(() => all([child throwing a revoked Proxy])) settles, rejected with it", async () => {
  const thrown = revoked();
  const outcome = run(function* () {
    yield* all([function* () { yield* sleep(1); throw thrown; }]);
  }).then(() => "resolved", (e) => (e === thrown ? "rejected with the thrown value" : `rejected with ${String(e)}`));
  const settled = await Promise.race([outcome, Bun.sleep(1000).then(() => "unsettled after 1 s")]);
  expect(settled).toBe("rejected with the thrown value");
});

for (const kind of ["timeout", "race", "group"] as const) {
  test(`${kind}: an interrupt carrying a cycle refusal another task got is held like any other until the children have ended (found by review of the cycle fix)`, async () => {
    const log: string[] = [];
    await virtualError(function* () {
      // A real cycle refusal, got by main from its own join (B waits on main, main joins B).
      const me = yield* current();
      const b = yield* spawn(function* () {
        yield* join(me);
      });
      yield* sleep(0);
      let refusal: unknown;
      try {
        yield* join(b);
      } catch (e) {
        refusal = e;
      }
      yield* cancel(b);
      log.push(`main got: ${String(refusal).slice(0, 40)}`);

      let work: Task<unknown> | undefined;
      const body = function* work$(): Co<void> {
        work = yield* current();
        try {
          yield* sleep(1000);
        } finally {
          yield* sleep(50); // a slow cleanup
          log.push("work cleaned up");
        }
      };
      const owner = yield* spawn(function* () {
        try {
          if (kind === "timeout") yield* timeout(10, body);
          else if (kind === "race") yield* race([body, function* () { yield* sleep(10); }]);
          else
            yield* group(function* (g) {
              yield* g.spawn(body);
              yield* sleep(10);
              throw new Error("body fails");
            });
          yield* sleep(0);
        } catch (e) {
          log.push(`owner caught ${(e as Error).name} with the work ${work!.state}`);
        }
      });
      yield* sleep(20); // the owner is winding down: the work's cleanup runs until t=60
      yield* interrupt(owner, refusal);
      yield* join(owner);
      yield* sleep(100);
    }).catch(() => undefined);
    expect(log).toEqual([expect.stringContaining("UsageError"), "work cleaned up", "owner caught UsageError with the work cancelled"]);
  });
}
