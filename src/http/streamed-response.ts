/**
 * StreamedResponse: a client response handed over with its body unread, to be read piece by
 * piece as it arrives (`requestStream`). Its status and headers are there at once; its body
 * is read through the connection, which goes back to the pool only if the body is read to its end.
 */
import type { Co } from "../types.ts";
import { current } from "../syscalls.ts";
import { runningTask } from "../syscall.ts";
import { UsageError } from "../errors.ts";
import type { Task } from "../task.ts";
import { HttpError } from "./errors.ts";
import type { ResponseHead } from "./head.ts";
import type { Fields, HttpHeaders } from "./fields.ts";
import type { BodyReader } from "./body.ts";

/**
 * A response whose body is read as it arrives. Get one from `requestStream()` (or
 * `client.requestStream()`), inside the function you give it: once that function returns, the
 * response is over (a body not read to its end closes the connection instead of pooling it).
 *
 * @example
 * ```ts
 * import { run, serve, requestStream } from "corun";
 * await run(function* () {
 *   const server = yield* serve({ handler: function* () { return { body: ["a", "b", "c"] }; } });
 *   const size = yield* requestStream(server.url, {}, function* (res) {
 *     let n = 0;
 *     for (let b = yield* res.read(); b !== null; b = yield* res.read()) n += b.length;
 *     return `${res.status} ${n}`;
 *   });
 *   console.log(size); // 200 3
 *   yield* server.close();
 * });
 * ```
 */
export class StreamedResponse {
  /** e.g. 200. */
  readonly status: number;
  /** The reason phrase, e.g. `OK`. */
  readonly statusText: string;
  /** `"1.0"` or `"1.1"`. */
  readonly version: "1.0" | "1.1";
  /** The URL requested. */
  readonly url: string;
  readonly #fields: Fields;
  readonly #reader: BodyReader;
  #reading = false;
  #over = false;

  /** Not for users: made by the client. */
  constructor(head: ResponseHead, reader: BodyReader, url: string) {
    this.status = head.status;
    this.statusText = head.statusText;
    this.version = head.minor === 1 ? "1.1" : "1.0";
    this.#fields = head.fields;
    this.#reader = reader;
    this.url = url;
  }

  /** Header fields, names in lower case (repeated fields joined with ", ": read `set-cookie` with `headerValues`). */
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

  /** True once the body was read to its end. */
  get bodyRead(): boolean {
    return this.#reader.done;
  }

  /** Body bytes read so far. */
  get received(): number {
    return this.#reader.received;
  }

  /**
   * The next piece of the body (the bytes that came next, any size), or null at its end.
   * Throws `HttpError` for a malformed or cut-off body, `NetError` if the connection fails,
   * and an error if called after the function that got this response has returned.
   */
  *read(): Co<Uint8Array | null> {
    if (this.#over) throw new UsageError(runningTask() as Task<unknown> | undefined, "StreamedResponse.read", `the response from ${this.url} is over (read it inside the function given to requestStream)`);
    if (this.#reading) throw new UsageError(runningTask() as Task<unknown> | undefined, "StreamedResponse.read", `the body of ${this.url} is already being read`);
    this.#reading = true;
    try {
      return yield* this.#reader.read();
    } catch (error) {
      // Named where it is seen, inside `use` too (not only once it leaves requestStream).
      if (error instanceof HttpError && error.taskName === "") throw error.at(this.url, (yield* current()).name);
      throw error;
    } finally {
      this.#reading = false;
    }
  }

  /** @internal the function it was given to has returned. */
  end(): void {
    this.#over = true;
  }

  /** `200 OK http://...` */
  toString(): string {
    return `${this.status} ${this.statusText} ${this.url}`;
  }
}
