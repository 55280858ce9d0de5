/**
 * A head on the wire is bytes, one per character (latin1, RFC 9110 §5.5): what goes out is
 * encoded so, and what comes in decoded so (`Buffer.from(value, "latin1")` gives the bytes back).
 * Bodies stay UTF-8. Imports nothing but Bun's Buffer.
 */
import { concatBytes } from "../bytes.ts";

/** A character a head can carry only as one byte of its own (obs-text, U+0080–U+00FF). */
const HIGH = /[\x80-\xff]/;
/** A character no head can carry (above U+00FF: one byte per character). */
export const WIDE = /[\u0100-\uffff]/;

/**
 * `head` as it goes out: the text itself while it is ASCII (the common case, written as is),
 * else its latin1 bytes (UTF-8 would send two bytes for "é", read back as "Ã©").
 *
 * @example
 * ```ts
 * wireHead("x-name: café\r\n"); // Uint8Array [..., 0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]
 * ```
 */
export function wireHead(head: string): string | Uint8Array {
  return HIGH.test(head) ? Buffer.from(head, "latin1") : head;
}

/**
 * `head` followed by a text `body` (UTF-8): one string while the head is ASCII.
 *
 * @example
 * ```ts
 * headWith("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", "hi"); // one string
 * ```
 */
export function headWith(head: string, body: string): string | Uint8Array {
  if (!HIGH.test(head)) return head + body;
  const h = Buffer.from(head, "latin1");
  const b = Buffer.from(body);
  return concatBytes([h, b], h.length + b.length);
}

/**
 * The text of a head's bytes, one character per byte (not windows-1252, which the WHATWG
 * "latin1" decoder is: it turns 0x80 into "€", and the bytes could not be had back).
 *
 * @example
 * ```ts
 * decodeHead(new Uint8Array([0x63, 0xe9])); // "cé"
 * ```
 */
export function decodeHead(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
