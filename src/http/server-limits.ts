/**
 * An HTTP server's limits, checked once at start: sizes, deadlines and the connection cap,
 * with their defaults; and one request's own body limits (`limitsFor`), checked per request.
 * A bad value is a RangeError (a bad kind of value a TypeError) naming the option and the request.
 */
import type { HttpServerOptions, RequestLimits } from "./options.ts";
import { SET_LIMITS, type BodyGuard, type HttpRequest } from "./request.ts";
import { describe, ignoreRejection, isAsyncFunction, isGeneratorFunction } from "../syscall.ts";
import { Thrown } from "../outcome.ts";
import { checkKeys } from "../option-keys.ts";

/** The keys of HttpServerOptions (others are refused: a misspelt one would be ignored). */
export const SERVER_KEYS = Object.keys(
  { maxHeaderBytes: 1, maxBodyBytes: 1, headerTimeout: 1, bodyTimeout: 1, maxConnections: 1, limitsFor: 1, onError: 1 } satisfies Record<keyof HttpServerOptions, 1>,
);
const LIMITS_KEYS = Object.keys({ maxBodyBytes: 1, bodyTimeout: 1 } satisfies Record<keyof RequestLimits, 1>);

/** The limits a server runs with, every one set. */
export interface ServerLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  headerTimeout: number;
  bodyTimeout: number;
  /** Infinity for no cap. */
  maxConnections: number;
}

/**
 * `options`' limits, checked, with the defaults for those not given.
 *
 * @example
 * ```ts
 * serverLimits({ maxBodyBytes: 4096 }).headerTimeout; // 10000
 * ```
 */
export function serverLimits(options: HttpServerOptions): ServerLimits {
  const limitsFor: unknown = options.limitsFor;
  if (limitsFor !== undefined && (typeof limitsFor !== "function" || isAsyncFunction(limitsFor) || isGeneratorFunction(limitsFor))) {
    throw new TypeError(`HTTP server option limitsFor must be a plain function (req) => ({ maxBodyBytes?, bodyTimeout? }), got ${describe(limitsFor)}`);
  }
  const onError: unknown = options.onError;
  if (onError !== undefined && (typeof onError !== "function" || isGeneratorFunction(onError))) {
    // A generator function's body would never run: every report dropped without a word.
    throw new TypeError(`HTTP server option onError must be a function (error, req) => void, got ${describe(onError)}`);
  }
  const max = options.maxConnections ?? Infinity;
  if (max !== Infinity && !(Number.isInteger(max) && max >= 1)) throw new RangeError(`HTTP server option maxConnections must be an integer >= 1, got ${describe(max)}`);
  return {
    maxHeaderBytes: positive(options.maxHeaderBytes, 16 * 1024, "maxHeaderBytes"),
    maxBodyBytes: positive(options.maxBodyBytes, 1 << 20, "maxBodyBytes"),
    headerTimeout: positive(options.headerTimeout, 10_000, "headerTimeout"),
    bodyTimeout: positive(options.bodyTimeout, 30_000, "bodyTimeout"),
    maxConnections: max,
  };
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`HTTP server option ${name} must be a finite number > 0, got ${describe(v)}`);
  return v;
}

/**
 * Give `req` (its body not read yet) the limits `limitsFor(req)` asks for, the server's for
 * what it leaves out, and return them; or, as a Thrown, what `limitsFor` threw, or a
 * RangeError naming a bad value and the request. `guard` makes a body deadline of so many ms
 * (undefined for a request without a body).
 *
 * @example
 * ```ts
 * const limits = applyLimitsFor((req) => (req.path === "/upload" ? { maxBodyBytes: 1 << 30 } : undefined), req, server, guard);
 * ```
 */
export function applyLimitsFor(limitsFor: (req: HttpRequest) => RequestLimits | undefined, req: HttpRequest, server: ServerLimits, guard: ((ms: number) => BodyGuard) | undefined): ServerLimits | Thrown {
  try {
    const own: unknown = limitsFor(req);
    if (own === undefined) return server;
    const where = `limitsFor(req) for ${req.method} ${req.path}`;
    if (own === null || typeof own !== "object" || typeof (own as { then?: unknown }).then === "function" || typeof (own as { next?: unknown }).next === "function") {
      ignoreRejection(own);
      throw new TypeError(`HTTP server option ${where} returned ${describe(own)}: expected { maxBodyBytes?, bodyTimeout? } or undefined`);
    }
    checkKeys(own, LIMITS_KEYS, `HTTP server option ${where} returned an object with`);
    const { maxBodyBytes, bodyTimeout } = own as RequestLimits;
    const limits = {
      ...server,
      maxBodyBytes: positive(maxBodyBytes, server.maxBodyBytes, `${where}: maxBodyBytes`),
      bodyTimeout: positive(bodyTimeout, server.bodyTimeout, `${where}: bodyTimeout`),
    };
    req[SET_LIMITS](limits.maxBodyBytes, guard?.(limits.bodyTimeout));
    return limits;
  } catch (error) {
    return new Thrown(error);
  }
}
