/**
 * Deadlines while run() winds down: a request or body read made in a cleanup (a finally after
 * main ended, or after its own cancel) is still bounded by its timeout, and run() ends. The
 * watchdog's reaper, cancelled by the drain or by the end of the cleanup that started it, goes
 * on firing the deadlines still armed, and outlives the expiry actions it started.
 */
import { test, expect } from "bun:test";
import { run, serve, spawn, sleep, cancel, current, HttpClient, type Co } from "../../src/index.ts";
import { createConnection, type Socket } from "node:net";
import { Watchdog, type Deadline } from "../../src/http/watchdog.ts";
import { rawServer } from "./helpers.ts";
import { virtual } from "../helpers.ts";

/** How `p` settled within `ms`: "ended", "rejected: …", or `late`. */
function settledWithin(p: Promise<unknown>, ms: number, late: string): Promise<string> {
  return Promise.race([p.then(() => "ended", (e) => `rejected: ${e}`), Bun.sleep(ms).then(() => late)]);
}

/**
 * A worker is cancelled by another task and, in its finally, makes a request (client timeout
 * 300 ms) to a silent server; `mainTail`, run by main after the cancel, sets when main ends.
 * What run() did within 2.5 s, and what the request got.
 */
async function requestInCancelledCleanup(mainTail: () => Co<void>): Promise<string> {
  const silent = await rawServer(() => null);
  const url = `http://127.0.0.1:${silent.port}/`;
  const client = new HttpClient({ timeout: 300 });
  let out = "no answer";
  try {
    const p = run(function* () {
      const worker = yield* spawn(function* worker(): Co<void> {
        try { yield* sleep(60_000); } finally {
          try { yield* client.request(url); out = "served"; } catch (e) { out = (e as Error).message; }
        }
      });
      yield* sleep(10);
      yield* spawn(function* canceller(): Co<void> { yield* cancel(worker); });
      yield* mainTail();
    });
    return `${await settledWithin(p, 2500, "still running after 2.5 s")} / ${out}`;
  } finally {
    silent.server.close();
  }
}

// A worker is cancelled (by someone else) and makes a request in its finally (client timeout
// 300 ms) to a server that never answers; main ends 50 ms later. The drain cancels the
// client's deadline reaper; the worker's cancel was delivered already, so nothing cancels its
// request, and nothing will ever fire its deadline: run() never ends.
test("a request in the finally of a task cancelled just before main ends still times out, and run() ends (found by review)", async () => {
  const r = await requestInCancelledCleanup(function* () {
    yield* sleep(50);
  });
  expect(r).toMatch(/^ended \/ .*TIMEOUT/);
}, 10_000);

// Two tasks each make a request in their finally while run() winds down. The first one's
// request starts the client's deadline reaper (born during the drain, so tied to that task:
// cancelled as it ends). The second arms its deadline on that reaper (running: true) and
// starts none. The first's request is answered quickly, the first task ends, its helper the
// reaper is cancelled: the second's deadline has no reaper left, its request to a silent
// server never times out, and run() never ends.
test("two requests in finally blocks during wind-down: the second is still bounded by its timeout once the first's task ended (found by review)", async () => {
  const srv = await rawServer((req) => (req.startsWith("GET /fast") ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" : null));
  const base = `http://127.0.0.1:${srv.port}`;
  const client = new HttpClient({ timeout: 400 });
  const out: string[] = [];
  try {
    const p = run(function* () {
      yield* spawn(function* a(): Co<void> {
        try { yield* sleep(60_000); } finally {
          try { out.push("a " + (yield* client.request(`${base}/fast`)).status); } catch (e) { out.push("a " + (e as Error).message); }
        }
      });
      yield* spawn(function* b(): Co<void> {
        try { yield* sleep(60_000); } finally {
          try { yield* client.request(`${base}/slow`); out.push("b served"); } catch (e) { out.push("b " + (e as Error).message); }
        }
      });
      yield* sleep(20);
    });
    const r = await settledWithin(p, 3000, "still running after 3 s");
    expect({ r, out: out.join(" | ") }).toMatchObject({ r: "ended" });
    expect(out.join(" | ")).toContain("TIMEOUT");
  } finally {
    srv.server.close();
  }
}, 10_000);

// Two handlers read their request's body in a finally while run() winds down (main returned
// with the server still open; each connection task is cancelled). The first to read starts
// the server watchdog's reaper, born in the drain and so tied to that connection's task;
// the second arms its body deadline on it (running: true). The first body arrives, that
// connection's task ends, its helper the reaper is cancelled: the second body read, from a
// client that never sends the body, has no deadline left and run() never ends (bodyTimeout
// is 300 ms).
test("server: a body read in a handler's finally during wind-down is bounded by bodyTimeout even after another connection's cleanup ended (found by review)", async () => {
  let port = 0;
  const got: string[] = [];
  const p = run(function* () {
    const s = yield* serve({
      port: 0, bodyTimeout: 300, headerTimeout: 2000,
      handler: function* (req) {
        try { yield* sleep(60_000); } finally {
          try { got.push(yield* req.text()); } catch (e) { got.push((e as Error).message); }
        }
        return "x";
      },
    });
    port = s.port;
    yield* sleep(250);
  });
  while (port === 0) await Bun.sleep(2);
  const socks: Socket[] = [];
  const open = () => new Promise<Socket>((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", () => {});
    socks.push(s);
  });
  try {
    const a = await open();
    a.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");
    await Bun.sleep(30);
    const b = await open();
    b.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"); // its body never comes
    await Bun.sleep(320); // main ended at ~250 ms: both handlers read in their finally now
    a.write("abcd");
    const r = await settledWithin(p, 2500, "still running 2.5 s later");
    expect({ r, got }).toMatchObject({ r: "ended" });
  } finally {
    for (const s of socks) s.destroy();
  }
}, 10_000);

/**
 * C's cancel is delivered before main ends (someone cancelled it); in its finally it arms a
 * 100 ms deadline on a watchdog (starting the reaper) and waits (bounded) for the expiry
 * action. main ends `x` ms later. Returns what C saw.
 */
async function scenario(x: number) {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { ran: false, expired: false, size: -1 };
    const c = yield* spawn(function* C(): Co<void> {
      try {
        yield* sleep(1e9);
      } finally {
        const d = wd.arm(100, function* () { state.ran = true; });
        if (!wd.running) yield* wd.start();
        for (let i = 0; i < 400 && !state.ran; i++) yield* sleep(1);
        state.expired = d.expired;
        state.size = wd.size;
      }
    });
    yield* sleep(5);
    yield* spawn(function* canceller(): Co<void> { yield* cancel(c); });
    yield* sleep(x);
    return state; // filled by C before run() resolves
  });
  return result;
}

// main ends in the very tick the reaper wakes to fire the deadline: the reaper's cancel
// arrives while it holds the sleep's value (CancelPending), so it runs #fire: the bucket is
// taken out, the count lowered, `expired` set and onExpire() called — then Cancelled is raised
// at the spawn of the expiry action instead of the spawn. The action never runs, and no later
// reaper can fire the deadline (gone from the buckets; #fired is past its tick).
test("a deadline due in the tick run() starts winding down: its expiry action runs (it is marked expired, taken out, and dropped) (found by review)", async () => {
  expect(await scenario(110)).toEqual({ ran: true, expired: true, size: 0 });
});

// main ends while the deadline is still ahead: the drain cancels the reaper (waiting in its
// sleep) and it ends; C, whose cancel was delivered already, is not cancelled again and keeps
// waiting for a deadline that no reaper will ever fire (nobody starts a new one).
test("a deadline armed before run() winds down, by a task already cleaning up, still fires after the drain cancelled its reaper (found by review)", async () => {
  expect(await scenario(60)).toEqual({ ran: true, expired: true, size: 0 });
});

// C's cancel was delivered (a canceller), and in its finally it arms a 100 ms deadline and
// starts the reaper; main ends in the same tick, before the reaper's first step. The drain's
// cancel reaches the reaper unstarted: its generator is thrown into before its first line, so
// the catch in #reap never ran and the reaper ends with C's deadline armed. C waits for
// an expiry that never comes (bounded here: 400 virtual ms).
test("a reaper started in the tick main ends (not yet stepped) still fires the deadline armed by an already-cancelled task (it was cancelled before its first line; found by review)", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { ran: false, expired: false, size: -1, running: true };
    const c = yield* spawn(function* C(): Co<void> {
      try {
        yield* sleep(1e9);
      } finally {
        const d = wd.arm(100, function* () { state.ran = true; });
        if (!wd.running) yield* wd.start();
        for (let i = 0; i < 400 && !state.ran; i++) yield* sleep(1);
        state.expired = d.expired;
        state.size = wd.size;
        state.running = wd.running;
      }
    });
    yield* sleep(1);
    yield* spawn(function* canceller(): Co<void> { yield* cancel(c); });
    yield* sleep(0); // [canceller, main] -> canceller cancels C: [main, C]
    yield* sleep(0); // [C, main] -> C's finally spawns the reaper: [main, reaper]; main ends now
    return state;
  });
  expect(result).toEqual({ ran: true, expired: true, size: 0, running: false });
});


// The same with a real request: a worker whose cancel was delivered makes a request (timeout
// 300 ms) to a silent server in its finally, in the tick main ends. The client's reaper,
// spawned by that request and not stepped yet, is cancelled by the drain before its first
// line: the request is bounded by nothing, and run() never ends.
test("a request in a cancelled task's finally, made in the tick main ends, still times out and run() ends (found by review)", async () => {
  const r = await requestInCancelledCleanup(function* () {
    yield* sleep(0);
    yield* sleep(0);
  });
  expect(r).toMatch(/^ended \/ .*TIMEOUT/);
}, 10_000);

// main ends: C and B (pre-drain) clean up. C's finally spawns a helper A (born in the drain, tied
// to C) and ends a tick later. A arms a deadline and starts the reaper R (born in the drain: also
// C's helper); in that same tick C ends: R is cancelled unstarted, A is cancelled at start()'s
// sleep(0) (so it does not retry; its finally disarms its own deadline). B, in that same tick,
// arms a 100 ms deadline: `running` is true (R not ended yet), so it starts nothing. Nothing
// ever fires B's deadline.
test("a deadline armed while another task's just-spawned reaper is alive still fires after that reaper was cancelled before its first step (found by review)", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { expired: false, size: -1, runningAtArm: false, aOut: "" };
    yield* spawn(function* C(): Co<void> {
      try { yield* sleep(1e9); } finally {
        yield* spawn(function* A(): Co<void> {
          const d = wd.arm(100, () => {});
          try {
            if (!wd.running) yield* wd.start();
            state.aOut = "started";
            yield* sleep(1e9);
          } catch (e) {
            state.aOut = (e as Error).name;
            throw e;
          } finally {
            wd.disarm(d);
          }
        });
        yield* sleep(0); // A's first step (arm, spawn R, sleep(0)) comes before this returns
      }
    });
    yield* spawn(function* B(): Co<void> {
      try { yield* sleep(1e9); } finally {
        yield* sleep(0); // now in the tick where A started R and C ends
        const d = wd.arm(100, () => {});
        state.runningAtArm = wd.running;
        if (!wd.running) yield* wd.start();
        for (let i = 0; i < 400 && !d.expired; i++) yield* sleep(1);
        state.expired = d.expired;
        state.size = wd.size;
        wd.disarm(d);
      }
    });
    yield* sleep(1);
    return state;
  });
  // aOut Cancelled: A was cancelled at start()'s sleep(0) (so it did not retry). runningAtArm is
  // true on the code under review (R alive, unstarted) and is not asserted (a fix may change it).
  expect({ ...result, runningAtArm: undefined }).toEqual({ expired: true, size: 0, runningAtArm: undefined, aOut: "Cancelled" });
});

// The same with the HTTP client: B's request (timeout 300 ms) to a silent server, made in the
// tick the client's deadline reaper spawned by A's request is cancelled unstarted (C ends), is
// bounded by nothing: the request hangs and run() never ends.
test("a request in a cleanup, made while another request's just-spawned reaper is cancelled unstarted, still times out and run() ends (found by review)", async () => {
  const silent = await rawServer(() => null);
  const url = `http://127.0.0.1:${silent.port}/`;
  const client = new HttpClient({ timeout: 300 });
  const out: string[] = [];
  try {
    const p = run(function* () {
      yield* spawn(function* C(): Co<void> {
        try { yield* sleep(60_000); } finally {
          yield* spawn(function* A(): Co<void> {
            try { yield* client.request(url); out.push("a served"); } catch (e) { out.push("a " + (e as Error).name); }
          });
          yield* sleep(0); // tick 2: A starts the idle reaper
          yield* sleep(0);
          // tick 3: A starts the deadline reaper; C ends here, cancelling both, and A
        }
      });
      yield* spawn(function* B(): Co<void> {
        try { yield* sleep(60_000); } finally {
          yield* sleep(0);
          yield* sleep(0);
          try { yield* client.request(url); out.push("b served"); } catch (e) { out.push("b " + (e as Error).message); }
        }
      });
      yield* sleep(10);
    });
    const r = await settledWithin(p, 2500, "still running after 2.5 s");
    expect(`${r} / ${out.join(" | ")}`).toMatch(/^ended \/ .*b .*TIMEOUT/);
  } finally {
    silent.server.close(); // also lets a hung run end (its connection is reset)
  }
}, 10_000);

// Since 067841c: when main ends with deadlines armed by several tasks, the drain cancels the
// reaper and those tasks in the same tick; the reaper, stepped before a task that has not yet
// disarmed its deadline (spawned after the reaper), sees #count > 0 and sleeps WIND_DOWN_MS
// before looking again, although that task disarms it in the very same tick. Every run() end
// with two or more server connections (or requests) in progress takes ~5 ms longer (measured
// with a real serve() and 3 keep-alive connections: 0.4 ms at 359a67c, 6.6 ms now).
test("run() ends in the tick its tasks disarm their deadlines (the reaper does not sleep WIND_DOWN_MS for deadlines about to be disarmed) (found by review)", async () => {
  const { reactor } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const waiter = (name: string) => function* (): Co<void> {
      const d = wd.arm(10_000, () => {});
      try {
        if (!wd.running) yield* wd.start();
        yield* sleep(1e9);
      } finally {
        wd.disarm(d);
      }
    };
    yield* spawn(waiter("a"), { name: "a" }); // starts the reaper: its id is between a's and b's
    yield* sleep(1);
    yield* spawn(waiter("b"), { name: "b" });
    yield* sleep(1);
  });
  // main ended at virtual time 2 ms; nothing is left to wait for after its cleanups.
  expect(reactor.now()).toBe(2);
});

// main ends: A and B clean up. A's finally arms a deadline and starts the reaper R (born in the
// drain: A's helper). B's finally arms a 100 ms deadline on R (a generator action, like the
// client's ex.expire()). When it passes, R marks it expired, takes it out and spawns its expiry
// action X. X's nearest task from before the drain is A, not R: X is A's helper. A's cleanup ends
// within that tick (before X's first step): X is cancelled unstarted, B's action never runs,
// R ends (nothing armed, no action left), and B waits for ever (bounded here: 400 ms).
test("an expiry action spawned by a reaper born in the drain runs even if the task whose cleanup started the reaper ends in that tick (found by review)", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { ran: false, expired: false, size: -1, running: true, waited: 0 };
    let bd: Deadline | undefined;
    yield* spawn(function* A(): Co<void> {
      try { yield* sleep(1e9); } finally {
        const d = wd.arm(10_000, () => {});
        try {
          if (!wd.running) yield* wd.start();
          // A's cleanup ends about when B's deadline passes (here: within the tick it fires).
          for (let i = 0; i < 400; i++) {
            yield* sleep(1);
            if (bd?.expired) break;
            yield* sleep(0);
            if (bd?.expired) break;
          }
        } finally {
          wd.disarm(d);
        }
      }
    });
    yield* spawn(function* B(): Co<void> {
      try { yield* sleep(1e9); } finally {
        yield* sleep(0);
        yield* sleep(0);
        const d = (bd = wd.arm(100, function* () { state.ran = true; }));
        if (!wd.running) yield* wd.start();
        let i = 0;
        for (; i < 400 && !state.ran; i++) yield* sleep(1);
        state.waited = i;
        state.expired = d.expired;
        state.size = wd.size;
        state.running = wd.running;
      }
    });
    yield* sleep(1);
    return state;
  });
  expect({ ...result, waited: undefined }).toEqual({ ran: true, expired: true, size: 0, running: false, waited: undefined });
});

// The same with the HTTP client. Tick 3 runs [idle reaper, A, B, main]: A's request (not
// cancelled) spawns the deadline reaper R and waits in start()'s sleep(0); B, a worker cancelled
// earlier, makes its request (timeout 300 ms) in its finally: idle reaper and R both count as
// running, so it starts neither; main ends in that tick. The drain cancels R before its first
// step and A at its sleep(0); B's request to a silent server is bounded by nothing: run() never ends.
test("a request in a cleanup, made in the tick main ends right after another request spawned the reaper, still times out and run() ends (found by review)", async () => {
  const silent = await rawServer(() => null);
  const url = `http://127.0.0.1:${silent.port}/`;
  const client = new HttpClient({ timeout: 300 });
  const out: string[] = [];
  try {
    const p = run(function* () {
      const b = yield* spawn(function* B(): Co<void> {
        try { yield* sleep(60_000); } finally {
          try { yield* client.request(url); out.push("b served"); } catch (e) { out.push("b " + (e as Error).message); }
        }
      });
      yield* sleep(10);
      yield* spawn(function* A(): Co<void> {
        try { yield* client.request(url); out.push("a served"); } catch (e) { out.push("a " + (e as Error).name); }
      });
      yield* spawn(function* canceller(): Co<void> { yield* cancel(b); });
      yield* sleep(0); // tick 2: A starts the idle reaper; B is cancelled: [idle, A, B, main]
      yield* sleep(0); // tick 3: A spawns R, B arms its deadline on it, main ends
    });
    const r = await settledWithin(p, 2500, "still running after 2.5 s");
    expect(`${r} / ${out.join(" | ")}`).toMatch(/^ended \/ .*b .*TIMEOUT/);
  } finally {
    silent.server.close(); // also lets a hung run end (its connection is reset)
  }
}, 10_000);

// C's cancel is delivered before main ends; its finally arms a 100 ms deadline (a generator
// action, like the client's ex.expire()) and starts the reaper R (before the drain). R fires it:
// the deadline is marked expired and taken out, and its expiry action X is spawned. main ends
// before X's first step (in that tick, after R, or first thing the next one): the drain cancels
// every live task, X too, unstarted, so the action never runs. C, cancelled once already, is not
// cancelled again and waits for ever for an expiry that never comes (bounded here: 400 ms).
test("an expiry action spawned just before main ends (not yet stepped) still runs (found by review)", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { ran: false, expired: false, size: -1, waited: 0 };
    let cd: Deadline | undefined;
    const c = yield* spawn(function* C(): Co<void> {
      try {
        yield* sleep(1e9);
      } finally {
        const d = (cd = wd.arm(100, function* () { state.ran = true; }));
        if (!wd.running) yield* wd.start();
        let i = 0;
        for (; i < 400 && !state.ran; i++) yield* sleep(1);
        state.waited = i;
        state.expired = d.expired;
        state.size = wd.size;
      }
    });
    yield* sleep(5);
    yield* spawn(function* canceller(): Co<void> { yield* cancel(c); });
    // main ends within a tick of the deadline firing (before the action's first step).
    for (let i = 0; i < 400; i++) {
      yield* sleep(1);
      if (cd?.expired) break;
      yield* sleep(0);
      if (cd?.expired) break;
    }
    return state;
  });
  expect({ ...result, waited: undefined }).toEqual({ ran: true, expired: true, size: 0, waited: undefined });
});

// Tick 3 runs [A, B, main]. A (a plain task, not cancelled yet) arms a deadline and starts the
// reaper R (spawned, not stepped; A waits in start()'s sleep(0)). B (cancel delivered already,
// cleaning up) arms a 100 ms deadline: `running` is true (R alive, unstarted, not cancelled), so
// it starts nothing. main ends in that same tick: the drain cancels R before its first step
// and A at start()'s sleep(0) (so A does not retry; its deadline is disarmed). B's cancel was
// delivered already: nothing cancels it again, and no reaper is left to fire its deadline.
test("a deadline armed on a reaper that is then cancelled before its first step by the drain (in the same tick) still fires (found by review)", async () => {
  const { result, reactor } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { expired: false, size: -1, runningAtArm: false, aOut: "", waited: 0 };
    const b = yield* spawn(function* B(): Co<void> {
      try {
        yield* sleep(1e9);
      } finally {
        const d = wd.arm(100, () => {});
        state.runningAtArm = wd.running;
        if (!wd.running) yield* wd.start();
        let i = 0;
        for (; i < 400 && !d.expired; i++) yield* sleep(1);
        state.waited = i;
        state.expired = d.expired;
        state.size = wd.size;
        wd.disarm(d);
      }
    });
    yield* sleep(1);
    yield* spawn(function* A(): Co<void> {
      yield* sleep(0);
      const d = wd.arm(10_000, () => {});
      try {
        if (!wd.running) yield* wd.start();
        state.aOut = "started";
        yield* sleep(1e9);
      } catch (e) {
        state.aOut = (e as Error).name;
        throw e;
      } finally {
        wd.disarm(d);
      }
    });
    yield* spawn(function* canceller(): Co<void> { yield* cancel(b); });
    yield* sleep(0); // tick 2: [A, canceller, main] -> [A, B, main]
    yield* sleep(0); // tick 3: A starts R, B arms on it, main ends here
    return state;
  });
  // runningAtArm is true on the code under review (R alive, unstarted, not yet cancelled); not asserted.
  expect({ ...result, runningAtArm: undefined, waited: undefined }).toEqual({ expired: true, size: 0, runningAtArm: undefined, aOut: "Cancelled", waited: undefined });
  expect(result.waited).toBeLessThan(150);
});

/**
 * Review of e8d3d67: an orphan expiry action by the reaper, interrupted by the
 * reaper's own cancel, is lost.
 */

// R fires d2 (spawning X2) and settles on X1, still running. Next tick X1 ends (R is resumed
// with a value: ready, not waiting) and then main ends: the drain cancels X2 before its first
// step (an orphan) and R, whose cancel is held back to its next yield. R runs the orphan inline
// (`yield* quietly(orphan)`): the orphan's first yield is that next yield, the Cancelled is
// thrown into the orphan, quietly() passes it on, the reap loop takes it as its own first
// cancel and ends (nothing left): d2's action never ran, and its waiter W hangs.
test("an orphan expiry action by the reaper is not lost to the reaper's held-back cancel (found by review)", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const state = { x1: false, ran2: false, waited: 0, expired2: false };
    let d2: Deadline | undefined;
    yield* spawn(function* W(): Co<void> {
      wd.arm(10, function* () {
        state.x1 = true;
        while (!d2!.expired) yield* sleep(0);
      });
      d2 = wd.arm(20, function* () {
        yield* sleep(0);
        state.ran2 = true;
      });
      yield* wd.start();
      try {
        yield* sleep(1e9);
      } finally {
        let i = 0;
        for (; i < 400 && !state.ran2; i++) yield* sleep(1);
        state.waited = i;
        state.expired2 = d2.expired;
      }
    });
    while (!state.x1) yield* sleep(1); // woken after X1 began: polls behind it
    while (!d2!.expired) yield* sleep(0);
    return state;
  });
  expect(result.expired2).toBe(true);
  expect(result.ran2).toBe(true);
});

/**
 * Review of e8d3d67: an orphan expiry action runs inline in the reaper, so while it waits no
 * other deadline fires (they fire only once it is done, far past ms + granularity).
 */

// C (cancelled before main ends) arms a 100 ms deadline whose action takes 200 ms; the drain
// cancels its action task before its first step (the orphan case the commit handles), so the
// reaper runs it inline. D, cancelled by the drain, arms a 50 ms deadline in its finally (on
// the running reaper). D's deadline should pass within 50 + 10 ms; it fires only after the
// orphan's 200 ms.
test("a slow orphan expiry action does not hold back the other deadlines (found by review)", async () => {
  const { result } = await virtual(function* () {
    const wd = new Watchdog(10, "t");
    const me = yield* current();
    const now = () => me.owner.clock();
    const state = { ran: false, dArmedAt: -1, dFiredAt: -1 };
    let cd: Deadline | undefined;
    const c = yield* spawn(function* C(): Co<void> {
      try {
        yield* sleep(1e9);
      } finally {
        cd = wd.arm(100, function* () { yield* sleep(200); state.ran = true; });
        if (!wd.running) yield* wd.start();
        for (let i = 0; i < 1000 && !state.ran; i++) yield* sleep(1);
      }
    });
    yield* spawn(function* D(): Co<void> {
      try {
        yield* sleep(1e9);
      } finally {
        state.dArmedAt = now();
        let fired = false;
        wd.arm(50, () => { fired = true; state.dFiredAt = now(); });
        if (!wd.running) yield* wd.start();
        for (let i = 0; i < 1000 && !fired; i++) yield* sleep(1);
      }
    });
    yield* sleep(5);
    yield* spawn(function* canceller(): Co<void> { yield* cancel(c); });
    for (let i = 0; i < 400; i++) {
      yield* sleep(1);
      if (cd?.expired) break;
      yield* sleep(0);
      if (cd?.expired) break;
    }
    return state;
  });
  expect(result.ran).toBe(true);
  expect(result.dFiredAt).toBeGreaterThanOrEqual(0);
  expect(result.dFiredAt - result.dArmedAt).toBeLessThanOrEqual(60 + 10);
});
