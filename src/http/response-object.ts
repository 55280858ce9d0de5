/**
 * HttpResponse: what the client returns — status, headers and the whole body, with text and
 * JSON views. Plain data; imports no Bun API.
 */
import type { ResponseHead } from "./head.ts";
import type { Fields, HttpHeaders } from "./fields.ts";

const decoder = new TextDecoder();

/**
 * A response read by `request()`: the body is already read whole.
 *
 * @example
 * ```ts
 * import { run, serve, request } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ port: 0, handler: function* () {
 *     return { headers: { "content-type": "application/json" }, body: '{"n":1}' };
 *   } });
 *   const res = yield* request(server.url);
 *   console.log(res.ok, res.headers["content-type"], res.json<{ n: number }>().n); // true application/json 1
 *   yield* server.close();
 * });
 * ```
 */
export class HttpResponse {
  /** e.g. 200. */
  readonly status: number;
  /** The reason phrase, e.g. `OK`. */
  readonly statusText: string;
  /** `"1.0"` or `"1.1"`. */
  readonly version: "1.0" | "1.1";
  readonly #fields: Fields;
  /** The whole body. */
  readonly body: Uint8Array;
  /** The URL requested. */
  readonly url: string;

  /** Not for users: made by the client. */
  constructor(head: ResponseHead, body: Uint8Array, url: string) {
    this.status = head.status;
    this.statusText = head.statusText;
    this.version = head.minor === 1 ? "1.1" : "1.0";
    this.#fields = head.fields;
    this.body = body;
    this.url = url;
  }

  /** Header fields, names in lower case (repeated fields joined with ", ": read `set-cookie` with `headerValues`). Parsed on first read. */
  get headers(): HttpHeaders {
    return this.#fields.all;
  }

  /**
   * Every value of the header `name` (any case), one per field line, in the order received;
   * `[]` if absent. For fields that cannot be joined with commas, such as `set-cookie`.
   *
   * @example
   * ```ts
   * const cookies = res.headerValues("set-cookie"); // ["a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"]
   * ```
   */
  headerValues(name: string): string[] {
    return this.#fields.values(name);
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return decoder.decode(this.body);
  }

  /**
   * The body parsed as JSON. A body that is no JSON throws a `SyntaxError` naming the
   * response (`the body of 200 OK http://… is not JSON (…)`), its `cause` the parser's error.
   */
  json<T = unknown>(): T {
    const text = this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new SyntaxError(`the body of ${this} is not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
    }
  }

  /** `200 OK http://...` */
  toString(): string {
    return `${this.status} ${this.statusText} ${this.url}`;
  }
}
