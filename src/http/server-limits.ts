/**
 * An HTTP server's limits, checked once at start: sizes, deadlines and the connection cap,
 * with their defaults. A bad value is a RangeError naming the option. Imports only types.
 */
import type { HttpServerOptions } from "./options.ts";

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
  const max = options.maxConnections ?? Infinity;
  if (max !== Infinity && !(Number.isInteger(max) && max >= 1)) throw new RangeError(`HTTP server option maxConnections must be an integer >= 1, got ${String(max)}`);
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
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`HTTP server option ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}
