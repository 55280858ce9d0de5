/**
 * The harness's reporting: number formatting, the ratio to corun, and the table layouts
 * (pure functions; no processes).
 */
import { describe, expect, test } from "bun:test";
import { fmt, formatTable, formatVertical, okNote, ratioToCorun } from "../../bench/harness/table.ts";
import type { RunResult } from "../../bench/harness/spawn-child.ts";

function row(peer: string, metrics: Record<string, number>, status: RunResult["status"] = "ok", error?: string): RunResult {
  return { scenario: "s", variant: undefined, peer, status, metrics, wall_ms: 1500, peak_rss_mb: 42, elapsed_s: 2, ...(error ? { error } : {}) };
}

describe("fmt", () => {
  test("three significant digits, thousands grouped, dashes for missing", () => {
    expect(fmt(1234.567)).toBe("1,235");
    expect(fmt(123.4)).toBe("123");
    expect(fmt(12.345)).toBe("12.3");
    expect(fmt(1.2345)).toBe("1.23");
    expect(fmt(0.012345)).toBe("0.0123");
    expect(fmt(0)).toBe("0");
    expect(fmt(undefined)).toBe("–");
    expect(fmt(Number.NaN)).toBe("–");
    expect(fmt(Infinity)).toBe("∞");
  });
});

describe("ratioToCorun", () => {
  const primary = { metric: "ms", better: "lower" as const };
  test("is the peer's primary metric over corun's", () => {
    const rows = [row("corun", { ms: 2 }), row("other", { ms: 5 })];
    expect(ratioToCorun(rows, rows[1]!, primary)).toBe(2.5);
    expect(ratioToCorun(rows, rows[0]!, primary)).toBe(1);
  });
  test("is undefined when corun failed, the peer failed, or corun's figure is 0", () => {
    const failed = [row("corun", {}, "crashed", "exit 1"), row("other", { ms: 5 })];
    expect(ratioToCorun(failed, failed[1]!, primary)).toBeUndefined();
    const zero = [row("corun", { ms: 0 }), row("other", { ms: 5 }, "timeout")];
    expect(ratioToCorun(zero, zero[1]!, primary)).toBeUndefined();
  });
});

describe("formatTable", () => {
  test("one line per peer with ratio, wall, RSS, extra metrics and the failure", () => {
    const rows = [row("corun", { ms: 2, extra: 7 }), row("other", { ms: 6 }), row("bad", {}, "crashed", "exit code 3: boom")];
    const text = formatTable("demo", rows, { metric: "ms", better: "lower" });
    const lines = text.split("\n");
    expect(lines[0]).toContain("demo");
    expect(lines[0]).toContain("lower is better");
    expect(lines[1]).toMatch(/^peer\s+ms\s+÷ corun\s+wall s\s+peak RSS MB\s+extra\s+status \/ note$/);
    expect(lines[3]).toMatch(/^corun\s+2\.00\s+1\.00×\s+1\.50\s+42\.0\s+7\.00$/);
    expect(lines[4]).toMatch(/^other\s+6\.00\s+3\.00×/);
    expect(lines[5]).toContain("CRASHED: exit code 3: boom");
  });
});

describe("formatVertical", () => {
  test("one line per metric, a column per peer", () => {
    const text = formatVertical("micro", [row("corun", { a_ns: 33.3, a_ratio: 0.5 })]);
    expect(text).toMatch(/\na_ns\s+33\.3\n/);
    expect(text).toMatch(/\na_ratio\s+0\.500\n/);
    expect(text).toMatch(/\npeak RSS MB\s+42\.0/);
  });
});

describe("okNote", () => {
  test("lists every round of a peer that ran several, then the scenario's remark", () => {
    expect(okNote({ ...row("a", { ms: 1 }), rounds: [1500, 3000, 2000], note: "capped" })).toBe("best of 3: 1,500 / 3,000 / 2,000; capped");
    expect(okNote(row("a", { ms: 1 }))).toBe("");
  });
});

describe("no ratio for a peer that did less of the work", () => {
  test("a Worker peer capped below n (tasks or ran) gets no ÷ corun", () => {
    const p = { metric: "overhead_ms", better: "lower" } as const;
    const rows = [row("corun", { overhead_ms: 100, n: 100_000, tasks: 100_000 }), row("workers", { overhead_ms: 50, n: 100_000, tasks: 256 }), row("w2", { overhead_ms: 50, n: 10_000, ran: 256 })];
    expect(ratioToCorun(rows, rows[1]!, p)).toBeUndefined();
    expect(ratioToCorun(rows, rows[2]!, p)).toBeUndefined();
    expect(ratioToCorun(rows, rows[0]!, p)).toBe(1);
  });
});
