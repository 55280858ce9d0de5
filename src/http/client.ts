/**
 * The HTTP/1.x client: `request(url, options)` and `HttpClient` (a connection pool with
 * keep-alive reuse, a per-host cap, HTTP/1.0 one-shot mode, size caps and a timeout).
 * Built on corun's connect and syscalls; imports no Bun API.
 */
import { abortConn, closeConn } from "./close.ts";
import { cancel, current, spawn } from "../syscalls.ts";
import { Cancelled } from "../errors.ts";
import type { Co } from "../types.ts";
import type { Conn } from "../net/conn.ts";
import { NetError } from "../net/errors.ts";
import { HttpCode, HttpError } from "./errors.ts";
import { connectionHas, parseResponseHead, readHead, show } from "./head.ts";
import { readBody, responseFraming } from "./body.ts";
import { ConnPool } from "./pool.ts";
import { encodeRequest, parseTarget, type Target } from "./target.ts";
import type { HttpClientOptions, HttpClientStats, RequestOptions } from "./options.ts";
import { HttpResponse } from "./response-object.ts";
import { Watchdog } from "./watchdog.ts";
import { IdleReaper } from "./idle.ts";
import { connectWithin, Exchange } from "./deadline.ts";

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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

  constructor(options: HttpClientOptions = {}) {
    const cap = options.maxConnectionsPerHost ?? 256;
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`HttpClient: maxConnectionsPerHost must be an integer >= 1, got ${String(cap)}`);
    this.#idle = new IdleReaper(nonNegative(options.idleTimeout, 4_000, "idleTimeout"), "http-client-idle");
    this.#pool = new ConnPool(cap, () => this.#idle.tick);
    this.#idle.attach(this.#pool);
    this.#timeout = nonNegative(options.timeout, 30_000, "timeout");
    this.#maxHeader = nonNegative(options.maxHeaderBytes, 64 * 1024, "maxHeaderBytes");
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
  *request(url: string | URL, options: RequestOptions = {}): Co<HttpResponse> {
    // While a request is in flight the idle reaper stays up, so the connection it leaves idle
    // gets its expiry without a yield after the response.
    this.#idle.begin();
    try {
      if (!this.#idle.running) yield* this.#idle.start();
      const target = parseTarget(url);
      if (this.#closed) throw new HttpError(HttpCode.ClientClosed, "the client was closed", target.href);
      const method = options.method ?? "GET";
      if (!METHOD.test(method)) throw new HttpError(HttpCode.BadArgument, `invalid method ${show(method)}`, target.href);
      const payload = encodeRequest(method, target, options);
      const timeout = options.timeout === undefined ? this.#timeout : nonNegative(options.timeout, 0, "timeout");
      const keep = options.keepAlive !== false && options.http10 !== true;
      const fresh = options.http10 === true;
      if (timeout === 0) return yield* this.#attempts(target, method, payload, keep, fresh, undefined);
      // One deadline entry on the client's watchdog, not a task or a timer per request.
      const ex = new Exchange(timeout, target.href);
      const deadline = this.#watchdog.arm(timeout, () => ex.expire());
      try {
        // Inside the try: an error raised at this yield must not leave the deadline armed.
        if (!this.#watchdog.running) yield* this.#watchdog.start();
        return yield* this.#attempts(target, method, payload, keep, fresh, ex);
      } catch (error) {
        if (ex.timedOut && !(error instanceof Cancelled)) throw ex.error();
        throw error;
      } finally {
        this.#watchdog.disarm(deadline);
      }
    } catch (error) {
      // Name the task only now: reading it costs, and only errors need it.
      if (error instanceof HttpError && error.taskName === "") throw error.at(error.url || String(url), (yield* current()).name);
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
    this.#closed = true;
    const idle = this.#pool.drainIdle();
    try {
      for (const c of idle) yield* closeConn(c);
    } finally {
      // Cancelled part way: the rest still close (a cancel is raised once).
      for (const c of idle) if (!c.closed) yield* closeConn(c);
    }
  }

  /** Send on a pooled connection; once more on a fresh one if a reused connection was stale. */
  *#attempts(target: Target, method: string, payload: string | Uint8Array, keep: boolean, fresh: boolean, ex: Exchange | undefined): Co<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const lease = yield* this.#pool.acquire(target.key, fresh || attempt > 0, ex);
      let conn = lease.conn;
      let reusable = false;
      let answered = false;
      try {
        if (ex?.timedOut) throw ex.error();
        if (conn === undefined) {
          conn = yield* connectWithin(target.connect, ex);
          this.#connects++;
        } else this.#reused++;
        if (ex !== undefined) {
          if (ex.timedOut) throw ex.error();
          ex.conn = conn;
        }
        const res = yield* this.#exchange(conn, payload, method, target);
        // Bytes (or a FIN) after the response: the next response on this connection would be
        // read from them, so it is closed, not pooled. Nor after a timeout (its expiry is
        // resetting this connection), nor once the client closed, nor if the server answered
        // before it took the whole request.
        answered = true;
        reusable = keep && res.keepAlive && res.sentAll && !conn.hasInput && !ex?.timedOut && !this.#closed;
        if (res.response.status === 408 && lease.reused && attempt === 0 && IDEMPOTENT.has(method)) {
          // A 408 on a reused connection is the server timing out its idle wait, just as this
          // request went out (RFC 9110 §15.5.9): the request was not read; send it again.
          this.#retries++;
          continue;
        }
        this.#requests++;
        return res.response;
      } catch (error) {
        if (ex?.timedOut && !(error instanceof Cancelled)) throw ex.error();
        const stale = lease.reused && attempt === 0 && IDEMPOTENT.has(method) &&
          ((error instanceof HttpError && error.code === HttpCode.NoResponse) || error instanceof NetError);
        if (stale) {
          this.#retries++;
          continue;
        }
        if (error instanceof HttpError && error.url === "") throw new HttpError(error.code, error.detail, target.href, "", error);
        throw error;
      } finally {
        if (ex !== undefined) ex.conn = undefined;
        // An exchange that broke off (an error, a cancel, a timeout) leaves nothing on its
        // connection worth delivering: reset it rather than wait to send the rest of a request.
        if (conn !== undefined && !reusable) yield* answered ? closeConn(conn) : abortConn(conn);
        this.#pool.release(target.key, conn, reusable);
      }
    }
  }

  /**
   * Send the request and read the response. A large request is sent by a task of its own
   * while the response is read (RFC 9112 §9.5): a server that answers early (a 413, a 401)
   * and stops reading gets its answer to the caller instead of a stalled upload, and the
   * rest of the body is not sent.
   */
  *#exchange(conn: Conn, payload: string | Uint8Array, method: string, target: Target): Co<{ response: HttpResponse; keepAlive: boolean; sentAll: boolean }> {
    if (payload.length <= WATCH_BYTES) {
      yield* conn.write(payload);
      return { ...(yield* this.#read(conn, method, target)), sentAll: true };
    }
    let sent = false;
    const writer = yield* spawn(function* sendRequest() {
      try {
        yield* conn.write(payload);
        sent = true;
      } catch {
        // A reset or close under the write: the read (or the exchange's end) reports what happened.
      }
    });
    try {
      const res = yield* this.#read(conn, method, target);
      return { ...res, sentAll: sent };
    } finally {
      if (!writer.ended) {
        try {
          yield* cancel(writer);
        } catch (error) {
          // Something pending for this task was raised at that yield (it is raised once): cancel again.
          if (!writer.ended) yield* cancel(writer);
          throw error;
        }
      }
    }
  }

  *#read(conn: Conn, method: string, target: Target): Co<{ response: HttpResponse; keepAlive: boolean }> {
    for (let interim = 0; ; interim++) {
      if (interim > MAX_INTERIM) throw new HttpError(HttpCode.BadStatusLine, `more than ${MAX_INTERIM} interim (1xx) responses before the response`);
      const raw = yield* readHead(conn, this.#maxHeader);
      if (raw === null) throw new HttpError(HttpCode.NoResponse, "the server closed the connection without sending a response");
      const head = parseResponseHead(raw);
      if (head.status < 200) {
        if (head.status === 101) throw new HttpError(HttpCode.BadStatusLine, "101 Switching Protocols is not supported");
        continue; // 100 Continue and other interim responses
      }
      const known = head.fields.known;
      const framing = responseFraming(method, head.status, known);
      const body = yield* readBody(conn, framing, this.#maxBody);
      // A body framed both ways (or chunked in HTTP/1.0) is read as chunked, but the connection
      // is not trusted for another request (RFC 9112 §6.3).
      const ambiguous = known["transfer-encoding"] !== undefined && (known["content-length"] !== undefined || head.minor === 0);
      const keepAlive = !ambiguous && framing.kind !== "close" && (head.minor === 1 ? !connectionHas(known, "close") : connectionHas(known, "keep-alive"));
      return { response: new HttpResponse(head, body, target.href), keepAlive };
    }
  }
}

/** A request larger than this is sent while the response is already read (see #exchange). */
const WATCH_BYTES = 64 * 1024;

/** Most interim (1xx) responses accepted before the final one: a server sending them forever is an error, not a hang. */
const MAX_INTERIM = 16;

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`HTTP client option ${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

const defaults = new WeakMap<object, HttpClient>();

/**
 * Send one HTTP request with the default client of this `run()` (keep-alive pool, 256
 * connections per host, 30 s timeout) and read the whole response.
 *
 * @example
 * ```ts
 * import { run, serve, request } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* (req) { return { body: `you sent ${yield* req.text()}` }; } });
 *   const res = yield* request(`${server.url}/echo`, { method: "POST", body: "abc", timeout: 2000 });
 *   console.log(res.status, res.text()); // 200 you sent abc
 *   const old = yield* request(server.url, { http10: true });
 *   console.log(old.version); // 1.1
 *   yield* server.close();
 * });
 * ```
 */
export function* request(url: string | URL, options?: RequestOptions): Co<HttpResponse> {
  // One default client per scheduler: every task of a run() shares its pool, also those
  // started from outside with scheduler.spawn() (each of which is a root of its own).
  const scheduler = (yield* current()).owner;
  let client = defaults.get(scheduler);
  if (client === undefined) defaults.set(scheduler, (client = new HttpClient()));
  return yield* client.request(url, options);
}
