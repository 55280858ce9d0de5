/** Seeded random model of FileReads on a pipe with a fake PipeSource: reads, readAlls, cancels, give-backs, chunk sizes and ends. */
import { FileReads } from "../../src/reactor/file-reads.ts";
import { FileHandle } from "../../src/reactor/file-handle.ts";
import type { PipeSource } from "../../src/reactor/file-pipe.ts";
import type { CompletionSink, Ticket } from "../../src/reactor/reactor.ts";
import { rng } from "../helpers.ts";


type Item = number | "END"; // a byte or an end
interface T {
  name: string; all: boolean; state: "idle" | "waiting" | "done"; cancel: boolean;
  t?: Ticket; mark: number; sn: number; parts: Uint8Array[]; n: number; forever: boolean;
}

export interface Opts { ends?: boolean; cancels?: boolean; nulls?: boolean /* count END deliveries as served for the expected rule */ }

export async function runModel(seed: number, steps: number, opts: Opts = {}): Promise<string | undefined> {
  const r = rng(seed);
  // The stream: bytes, with ends between.
  const tokens: (Uint8Array | null)[] = [];
  let b = 0;
  for (let i = 0; i < 200; i++) {
    if (opts.ends !== false && r(8) === 0) tokens.push(null);
    else { const n = 1 + r(6); const c = Buffer.alloc(n); for (let j = 0; j < n; j++) c[j] = b++ % 251; tokens.push(c); }
  }
  const flatTokens: Item[] = [];
  for (const t of tokens) if (t === null) flatTokens.push("END"); else for (const x of t) flatTokens.push(x);
  let ti = 0;
  let pending: { resolve: (b: Uint8Array | null) => void } | undefined;
  let sources = 0;
  const trace: string[] = [];
  const mkSource = (): PipeSource => {
    const id = ++sources;
    let ended = false;
    return {
      read: (n) => {
        if (pending !== undefined) throw new Error(`two source reads at once (source ${id})`);
        if (ended) return Promise.resolve(null);
        trace.push(`src${id}.read(${n})`);
        return new Promise((resolve) => { pending = { resolve }; });
      },
      cancel: () => { ended = true; if (pending) { const p = pending; pending = undefined; p.resolve(null); } },
    };
  };
  const live = new Set<Ticket>();
  const reads = new FileReads(live, undefined, mkSource);
  const h = new FileHandle("/virtual/fifo", "r", {});
  h.positional = false; h.streamed = true; h.fd = 99;
  const tasks: T[] = [];
  const byT = new Map<Ticket, T>();
  // The log: deliveries in order.
  const log: { task: string; bytes: Item[]; seq: number }[] = [];
  let seq = 0;
  const errors: string[] = [];
  const servedLog: string[] = []; // byte deliveries, never taken back (the documented rule's count)
  const sink: CompletionSink = {
    complete: (tk, v) => {
      const task = byT.get(tk);
      if (task === undefined || task.state !== "waiting" || task.t !== tk) { errors.push(`complete of a ticket not awaited: ${tk.taskName}`); return; }
      const bytes = v as Uint8Array | null;
      trace.push(`complete ${task.name} ${bytes === null ? "null" : Array.from(bytes).join(",")}`);
      if (bytes !== null && bytes.length > (tk.b as number)) errors.push(`${task.name} got ${bytes.length} > ${tk.b}`);
      if (bytes !== null && bytes.length === 0) errors.push(`${task.name} got an empty buffer`);
      log.push({ task: task.name, bytes: bytes === null ? ["END"] : Array.from(bytes), seq: seq++ });
      if (bytes !== null || opts.nulls) servedLog.push(task.name);
      task.state = "idle"; task.t = undefined;
      if (task.all) { if (bytes === null) task.state = "done"; else task.parts.push(Buffer.from(bytes)); }
    },
    fail: (tk, e) => { errors.push(`fail ${tk.taskName}: ${String(e)}`); },
  };
  const spawn = (all: boolean, forever = false) => {
    const task: T = { name: `${all ? "A" : "R"}${tasks.length}`, all, state: "idle", cancel: false, mark: h.served, sn: 0, parts: [], n: 0, forever };
    // readAll takes its mark when it begins: at its first step (see stepTask)
    tasks.push(task);
    trace.push(`spawn ${task.name}`);
    return task;
  };
  const expectedAccept = (task: T): boolean => {
    // independent rule: no other task got bytes (or an end, with opts.nulls) since the readAll began
    return servedLog.slice(task.sn).every((n) => n === task.name);
  };
  const stepTask = (task: T) => {
    if (task.cancel) {
      // readAll's catch
      if (task.all && task.parts.length > 0) {
        const total = Buffer.concat(task.parts);
        const keptBefore = h.kept?.length ?? 0;
        const servedBefore = h.served;
        const exp = expectedAccept(task);
        trace.push(`giveBack ${task.name} ${Array.from(total).join(",")} mark=${task.mark} own=${task.parts.length} served=${servedBefore} exp=${exp}`);
        const L0 = log.length;
        h.giveBack(total, task.mark, task.parts.length);
        const accepted = h.served !== servedBefore || (h.kept?.length ?? 0) !== keptBefore;
        if (accepted !== exp) errors.push(`giveBack of ${task.name}: accepted=${accepted}, expected ${exp}`);
        if (accepted) {
          if (log.some((e) => e.seq >= task.n && e.task !== task.name && e.bytes[0] === "END")) errors.push(`ENDREORDER: ${task.name}'s give-back accepted after another task's read got an end since it began`);
          // its own deliveries since it began leave the log (they are delivered again)
          for (let i = log.length - 1; i >= 0; i--) if (log[i]!.task === task.name && log[i]!.seq >= task.n && log[i]!.bytes[0] !== "END") log.splice(i, 1);
        }
      }
      task.state = "done";
      return;
    }
    if (!task.all && !task.forever && r(6) === 0) { task.state = "done"; return; }
    if (task.all && task.parts.length === 0) { task.mark = h.served; task.n = seq; task.sn = servedLog.length; }
    const n = task.all ? 1 << 20 : 1 + r(8);
    const tk: Ticket = { op: "file.read", a: h, b: n, taskName: task.name };
    task.t = tk; task.state = "waiting";
    byT.set(tk, task);
    trace.push(`read ${task.name} ${n}`);
    reads.read(h, tk, sink);
  };
  const supply = () => {
    const p = pending!; pending = undefined;
    if (ti >= tokens.length) { pending = p; return false; }
    const t = tokens[ti++]!;
    // a stream may give more at once: join the next chunk sometimes
    let c = t;
    while (c !== null && ti < tokens.length && tokens[ti] !== null && r(3) === 0) c = Buffer.concat([c, tokens[ti++]!]);
    trace.push(`supply ${c === null ? "END" : Array.from(c).join(",")}`);
    p.resolve(c);
    return true;
  };
  const flush = async () => { await Promise.resolve(); await Promise.resolve(); await Promise.resolve(); };
    for (let step = 0; step < steps; step++) {
      const k = r(10);
      const alive = tasks.filter((t) => t.state !== "done");
      if (k < 2 && alive.length < 5) spawn(r(2) === 0);
      else if (k < 5) { const idle = alive.filter((t) => t.state === "idle"); if (idle.length) stepTask(idle[r(idle.length)]!); }
      else if (k < 6 && opts.cancels !== false) {
        if (alive.length) {
          const t = alive[r(alive.length)]!;
          if (!t.cancel) {
            t.cancel = true;
            trace.push(`cancel ${t.name} (${t.state})`);
            if (t.state === "waiting") { const tk = t.t!; live.delete(tk); t.state = "idle"; t.t = undefined; reads.cancel(tk); }
          }
        }
      } else if (pending !== undefined) { supply(); await flush(); }
      if (errors.length) break;
      await flush();
    }
    // drain: no more cancels; one reader reading forever; readAll tasks finish
    spawn(false, true);
    for (const t of tasks) if (!t.all) t.forever = true;
    for (let i = 0; i < 5000 && errors.length === 0; i++) {
      const idle = tasks.filter((t) => t.state === "idle");
      if (idle.length) { stepTask(idle[r(idle.length)]!); await flush(); continue; }
      if (pending !== undefined && ti < tokens.length) { supply(); await flush(); continue; }
      await flush();
      if (tasks.filter((t) => t.state === "idle").length === 0) break;
    }
    const flatLog: Item[] = log.flatMap((e) => e.bytes);
    const want = flatTokens;
    if (errors.length === 0) {
      const same = flatLog.length === want.length && flatLog.every((x, i) => x === want[i]);
      if (!same) {
        let i = 0; while (i < flatLog.length && flatLog[i] === want[i]) i++;
        errors.push(`stream differs at ${i}: log ${JSON.stringify(flatLog.slice(i, i + 10))} want ${JSON.stringify(want.slice(i, i + 10))} (log ${flatLog.length}, want ${want.length}, kept ${h.kept?.length ?? 0}, endPending ${h.endPending})`);
      }
    }
    return errors.length ? `seed ${seed}: ${errors.join("; ")}\n${trace.slice(0, Number(process.env.TR ?? 60)).join("\n")}` : undefined;
}
