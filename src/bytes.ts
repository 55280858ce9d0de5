/**
 * Byte helpers shared by the protocol layers (net read helpers, HTTP bodies, files).
 * Imports nothing.
 */

/**
 * Join `chunks` (holding `total` bytes in all) into one array; one chunk is returned as is.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])], 3); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(0);
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Shared and never written: an empty start needs no allocation of its own. */
const EMPTY = new Uint8Array(0);

/**
 * Bytes arriving in pieces, gathered into one array: the first piece is kept as it is, later
 * ones go into a store that doubles when full, so a peer sending a byte at a time costs O(n)
 * copying, not O(n²). `bytes` is the whole so far (a view: it is not copied again).
 *
 * @example
 * ```ts
 * const g = new ByteGather();
 * g.push(new Uint8Array([1]));
 * g.push(new Uint8Array([2, 3]));
 * g.bytes; // Uint8Array [1, 2, 3]
 * ```
 */
export class ByteGather {
  bytes: Uint8Array = EMPTY;
  #store: Uint8Array | undefined = undefined;

  /** Append `b`. */
  push(b: Uint8Array): void {
    const have = this.bytes;
    if (have.length === 0) {
      this.bytes = b;
      return;
    }
    const n = have.length + b.length;
    let store = this.#store;
    if (store === undefined || store.length < n) {
      store = new Uint8Array(Math.max(2 * n, 1024));
      store.set(have);
      this.#store = store;
    }
    store.set(b, have.length);
    this.bytes = store.subarray(0, n);
  }
}
