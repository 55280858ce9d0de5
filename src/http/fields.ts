/**
 * A head's header fields: the ones that frame a message at hand, every other field parsed only
 * when read (as one record, or one field's values line by line), and the helpers that read
 * field values. Plain strings; imports only describe().
 */
import { describe } from "../syscall.ts";

/** A field name (or a method): a token (RFC 9110 §5.1, §5.6.2). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Header fields with lower-case names; repeated fields are joined with ", ".
 *
 * @example
 * ```typescript
 * const type = res.headers["content-type"]; // undefined when absent
 * ```
 */
export type HttpHeaders = Record<string, string>;

/**
 * The header section of a head: validated when parsed, but the full record is built only
 * when someone reads it (most responses are consumed without a look at their headers).
 */
export class Fields {
  /** The fields that frame a message (content-length, transfer-encoding, connection, host, expect). */
  readonly known: HttpHeaders;
  readonly #text: string;
  readonly #at: number;
  #all: HttpHeaders | undefined = undefined;
  constructor(text: string, at: number, known: HttpHeaders) {
    this.#text = text;
    this.#at = at;
    this.known = known;
  }
  /** Every field, names in lower case, repeated fields joined with ", ". */
  get all(): HttpHeaders {
    if (this.#all === undefined) {
      const headers = Object.create(null) as HttpHeaders; // no prototype: "constructor" is not a header
      eachField(this.#text, this.#at, (key, value) => {
        const had = headers[key];
        headers[key] = had === undefined ? value : `${had}, ${value}`;
      });
      this.#all = headers;
    }
    return this.#all;
  }
  /** Every value of the field `name` (any case), one per field line, in order: [] if it is absent. */
  values(name: string): string[] {
    if (typeof name !== "string") throw new TypeError(`headerValues(name): name must be a string, got ${describe(name)}`);
    // No field is named anything but a token (ASCII); and on anything else toLowerCase() would
    // fold some non-ASCII letters to ASCII ones (the Kelvin sign to "k").
    if (!TOKEN.test(name)) return [];
    const want = name.toLowerCase();
    const out: string[] = [];
    eachField(this.#text, this.#at, (key, value) => {
      if (key === want) out.push(value);
    });
    return out;
  }
}

/** Each field line of a scanned (so valid) header section: its name in lower case and its value. */
function eachField(text: string, from: number, field: (key: string, value: string) => void): void {
  for (let at = from, nl = 0; at < text.length; at = nl + 1) {
    nl = text.indexOf("\n", at);
    if (nl < 0) nl = text.length;
    const end = nl > at && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (end === at) continue;
    const colon = text.indexOf(":", at);
    const key = text.slice(at, colon).toLowerCase();
    if (key === "__proto__") continue; // never a real field; it would reach the prototype
    field(key, trimOws(text.slice(colon + 1, end)));
  }
}

/**
 * Strip optional whitespace (RFC 9110: spaces and tabs only) from both ends. Not `trim()`,
 * which also strips other characters (NBSP, line separators) another parser would keep.
 */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** True if the `Connection` header lists `token` (e.g. "close", "keep-alive"). */
export function connectionHas(headers: HttpHeaders, token: string): boolean {
  const v = headers.connection;
  return v !== undefined && listHas(v, token);
}

/** True if the comma-separated field value `value` lists `token` (lower case), in any case. */
export function listHas(value: string, token: string): boolean {
  if (value.length === token.length) return value.toLowerCase() === token;
  return value.toLowerCase().split(",").some((t) => trimOws(t) === token);
}
