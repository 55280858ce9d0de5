/**
 * Outgoing HTTP bodies: what a program may send (text, bytes, a sequence of chunks), checked,
 * and put on the wire (byte lengths, chunked coding). Pure functions; imports no Bun API.
 */
import { HttpCode, HttpError } from "./errors.ts";
import { concatBytes } from "../bytes.ts";
import { Syscall, describe } from "../syscall.ts";

const encoder = new TextEncoder();

/**
 * A body a program sends: text (UTF-8), bytes, or a sequence of chunks (sent chunked).
 *
 * @example
 * ```typescript
 * yield* request(url, { method: "POST", body: ["part 1, ", "part 2"] }); // transfer-encoding: chunked
 * ```
 */
export type BodyInit = string | Uint8Array | Iterable<string | Uint8Array>;

/** True for the chunk-sequence form of a body. */
export function isStream(body: BodyInit | undefined): body is Iterable<string | Uint8Array> {
  return body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array);
}

/** The byte length of a string or bytes (ASCII strings without encoding them). */
export function byteLength(body: string | Uint8Array): number {
  if (typeof body !== "string") return body.length;
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(body) ? body.length : encoder.encode(body).length;
}

/** A piece of a chunk-sequence body, checked: a string or bytes (anything else is BAD_ARGUMENT, naming it). */
function piece(data: unknown): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  // A coroutine's call given as the body (`body: req.text()`): its first yield is a syscall.
  const hint = data instanceof Syscall ? " (a coroutine's call given as a body? write body: yield* req.text())" : "";
  throw new HttpError(HttpCode.BadArgument, `a body's chunk is ${describe(data)}, not a string or a Uint8Array${hint}`);
}

/**
 * Check a body a program gives (`what` names it in the error): a string, bytes, an iterable of
 * them, or (where `fn` says so) a function writing it. Anything else is BAD_ARGUMENT.
 */
export function checkBody(body: unknown, what: string, fn: boolean): void {
  if (body === undefined || typeof body === "string" || body instanceof Uint8Array) return;
  if (typeof body === "function" ? fn : typeof (body as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] === "function") return;
  const expected = fn ? "a string, a Uint8Array, an iterable of them, or a function writing it" : "a string, a Uint8Array, or an iterable of them";
  throw new HttpError(HttpCode.BadArgument, `${what} is ${describe(body)} (expected ${expected})`);
}

/** One chunk of a chunked body on the wire (an empty chunk is skipped: it would end the body). */
export function chunk(data: string | Uint8Array): (string | Uint8Array)[] {
  data = piece(data);
  const n = byteLength(data);
  if (n === 0) return [];
  return [`${n.toString(16)}\r\n`, data, "\r\n"];
}

/** The end of a chunked body. */
export const LAST_CHUNK = "0\r\n\r\n";

/** All chunks of a sequence as one byte array (for peers that cannot take chunked coding). */
export function collect(body: Iterable<string | Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const p of body) {
    const b = typeof p === "string" ? encoder.encode(p) : (piece(p) as Uint8Array);
    parts.push(b);
    total += b.length;
  }
  return concatBytes(parts, total);
}
