/**
 * The HTTP/1.x server (started by serve.ts): accept connections and run each in its own task —
 * read a head (bounded in size and time), serve it (server-exchange.ts), keep the connection
 * alive or close it. Built on corun's listen/accept and syscalls; no Bun API.
 */
import { abortConn, closeConn } from "./close.ts";
import { spawn, cancel } from "../syscalls.ts";
import { ignoreRejection } from "../syscall.ts";
import { Cancelled } from "../errors.ts";
import type { Co } from "../types.ts";
import type { Task } from "../task.ts";
import type { Listener } from "../net/listener.ts";
import type { Conn } from "../net/conn.ts";
import { NetError, hostPort } from "../net/errors.ts";
import { HttpError } from "./errors.ts";
import { readHead } from "./head.ts";
import type { HttpHandler } from "./request.ts";
import { errorResponse } from "./response.ts";
import { Watchdog } from "./watchdog.ts";
import { LAST_REPLY_MS, lingerClose, replyAndClose } from "./server-io.ts";
import type { HttpServerOptions } from "./options.ts";
import { serverLimits, type ServerLimits } from "./server-limits.ts";
import { SHUTDOWN, ServerConns, type ConnState } from "./server-conns.ts";
import { exchange, reject, type ExchangeHost } from "./server-exchange.ts";

/**
 * A running HTTP server: its address, counters, and `close()`.
 *
 * @example
 * ```ts
 * import { run, serve, request } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* () { return "hello"; } });
 *   console.log((yield* request(server.url)).text()); // hello
 *   yield* server.close();
 *   console.log(server.requests); // 1
 * });
 * ```
 */
export class HttpServer {
  readonly #listener: Listener;
  readonly #limits: ServerLimits;
  readonly #watchdog: Watchdog;
  readonly #conns = new ServerConns();
  #acceptor: Task<void> | undefined = undefined;
  #closing = false;
  /** abort() was called: every connection ends with a reset, idle ones too. */
  #aborting = false;
  /** Connections whose client may still be sending when they close (see `lingerClose`). */
  readonly #linger = new WeakSet<Conn>();
  /** What each request's exchange (server-exchange.ts) needs of this server. */
  readonly #exchangeHost: ExchangeHost;
  #accepted = 0;
  #refused = 0;
  #requests = 0;
  #handlerErrors = 0;

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Connections reset at once because `maxConnections` were open. */
  get refused(): number {
    return this.#refused;
  }

  /** Requests answered so far (error responses included). */
  get requests(): number {
    return this.#requests;
  }

  /** Errors thrown by the handler or by `limitsFor` (answered with 500; a streamed body's after its head: the connection is reset). */
  get handlerErrors(): number {
    return this.#handlerErrors;
  }

  /** Not for users: use `serve()` or `httpServer()`. */
  constructor(listener: Listener, handler: HttpHandler, options: HttpServerOptions) {
    this.#listener = listener;
    const limits = (this.#limits = serverLimits(options));
    const watchdog = (this.#watchdog = new Watchdog(Math.max(5, Math.min(250, Math.ceil(Math.min(limits.headerTimeout, limits.bodyTimeout) / 8))), `http-timeouts ${listener.name}`));
    const onError = options.onError;
    const isClosing = this.#isClosing;
    const isAborting = (): boolean => this.#aborting;
    this.#exchangeHost = {
      watchdog,
      limits,
      limitsFor: options.limitsFor,
      handler,
      get closing() {
        return isClosing();
      },
      get aborting() {
        return isAborting();
      },
      linger: this.#linger,
      answered: () => void this.#requests++,
      failed: (error, req) => {
        this.#handlerErrors++;
        try {
          ignoreRejection(onError?.(error, req)); // an async hook's failure too
        } catch {
          // A failing error hook must not take the connection down with it.
        }
      },
    };
  }

  /** The port listened on. */
  get port(): number {
    return this.#listener.port;
  }
  /** The address listened on. */
  get hostname(): string {
    return this.#listener.hostname;
  }
  /** `http://host:port` (`https://` on a TLS listener), for clients. */
  get url(): string {
    return `${this.#listener.tls ? "https" : "http"}://${hostPort(this.hostname, this.port)}`;
  }
  /** Connections open now. */
  get connections(): number {
    return this.#conns.size;
  }

  /** For readHead: once the server is closing, a connection with nothing of a request yet is done. */
  readonly #isClosing = (): boolean => this.#closing;

  /** @internal start the accept loop. */
  *start(): Co<void> {
    this.#acceptor = yield* spawn(() => this.#acceptLoop(), { name: `http-accept ${this.#listener.name}` });
  }

  /**
   * Stop: no new connections; idle keep-alive connections are closed, but a request that has
   * begun to arrive is served; requests in progress finish (their connections close after the
   * response). Returns when every connection has ended, but for the caller's own when a handler
   * calls it (that one closes after its response); a handler's call does not wait for other
   * handlers inside close() either (each would wait for the other). Every call does the whole
   * job, so a call cut short (a deadline) is finished by the next.
   *
   * @example
   * ```typescript
   * yield* server.close();
   * ```
   */
  *close(): Co<void> {
    yield* this.#stop();
    yield* this.#conns.drain();
  }

  /**
   * Stop at once: no new connections, and every connection's request is cut short (its handler
   * cancelled) and the connection reset — but for the caller's own, when a handler calls it.
   * Returns once those handlers have ended; what one answers after the cancel does not go out.
   * For a shutdown whose grace period ran out: `moveOnAfter(5000, () => server.close())`, then `abort()`.
   *
   * @example
   * ```typescript
   * yield* moveOnAfter(5000, () => server.close());
   * if (server.connections > 0) yield* server.abort();
   * ```
   */
  *abort(): Co<void> {
    this.#aborting = true;
    yield* this.#stop();
    yield* this.#conns.cancelAll();
  }

  *#stop(): Co<void> {
    this.#closing = true;
    yield* this.#listener.close(); // closing twice is harmless
    if (this.#acceptor !== undefined) yield* cancel(this.#acceptor);
  }

  *#acceptLoop(): Co<void> {
    for (;;) {
      let conn: Conn;
      try {
        conn = yield* this.#listener.accept();
      } catch (error) {
        if (this.#closing || (error instanceof NetError && error.code === "ERR_SOCKET_CLOSED")) return;
        throw error;
      }
      this.#accepted++;
      if (this.#conns.size >= this.#limits.maxConnections) {
        // At the cap: reset at once, its descriptor freed now (a close would wait for the
        // client's FIN). (Not accepting would not help: the host accepts every connection
        // anyway, and each would hold a descriptor, with no deadline, until taken.)
        this.#refused++;
        yield* abortConn(conn);
        continue;
      }
      const s = this.#conns.add(conn);
      try {
        // Named after its peer now (two getpeername syscalls): once the client resets, the peer can no longer be read.
        s.task = yield* spawn(() => this.#serveConn(s), { name: `http-conn ${conn.name}` });
      } catch (error) {
        // The acceptor was cancelled (close()) as it took this connection: nobody serves it.
        this.#conns.delete(s);
        yield* closeConn(conn);
        throw error;
      }
    }
  }

  *#serveConn(s: ConnState): Co<void> {
    const conn = s.conn;
    let leftToExpiry = false;
    let cancelled = false;
    /** A request is being served (its handler, its response): not a wait for the next head. */
    let serving = false;
    try {
      // Closing: the request already here (pipelined, or arrived as the last response went out) is served first.
      for (let n = 0; !this.#closing || n === 0 || conn.hasInput; n++) {
        s.idle = true;
        s.headBegun = false;
        s.headRequest = false;
        const first = n === 0;
        const watchdog = this.#watchdog;
        const deadline = watchdog.arm(this.#limits.headerTimeout, function* () {
          // A request whose head began, or the connection's first, gets a 408 (sent from a task
          // of its own: the reaper must not wait on a client); an idle keep-alive connection
          // just closes (a 408 there could cross a request the client is sending just then).
          if (first || s.headBegun) yield* spawn(() => replyAndClose(watchdog, conn, errorResponse(408, "the request head took too long", s.headRequest), LAST_REPLY_MS), { name: `http-408 ${conn.name}` });
          else yield* closeConn(conn);
        });
        let head: Uint8Array | null | HttpError;
        try {
          head = yield* this.#nextHead(s);
        } catch (error) {
          if (deadline.expired) return;
          throw error;
        } finally {
          this.#watchdog.disarm(deadline);
          s.idle = false; // close() wakes it no more: what follows is not a wait for a request
        }
        if (head instanceof HttpError) {
          if (!deadline.expired) yield* reject(this.#exchangeHost, conn, head, "", s.headRequest);
          return;
        }
        if (head === null) return;
        // The head came whole just as its deadline passed: the expiry has the connection (a 408
        // on its way, or a close), so this request is not served (a 200 then a 408 would follow),
        // and the connection is left to it (closing it here could cut the 408 off).
        if (deadline.expired) {
          leftToExpiry = true;
          return;
        }
        serving = true;
        if (!(yield* exchange(this.#exchangeHost, conn, head))) return;
        serving = false;
      }
    } catch (error) {
      // Cancelled (the server or the run ends): close at once; a linger would have no deadline left.
      cancelled = error instanceof Cancelled;
      // A peer that resets or vanishes ends its connection; anything else is a bug to report.
      if (!(error instanceof NetError) && !(error instanceof HttpError)) throw error;
    } finally {
      try {
        if (leftToExpiry) {
          // the expiry closes it
        } else if (!cancelled && (this.#linger.has(conn) || conn.hasInput)) {
          // The client may still be sending (a body left unread, requests pipelined behind a
          // close): a plain close with its bytes unread would reset the connection, and the
          // reset can destroy the response before the client has read it.
          yield* lingerClose(this.#watchdog, conn);
        } else if (cancelled && (this.#aborting || serving)) {
          // abort(), or a request cut short by the run's end: reset, so a response cut off looks
          // cut off (a FIN would end an HTTP/1.0 body framed by the close as if it were whole).
          yield* abortConn(conn);
        } else yield* closeConn(conn);
      } finally {
        this.#conns.delete(s);
      }
    }
  }

  /**
   * The next request head, an HttpError for a malformed one, or null: the client closed, or the
   * server is closing and nothing of a request has come. close() waking it makes it read again.
   */
  *#nextHead(s: ConnState): Co<Uint8Array | null | HttpError> {
    for (;;) {
      try {
        if (!this.#watchdog.running) yield* this.#watchdog.start(); // in the caller's try: an error here disarms the deadline
        return yield* readHead(s.conn, this.#limits.maxHeaderBytes, this.#isClosing, s);
      } catch (error) {
        if (error instanceof HttpError) return error;
        if (error !== SHUTDOWN) throw error;
      }
    }
  }
}
