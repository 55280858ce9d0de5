/**
 * Option objects are checked for keys the function does not take: a misspelt option
 * (`maxConections`) is a TypeError naming it, the nearest known name and every known one,
 * never silently ignored (as Python refuses an unexpected keyword argument). Imports nothing.
 */

/**
 * @internal Throw a TypeError if `options` has an own enumerable string key not in `known`
 * whose value is not undefined.
 * `where` names the call and argument, e.g. `"listen(options)"`.
 *
 * @example
 * ```ts
 * checkKeys({ hostname: "127.0.0.1", prot: 80 }, ["hostname", "port"], "listen(options)");
 * // TypeError: listen(options): unknown option "prot" (did you mean "port"?); it takes hostname, port
 * ```
 */
export function checkKeys(options: object, known: readonly string[], where: string): void {
  const problem = unknownKey(options, known, where);
  if (problem !== undefined) throw new TypeError(problem);
}

/**
 * @internal What `checkKeys` would throw, as a message (undefined if every key is known), for
 * callers whose errors have their own class.
 *
 * @example
 * ```ts
 * unknownKey({ metod: "POST" }, ["method", "headers"], "request(url, options)"); // '... unknown option "metod" (did you mean "method"?) ...'
 * ```
 */
export function unknownKey(options: object, known: readonly string[], where: string): string | undefined {
  for (const key in options) {
    // A key given as undefined changes nothing, misspelt or not (`tls: config.tls` with none set).
    if (known.includes(key) || !Object.prototype.hasOwnProperty.call(options, key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const near = nearest(key, known);
    const hint = near === undefined ? "" : ` (did you mean "${near}"?)`;
    return `${where}: unknown option ${JSON.stringify(key)}${hint}; it takes ${known.join(", ")}`;
  }
  return undefined;
}

/** The known name closest to `key`: the same but for case, or at most two edits away (one for short names). */
function nearest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    if (name.toLowerCase() === lower) return name;
    const d = editDistance(lower, name.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return bestDistance <= (key.length <= 4 ? 1 : 2) ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
