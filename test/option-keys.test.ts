import { describe, expect, test } from "bun:test";
import { checkKeys, unknownKey } from "../src/option-keys.ts";
import {
  Channel,
  group,
  HttpClient,
  HttpCode,
  HttpError,
  httpServer,
  iterate,
  listen,
  connect,
  open,
  recvAsync,
  recvFrom,
  request,
  run,
  Scheduler,
  select,
  sendAsync,
  serve,
  shield,
  spawn,
  udp,
  type Co,
} from "../src/index.ts";
import { FakeReactor } from "../src/testing.ts";
import { virtual, virtualError } from "./helpers.ts";

describe("checkKeys", () => {
  test("names the unknown key, the nearest known one, and every known one", () => {
    expect(() => checkKeys({ hostname: "h", prot: 80 }, ["hostname", "port"], "listen(options)")).toThrow(
      new TypeError('listen(options): unknown option "prot" (did you mean "port"?); it takes hostname, port'),
    );
  });

  test("suggests a name that differs only in case, or by a swap of two letters", () => {
    expect(unknownKey({ highWatermark: 1 }, ["highWaterMark"], "f()")).toContain('(did you mean "highWaterMark"?)');
    expect(unknownKey({ tiemout: 1 }, ["wait", "timeout"], "f()")).toContain('(did you mean "timeout"?)');
  });

  test("suggests nothing for a key that is nothing like any known one", () => {
    const message = unknownKey({ colour: "red" }, ["name", "forget"], "group(body, options)");
    expect(message).toBe('group(body, options): unknown option "colour"; it takes name, forget');
  });

  test("a short key is matched at one edit at most", () => {
    expect(unknownKey({ nam: 1 }, ["name"], "f()")).toContain('did you mean "name"');
    expect(unknownKey({ id: 1 }, ["io"], "f()")).toContain('did you mean "io"');
    expect(unknownKey({ ab: 1 }, ["name"], "f()")).not.toContain("did you mean");
  });

  test("accepts known keys, keys set to undefined, inherited keys and symbol keys", () => {
    const inherited = Object.create({ extra: 1 }) as object;
    expect(unknownKey({ name: "x", forget: true }, ["name", "forget"], "f()")).toBeUndefined();
    expect(unknownKey({ name: "x", nmae: undefined }, ["name"], "f()")).toBeUndefined();
    expect(unknownKey(inherited, ["name"], "f()")).toBeUndefined();
    expect(unknownKey({ [Symbol("s")]: 1 }, ["name"], "f()")).toBeUndefined();
  });
});

/** The TypeError message `f` throws, or "" if it throws nothing. */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return "";
}

/** The error a coroutine function throws at its first steps (before any yield to the kernel). */
function thrownBy(co: () => Co<unknown>): string {
  return thrown(() => {
    const gen = co();
    gen.next();
  });
}

describe("every option object refuses a key it does not take", () => {
  const bad = <T>(o: T): T => o;

  test("run and new Scheduler", async () => {
    const error = await run(function* () {}, bad({ budgt: 5 }) as never).catch((e: unknown) => e);
    expect(String(error)).toContain('unknown option "budgt" (did you mean "budget"?)');
    expect(thrown(() => new Scheduler(bad({ reactor: new FakeReactor(), nmae: "x" }) as never))).toContain('new Scheduler(options) (run\'s options): unknown option "nmae" (did you mean "name"?)');
  });

  test("spawn, shield, scheduler.spawn and group", async () => {
    expect(thrown(() => spawn(function* () {}, bad({ nme: "x" }) as never))).toBe('spawn(co, options): unknown option "nme" (did you mean "name"?); it takes name');
    expect(thrownBy(() => shield(function* () {}, bad({ nam: "x" }) as never))).toContain('shield(co, options): unknown option "nam"');
    const s = new Scheduler({ reactor: new FakeReactor() });
    expect(thrown(() => s.spawn(function* () {}, bad({ nmae: "x" }) as never))).toContain('Scheduler.spawn(co, options): unknown option "nmae"');
    const { error } = await virtualError(function* () {
      yield* group(function* () {}, bad({ forgt: true }) as never);
    });
    expect(String(error)).toContain('group(body, options): unknown option "forgt" (did you mean "forget"?)');
  });

  test("a group's spawn", async () => {
    const { error } = await virtualError(function* () {
      yield* group(function* (g) {
        yield* g.spawn(function* () {}, bad({ naem: "x" }) as never);
      });
    });
    expect(String(error)).toContain('unknown option "naem" (did you mean "name"?)');
  });

  test("select", async () => {
    const { error } = await virtualError(function* () {
      yield* select([recvFrom(new Channel<number>(1))], bad({ timeot: 5 }) as never);
    });
    expect(String(error)).toContain('select(cases, options): unknown option "timeot" (did you mean "timeout"?); it takes wait, timeout');
    // undefined, for a key it does not take, changes nothing: accepted
    const { result: r } = await virtual(function* () {
      return yield* select([recvFrom(new Channel<number>(1))], { wait: false, ...bad({ tiemout: undefined }) } as never);
    });
    expect(r.index).toBe(-1);
  });

  test("recvAsync, sendAsync and iterate", async () => {
    const ch = new Channel<number>(1);
    expect(String(await recvAsync(ch, bad({ signl: undefined, sigal: AbortSignal.timeout(10) }) as never).catch((e: unknown) => e))).toContain(
      'recvAsync(..., options): unknown option "sigal" (did you mean "signal"?)',
    );
    expect(String(await sendAsync(ch, 1, bad({ abort: 1 }) as never).catch((e: unknown) => e))).toContain('sendAsync(..., options): unknown option "abort"; it takes signal');
    expect(thrown(() => iterate(ch, bad({ sginal: 1 }) as never))).toContain('iterate(..., options): unknown option "sginal"');
  });

  test("listen, connect, udp and open", () => {
    expect(thrown(() => listen(bad({ hostname: "127.0.0.1", port: 0, highWaterMak: 5 }) as never))).toContain('listen(options): unknown option "highWaterMak" (did you mean "highWaterMark"?)');
    expect(thrown(() => connect(bad({ port: 1, conectLimit: 3 }) as never))).toContain('connect(options): unknown option "conectLimit" (did you mean "connectLimit"?)');
    expect(thrown(() => connect(bad({ port: 1, reusePort: true }) as never))).toContain('connect(options): unknown option "reusePort"');
    expect(thrown(() => udp(bad({ maxQeued: 3 }) as never))).toContain('udp(options): unknown option "maxQeued" (did you mean "maxQueued"?)');
    expect(thrown(() => open("/tmp/x", "w", bad({ highWatermark: 3 }) as never))).toContain('open(path, mode, options): unknown option "highWatermark" (did you mean "highWaterMark"?)');
  });

  test("listen's reusePort is true or false, and only for a TCP port", () => {
    expect(thrown(() => listen(bad({ port: 0, reusePort: "no" }) as never))).toBe('listen(options): reusePort must be true or false, got "no"');
    expect(thrown(() => listen(bad({ unix: "/tmp/x.sock", reusePort: true }) as never))).toContain("reusePort applies to a TCP port, not to a unix socket");
    expect(thrown(() => listen({ port: 0, reusePort: false }))).toBe("");
  });

  test("serve, httpServer, HttpClient and FakeReactor", () => {
    const handler = function* () {
      return "ok";
    };
    expect(thrownBy(() => serve(bad({ port: 0, handler, maxConections: 3 }) as never))).toContain('serve(options): unknown option "maxConections" (did you mean "maxConnections"?)');
    // A listener's option keeps its own message; given as undefined it is no option at all.
    expect(thrownBy(() => serve(bad({ port: 0, handler, tls: true }) as never))).toContain("tls is a listener's option");
    expect(thrown(() => new HttpClient(bad({ timout: 5 }) as never))).toContain('new HttpClient(options): unknown option "timout" (did you mean "timeout"?)');
    expect(thrown(() => new FakeReactor(bad({ atuo: false }) as never))).toContain('new FakeReactor(options): unknown option "atuo" (did you mean "auto"?)');
  });

  test("httpServer's limits", async () => {
    const error = await run(function* () {
      const l = yield* listen({ hostname: "127.0.0.1", port: 0 });
      try {
        yield* httpServer(l, function* () {
          return "ok";
        }, { bodyTimout: 5 } as never);
      } finally {
        yield* l.close();
      }
    }).catch((e: unknown) => e);
    expect(String(error)).toContain('httpServer(listener, handler, options): unknown option "bodyTimout" (did you mean "bodyTimeout"?)');
  });

  test("request: BAD_ARGUMENT naming the option, before any connection", async () => {
    const { error } = await virtualError(function* () {
      yield* request("http://127.0.0.1:9/", bad({ metod: "POST" }) as never);
    });
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).code).toBe(HttpCode.BadArgument);
    expect((error as Error).message).toContain('request(url, options): unknown option "metod" (did you mean "method"?); it takes method, headers, body, http10, keepAlive, timeout');
  });
});

test("listen and connect refuse a unix path given with a hostname or port: two kinds of address, one dropped without a word (found by review)", () => {
  expect(thrown(() => listen({ unix: "/tmp/x.sock", port: 5 } as never))).toBe("listen(options): unix (a socket path) and port (a TCP address) are two kinds of address: give one");
  expect(thrown(() => connect({ unix: "/tmp/x.sock", hostname: "127.0.0.1", port: 5 } as never))).toBe("connect(options): unix (a socket path) and hostname (a TCP address) are two kinds of address: give one");
});
