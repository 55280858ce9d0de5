/**
 * PendingWrites: writes that wait for the OS to take their last byte, in order, as parallel
 * arrays (no record per write). A driver feeds it the byte counts the host accepted (a
 * socket's `write`, a file's `writev`); it completes the writes those bytes finish.
 */
import type { CompletionSink, Ticket } from "./reactor.ts";

/**
 * Writes in flight on one socket or file, oldest first. A write added with no ticket only
 * counts its bytes (nobody waits for it).
 *
 * @example
 * ```ts
 * const w = new PendingWrites();
 * w.add(ticketA, 10);
 * w.add(ticketB, 5);
 * w.took(12, sink); // completes ticketA (10 bytes); ticketB waits for 3 more
 * ```
 */
export class PendingWrites {
  #tickets: (Ticket | undefined)[] = []; // undefined once its task was cancelled
  #ends: number[] = [];
  #lengths: number[] = [];
  #head = 0;
  /** Bytes ever queued on the socket, and bytes the kernel has taken: the difference is unsent. */
  queued = 0;
  accepted = 0;

  /** A write of `length` bytes was queued behind the others (`t` undefined: nobody waits for it). */
  add(t: Ticket | undefined, length: number): void {
    this.queued += length;
    this.#tickets.push(t);
    this.#ends.push(this.queued);
    this.#lengths.push(length);
  }

  /** The kernel took `n` more bytes: complete every write whose last byte is now taken. */
  took(n: number, sink: CompletionSink): void {
    this.accepted += n;
    const tickets = this.#tickets;
    const ends = this.#ends;
    let i = this.#head;
    while (i < tickets.length && ends[i]! <= this.accepted) {
      const t = tickets[i];
      if (t !== undefined) sink.complete(t, this.#lengths[i]);
      i++;
    }
    if (i === tickets.length) {
      tickets.length = 0;
      ends.length = 0;
      this.#lengths.length = 0;
      this.#head = 0;
    } else if (i > 1024 && i * 2 > tickets.length) {
      this.#tickets = tickets.slice(i);
      this.#ends = ends.slice(i);
      this.#lengths = this.#lengths.slice(i);
      this.#head = 0;
    } else this.#head = i;
  }

  /** The socket failed: every waiting write gets `errorFor(ticket)`; nothing is left unsent. */
  failAll(sink: CompletionSink, errorFor: (t: Ticket) => unknown): void {
    const tickets = this.#tickets;
    for (let i = this.#head; i < tickets.length; i++) {
      const t = tickets[i];
      if (t !== undefined) sink.fail(t, errorFor(t));
    }
    this.#tickets = [];
    this.#ends = [];
    this.#lengths = [];
    this.#head = 0;
    this.accepted = this.queued;
  }

  /** A waiting write's task was cancelled: its bytes still go, in order; only its completion is dropped. True if it was waiting. */
  cancel(t: Ticket): boolean {
    const tickets = this.#tickets;
    for (let j = this.#head; j < tickets.length; j++) {
      if (tickets[j] === t) {
        tickets[j] = undefined;
        return true;
      }
    }
    return false;
  }
}
