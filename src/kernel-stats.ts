/**
 * KernelStats: the counters a kernel keeps as it runs (ticks, steps, syscalls by op, batch
 * sizes, host timers armed), read by `scheduler.stats()`. Plain fields: the hot path bumps
 * them directly. Imports only the op codes.
 */
import { Op } from "./syscall.ts";

/** Kernel op names by op code (`Op`), for the syscall counts. */
const OP_NAMES: readonly string[] = Object.entries(Op)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name[0]!.toLowerCase() + name.slice(1));

/**
 * One kernel's counters.
 *
 * @example
 * ```ts
 * const s = new KernelStats();
 * s.counts[Op.Sleep]!++;
 * s.batch(3);
 * s.syscalls(); // { sleep: 1 }
 * ```
 */
export class KernelStats {
  ticks = 0;
  steps = 0;
  spawned = 0;
  /** Kernel syscalls by op code (`Op`); I/O ops are counted by name in `ioCounts`. */
  readonly counts: number[] = OP_NAMES.map(() => 0);
  /** I/O syscalls by op name (a plain record: cheaper per op than a Map's get and set). */
  readonly ioCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  maxBatch = 0;
  batches = 0;
  batched = 0;
  timersArmed = 0;

  /** A tick submitted `size` host syscalls as one batch. */
  batch(size: number): void {
    this.batches++;
    this.batched += size;
    if (size > this.maxBatch) this.maxBatch = size;
  }

  /** Syscalls made so far by op name (kernel ops and I/O ops), leaving out those never made. */
  syscalls(): Record<string, number> {
    const out: Record<string, number> = {};
    this.counts.forEach((n, code) => {
      if (code !== Op.Io && n > 0) out[OP_NAMES[code]!] = n;
    });
    for (const op in this.ioCounts) out[op] = this.ioCounts[op]!;
    return out;
  }
}
