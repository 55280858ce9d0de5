/**
 * Writing the JSON report where `--json` says: a regular file whole (beside it, then renamed
 * over it, at the path its links lead to), our own stdout or stderr through the open
 * descriptor, and anything else (a device, a FIFO) through its path, once, at the end.
 */
import { accessSync, constants, fstatSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { randomBytes } from "node:crypto";

/** Where a report goes. */
export type ReportSink =
  | { kind: "file"; path: string }
  | { kind: "fd"; fd: number }
  | { kind: "special"; path: string };

/**
 * What `path` is: our stdout or stderr (`/dev/stdout`, or the file fd 1 is redirected to), a
 * regular file (existing or not; links followed), or something else that exists (a device, a FIFO).
 *
 * @example
 * ```ts
 * reportSink("/dev/null"); // { kind: "special", path: "/dev/null" }
 * ```
 */
export function reportSink(path: string): ReportSink {
  const st = statSync(path, { throwIfNoEntry: false }); // through the links
  if (st === undefined) return { kind: "file", path: followLinks(path) };
  for (const fd of [1, 2]) {
    try {
      const f = fstatSync(fd);
      if (f.dev === st.dev && f.ino === st.ino) return { kind: "fd", fd };
    } catch {
      // that descriptor is closed
    }
  }
  return st.isFile() ? { kind: "file", path: realpathSync(path) } : { kind: "special", path };
}

/** A path that does not exist yet, with the links on the way to it followed (at most 40). */
function followLinks(path: string): string {
  let p = resolve(path);
  for (let i = 0; i < 40; i++) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined || !st.isSymbolicLink()) return p;
    let dir = dirname(p);
    try {
      dir = realpathSync(dir); // `..` in the link's target is taken from where the link really is
    } catch {
      // its directory does not exist either: taken as written
    }
    p = resolve(dir, readlinkSync(p));
  }
  return p;
}

/**
 * Refuse a sink the report could not be written to, before any run: for a file, its
 * directory must take a new file (the report is renamed into it) and an existing file be
 * writable; a device or FIFO must be writable (it is not opened now: a FIFO's reader would
 * see its end), and a directory is refused. Throws the system error.
 *
 * @example
 * ```ts
 * checkSink(reportSink("dist/bench.json"));
 * ```
 */
export function checkSink(sink: ReportSink): void {
  if (sink.kind === "fd") return;
  if (sink.kind === "special") {
    // A directory passes the access check, and then takes no report: refused now, not after every run.
    if (statSync(sink.path).isDirectory()) throw Object.assign(new Error(`EISDIR: ${sink.path} is a directory`), { code: "EISDIR" });
    return accessSync(sink.path, constants.W_OK);
  }
  mkdirSync(dirname(sink.path), { recursive: true });
  if (statSync(sink.path, { throwIfNoEntry: false }) !== undefined) accessSync(sink.path, constants.W_OK);
  const probe = partName(sink.path);
  writeFileSync(probe, "");
  rmSync(probe, { force: true });
}

/**
 * Write `text` to the sink. `last`: the final write (a device, a FIFO or our own output gets
 * only that one; a file gets every one, each replacing the last whole). Throws only with `last`.
 *
 * @example
 * ```ts
 * writeReport(sink, JSON.stringify(report), true);
 * ```
 */
export function writeReport(sink: ReportSink, text: string, last: boolean): void {
  try {
    if (sink.kind === "fd") {
      if (last) writeAll(sink.fd, text);
      return;
    }
    if (sink.kind === "special") {
      if (last) writeFileSync(sink.path, text);
      return;
    }
    const part = partName(sink.path);
    try {
      mkdirSync(dirname(sink.path), { recursive: true });
      writeFileSync(part, text);
      renameSync(part, sink.path);
    } catch (error) {
      rmSync(part, { force: true });
      throw error;
    }
  } catch (error) {
    if (last) throw error;
  }
}

/**
 * The temporary file a report is written to before it is renamed over `path`: in the same
 * directory, with a short name of its own (the report's name plus a suffix could pass the
 * 255-byte limit on a name the system takes as it is), new on every call.
 *
 * @example
 * ```ts
 * partName("/tmp/runs/r.json"); // "/tmp/runs/.corun-bench-4242-1f2e3d4c5b6a.part"
 * ```
 */
export function partName(path: string): string {
  // The pid and a random part: runs in other PID namespaces (containers) may share a pid and a directory.
  return resolve(dirname(path), `.corun-bench-${process.pid}-${randomBytes(6).toString("hex")}.part`);
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
}
