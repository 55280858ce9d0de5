/**
 * The HTTP/1.x client, `HttpClient`: a connection pool with keep-alive reuse, a per-host cap,
 * HTTP/1.0 one-shot mode, size caps, a timeout, and retries of requests on stale connections.
 * Built on corun's connect and syscalls; imports no Bun API.
 */
import { abortConn, closeConn } from "./close.ts";
import { current, sleep } from "../syscalls.ts";
import { Cancelled, UsageError } from "../errors.ts";
import type { Task, TaskOwner } from "../task.ts";
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { NetError } from "../net/errors.ts";
import { HttpCode, HttpError, isRequestFailure } from "./errors.ts";
import { show } from "./head.ts";
import { TOKEN } from "./fields.ts";
import type { StreamedResponse } from "./streamed-response.ts";
import { readResponse, type Progress, type Read, type ReadOptions, type Use } from "./client-read.ts";
import { describe, isAsyncFunction, runningTask } from "../syscall.ts";
import { checkKeys, unknownKey } from "../option-keys.ts";
import { ConnPool } from "./pool.ts";
import { encodeRequest, isStreamedRequest, parseTarget, type StreamedRequest, type Target } from "./target.ts";
import type { HttpClientOptions, HttpClientStats, RequestOptions } from "./options.ts";
import { HttpResponse } from "./response-object.ts";
import { Watchdog } from "./watchdog.ts";
import { IdleReaper } from "./idle.ts";
import { connectWithin, Exchange } from "./deadline.ts";
import { WATCH_BYTES, sendWhileReading, streamWhileReading } from "./client-send.ts";

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);

/** The keys of HttpClientOptions and RequestOptions (others are refused: a misspelt one would be ignored). */
const CLIENT_KEYS = Object.keys({ maxConnectionsPerHost: 1, timeout: 1, idleTimeout: 1, maxHeaderBytes: 1, maxBodyBytes: 1 } satisfies Record<keyof HttpClientOptions, 1>);
const REQUEST_KEYS = Object.keys({ method: 1, headers: 1, body: 1, http10: 1, keepAlive: 1, timeout: 1 } satisfies Record<keyof RequestOptions, 1>);

/**
 * An HTTP client with its own connection pool.
 *
 * @example
 * ```ts
 * import { run, serve, HttpClient } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* () { return "hi"; } });
 *   const client = new HttpClient({ maxConnectionsPerHost: 4, timeout: 2000 });
 *   for (let i = 0; i < 3; i++) yield* client.request(server.url);
 *   console.log(client.stats().connects, server.accepted); // 1 1
 *   yield* client.close();
 *   yield* server.close();
 * });
 * ```
 */
export class HttpClient {
  readonly #pool: ConnPool;
  readonly #timeout: number;
  readonly #maxHeader: number;
  readonly #maxBody: number;
  readonly #watchdog = new Watchdog(10, "http-client-timeouts");
  /** Closes keep-alive connections idle longer than `idleTimeout`. */
  readonly #idle: IdleReaper;
  #requests = 0;
  #connects = 0;
  #reused = 0;
  #retries = 0;
  #closed = false;
  /** Requests starting a helper task now (see #helper). */
  #starting = 0;
  /** The scheduler of the run this client serves (its deadlines and idle expiry are tasks of that run). */
  #run: TaskOwner | undefined = undefined;

  constructor(options?: HttpClientOptions) {
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError(`new HttpClient(options): options must be an object, got ${describe(options)}`);
    options ??= {};
    checkKeys(options, CLIENT_KEYS, "new HttpClient(options)");
    const cap: unknown = options.maxConnectionsPerHost === undefined ? 256 : options.maxConnectionsPerHost; // null is no default
    if (typeof cap !== "number") throw new TypeError(`HttpClient: maxConnectionsPerHost must be an integer >= 1, got ${describe(cap)}`);
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`HttpClient: maxConnectionsPerHost must be an integer >= 1, got ${describe(cap)}`);
    this.#idle = new IdleReaper(nonNegative(options.idleTimeout, 4_000, "idleTimeout"), "http-client-idle");
    this.#pool = new ConnPool(cap, () => this.#idle.tick);
    this.#idle.attach(this.#pool);
    this.#timeout = nonNegative(options.timeout, 30_000, "timeout");
    // At least 1: no head fits in none, every response would fail with HEADERS_TOO_LARGE.
    this.#maxHeader = nonNegative(options.maxHeaderBytes, 64 * 1024, "maxHeaderBytes", 1);
    this.#maxBody = nonNegative(options.maxBodyBytes, 16 << 20, "maxBodyBytes");
  }

  /** Counters: requests, connects, reuses, retries; connections open, idle, waiting now. */
  stats(): HttpClientStats {
    return { requests: this.#requests, connects: this.#connects, reused: this.#reused, retries: this.#retries, ...this.#pool.stats() };
  }

  /**
   * Send one request and read the whole response. Throws `HttpError` for a malformed or
   * oversize response (naming what was wrong) or a timeout, `NetError` if the connection fails.
   *
   * @example
   * ```typescript
   * const res = yield* client.request("http://127.0.0.1:8080/items", { method: "POST", body: "{}" });
   * ```
   */
  request(url: string | URL, options?: RequestOptions): Co<HttpResponse> {
    // The generator itself, not one wrapping it: every suspension of a request resumes each level.
    return this.#request(url, options ?? {}, undefined) as Co<HttpResponse>;
  }

  /**
   * Send one request and call `use` with the response once its head has arrived, its body
   * unread: `res.read()` gives the body piece by piece as it arrives (no `maxBodyBytes` cap:
   * nothing is held). Returns what `use` returns. The connection goes back to the pool only if
   * `use` read the body to its end; `timeout` covers `use` too (0 for none). Not retried once
   * `use` has the response.
   *
   * @example
   * ```typescript
   * const saved = yield* client.requestStream(url, {}, function* (res) {
   *   const file = yield* open("/tmp/download", "w");
   *   for (let b = yield* res.read(); b !== null; b = yield* res.read()) yield* file.write(b);
   *   yield* file.close();
   *   return res.received;
   * });
   * ```
   */
  *requestStream<T>(url: string | URL, options: RequestOptions, use: (res: StreamedResponse) => Co<T>): Co<T> {
    if (typeof use !== "function") throw new TypeError(`HttpClient.requestStream(url, options, use): use must be a function* (res) {...}, got ${describe(use)}`);
    if (isAsyncFunction(use)) {
      throw new TypeError("HttpClient.requestStream(url, options, use): use is an async function; write it as function* (res) {...} and wait for promises in it with yield* wait(p)");
    }
    return (yield* this.#request(url, options ?? {}, use as Use)) as T;
  }

  /**
   * Start `helper` (the idle reaper, the deadline watchdog) if it is not running. Starting
   * takes a round (its first step goes first), and requests made meanwhile would find it
   * running and reach the pool ahead of the one that started it: they wait that round too,
   * so requests reach the pool in the order they were made (first come, first served).
   */
  *#helper(helper: { readonly running: boolean; start(): Co<void> }): Co<void> {
    if (!helper.running) {
      this.#starting++;
      try {
        yield* helper.start();
      } finally {
        this.#starting--;
      }
    }
    while (this.#starting > 0) yield* sleep(0);
  }

  *#request(url: string | URL, options: RequestOptions, use: Use | undefined): Co<unknown> {
    this.#claim(use === undefined ? "HttpClient.request" : "HttpClient.requestStream");
    // While a request is in flight the idle reaper stays up, so the connection it leaves idle
    // gets its expiry without a yield after the response.
    this.#idle.begin();
    try {
      // Before the first yield: a request made before close() is one that close() lets finish.
      const target = parseTarget(url);
      if (this.#closed) throw new HttpError(HttpCode.ClientClosed, "the client was closed", target.href);
      yield* this.#helper(this.#idle);
      if (typeof options !== "object" || Array.isArray(options)) {
        throw new HttpError(HttpCode.BadArgument, `${use === undefined ? "request" : "requestStream"}(url, options): options must be an object such as { method, headers, body }, got ${describe(options)}`, target.href);
      }
      const unknown = unknownKey(options, REQUEST_KEYS, `${use === undefined ? "request" : "requestStream"}(url, options)`);
      if (unknown !== undefined) throw new HttpError(HttpCode.BadArgument, unknown, target.href);
      const method = options.method ?? "GET";
      if (typeof method !== "string" || !TOKEN.test(method)) throw new HttpError(HttpCode.BadArgument, `invalid method ${typeof method === "string" ? show(method) : describe(method)}`, target.href);
      // A tunnel's request names an authority, not a path, and its 2xx opens a raw stream: not this client's.
      if (method.toUpperCase() === "CONNECT") throw new HttpError(HttpCode.BadArgument, "CONNECT (a tunnel) is not supported by this client: use connect() for a raw connection", target.href);
      const payload = encodeRequest(method, target, options);
      const timeout = options.timeout === undefined ? this.#timeout : nonNegative(options.timeout, 0, "timeout");
      const keep = flag(options.keepAlive, "keepAlive", target.href) !== false && flag(options.http10, "http10", target.href) !== true;
      const fresh = options.http10 === true;
      if (timeout === 0) return yield* this.#attempts(target, method, payload, keep, fresh, undefined, use);
      // One deadline entry on the client's watchdog, not a task or a timer per request.
      const ex = new Exchange(timeout, target.href);
      const deadline = this.#watchdog.arm(timeout, () => ex.expire());
      try {
        // Inside the try: an error raised at this yield must not leave the deadline armed.
        yield* this.#helper(this.#watchdog);
        return yield* this.#attempts(target, method, payload, keep, fresh, ex, use);
      } catch (error) {
        if (ex.timedOut && !(error instanceof Cancelled)) throw ex.error();
        throw error;
      } finally {
        this.#watchdog.disarm(deadline);
      }
    } catch (error) {
      // Name the task only now: reading it costs, and only errors need it.
      // Not a server request's own failure that a body function forwarded: its server answers it by identity.
      if (error instanceof HttpError && error.taskName === "" && !isRequestFailure(error)) throw error.at(error.url || String(url), (yield* current()).name);
      throw error;
    } finally {
      this.#idle.end();
    }
  }

  /**
   * Close every idle connection; connections in use close when their request ends. Requests
   * already made (in progress, or waiting for a connection) finish; new ones fail with
   * CLIENT_CLOSED. Closing twice is harmless.
   *
   * @example
   * ```ts
   * const client = new HttpClient();
   * yield* client.request("http://127.0.0.1:8080/");
   * yield* client.close(); // the keep-alive connection closes now
   * ```
   */
  *close(): Co<void> {
    this.#claim("HttpClient.close"); // before anything is taken out of the pool
    this.#closed = true;
    const idle = this.#pool.drainIdle();
    try {
      for (const c of idle) yield* closeConn(c);
    } finally {
      // Cancelled part way: the rest still close (a cancel is raised once).
      for (const c of idle) if (!c.closed) yield* closeConn(c);
    }
  }

  /**
   * The calling task's run becomes the one this client serves, unless another is still going:
   * its connections, deadlines and idle expiry belong to that run (a UsageError naming `op`).
   */
  #claim(op: string): void {
    const me = runningTask() as Task<unknown> | undefined; // called from the task's own code: no syscall per request
    if (me === undefined || me.owner === this.#run) return;
    if (this.#run !== undefined && !this.#run.closed) {
      throw new UsageError(me, op, "this client serves another run() still going (a client serves one run at a time: make one per run, or use request(), whose default client is one per run)");
    }
    this.#run = me.owner;
  }

  /** Send on a pooled connection; once more on a fresh one if a reused connection was stale. */
  *#attempts(target: Target, method: string, payload: string | Uint8Array | StreamedRequest, keep: boolean, fresh: boolean, ex: Exchange | undefined, use: Use | undefined): Co<unknown> {
    for (let attempt = 0; ; attempt++) {
      const lease = yield* this.#pool.acquire(target.key, fresh || attempt > 0, ex);
      let conn = lease.conn;
      let reusable = false;
      /** The response was read and the whole request went out: a close can be graceful. */
      let clean = false;
      // A 408 on a reused connection is the server timing out its idle wait, just as this
      // request went out (RFC 9110 §15.5.9): the request was not read; it is sent again.
      // A body written by a function is not written twice (it may have read a file, a stream): never sent again.
      const replayable = !isStreamedRequest(payload);
      const retry408 = replayable && lease.reused && attempt === 0 && IDEMPOTENT.has(method);
      const progress: Progress = { head: false, handed: false, received: -1, ex };
      try {
        if (ex?.timedOut) throw ex.error();
        if (conn === undefined) {
          conn = yield* connectWithin(target.connect, ex);
          this.#connects++;
        } else {
          this.#reused++;
          progress.received = conn.received; // any byte of a response after this: no retry
        }
        if (ex !== undefined) {
          if (ex.timedOut) throw ex.error();
          ex.conn = conn;
        }
        const res = yield* this.#exchange(conn, payload, method, target, use, retry408, progress);
        // Bytes (or a FIN) after the response: the next response on this connection would be
        // read from them, so it is closed, not pooled. Nor after a timeout (its expiry is
        // resetting this connection), nor once the client closed, nor if the server answered
        // before it took the whole request. A response left part read (a streamed one's `use`
        // stopped early) is reset, so the server stops sending it at once.
        clean = res.sentAll && res.complete;
        reusable = keep && res.keepAlive && res.sentAll && !conn.hasInput && !ex?.timedOut && !this.#closed;
        if (res.status === 408 && retry408 && !progress.handed) {
          // The server timed this connection out, whatever its head says: not pooled again.
          reusable = false;
          this.#retries++;
          continue;
        }
        // A streamed response's `use` that ran past the deadline without noticing (it read nothing meanwhile).
        if (progress.handed && ex?.timedOut) throw ex.error();
        this.#requests++;
        return res.response;
      } catch (error) {
        if (ex?.timedOut && !(error instanceof Cancelled)) throw ex.error();
        // Stale only if nothing of a response came (a connection cut mid-response is not retried).
        const stale = replayable && !progress.head && lease.reused && attempt === 0 && IDEMPOTENT.has(method) && conn?.received === progress.received &&
          ((error instanceof HttpError && error.code === HttpCode.NoResponse) || error instanceof NetError);
        if (stale) {
          this.#retries++;
          continue;
        }
        if (error instanceof HttpError && error.url === "" && !isRequestFailure(error)) throw new HttpError(error.code, error.detail, target.href, "", error);
        throw error;
      } finally {
        if (ex !== undefined) ex.conn = undefined;
        try {
          // An exchange that broke off (an error, a cancel, a timeout), or was answered before
          // the whole request went out, leaves nothing on its connection worth delivering:
          // reset it rather than send the rest of a request.
          if (conn !== undefined && !reusable) yield* clean ? closeConn(conn) : abortConn(conn);
        } finally {
          // Also when a cancel is raised at that yield: the place in the pool is freed.
          this.#pool.release(target.key, conn, reusable);
        }
      }
    }
  }

  /** Send the request (a large one while the response is read: see sendWhileReading) and read the response. */
  *#exchange(conn: Conn, payload: string | Uint8Array | StreamedRequest, method: string, target: Target, use: Use | undefined, retry408: boolean, progress: Progress): Co<Read & { sentAll: boolean }> {
    const o: ReadOptions = { maxHeader: this.#maxHeader, maxBody: this.#maxBody, use, retry408, progress };
    if (isStreamedRequest(payload)) return yield* streamWhileReading(conn, payload, () => readResponse(conn, method, target, o));
    if (payload.length <= WATCH_BYTES) {
      // Most requests: sent whole, then the response read (in line: a level fewer to resume).
      yield* conn.write(payload);
      return { ...(yield* readResponse(conn, method, target, o)), sentAll: true };
    }
    return yield* sendWhileReading(conn, payload, () => readResponse(conn, method, target, o));
  }
}

/** A request's true/false option, as given (undefined: the default); anything else is BAD_ARGUMENT showing it. */
function flag(v: unknown, name: string, href: string): boolean | undefined {
  if (v === undefined || typeof v === "boolean") return v;
  throw new HttpError(HttpCode.BadArgument, `the request option ${name} must be true or false, got ${describe(v)}`, href);
}

function nonNegative(v: number | undefined, fallback: number, name: string, min = 0): number {
  if (v === undefined) return fallback;
  // What was given, as it is: a string "5000" printed as 5000 would read as a valid value.
  if (typeof v !== "number") throw new TypeError(`HTTP client option ${name} must be a finite number >= ${min}, got ${describe(v)}`);
  if (!(v >= min) || !Number.isFinite(v)) throw new RangeError(`HTTP client option ${name} must be a finite number >= ${min}, got ${describe(v)}`);
  return v;
}
