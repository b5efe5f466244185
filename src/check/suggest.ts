// "Did you mean …?" for names that do not exist: the closest known names by edit distance.
// Pure and dependency-free so that every place that rejects a name (models, groups, sites,
// vendor parameters, CLI options) suggests the same way.

/**
 * Optimal-string-alignment distance (Damerau-Levenshtein restricted to adjacent
 * transpositions that are not edited again): insertions, deletions, substitutions and
 * swapping two neighbours each cost 1. `jion` → `join` is 1, not 2: the typo admins make.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the transposition step looks two rows back.
  let prev2: number[] = new Array<number>(b.length + 1).fill(0);
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur: number[] = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

/**
 * How far a name may be from the one typed and still be offered: 2 edits, fewer for very
 * short names (so `x` does not suggest every two-letter name), and a fifth of the length for
 * long dotted vendor parameters, where two edits would be too strict to catch a slip.
 */
export function maxSuggestDistance(typed: string): number {
  const n = typed.length;
  if (n <= 2) return n - 1 > 0 ? 1 : 0;
  if (n <= 4) return 1;
  return Math.max(2, Math.floor(n / 5));
}

export interface SuggestOptions {
  /** At most this many names (default 3). */
  limit?: number;
  /** Override the distance threshold from {@link maxSuggestDistance}. */
  maxDistance?: number;
}

/**
 * The known names closest to `typed`, at most `limit` (3): those at the smallest distance
 * within the threshold, in the order of `known`. Case is ignored when measuring (`vvx411`
 * finds `VVX411`) but the names are returned as known.
 */
export function suggest(typed: string, known: Iterable<string>, options: SuggestOptions = {}): string[] {
  const limit = options.limit ?? 3;
  const max = options.maxDistance ?? maxSuggestDistance(typed);
  const lower = typed.toLowerCase();
  const scored: Array<{ name: string; distance: number }> = [];
  const seen = new Set<string>();
  for (const name of known) {
    if (name === typed || seen.has(name)) continue;
    seen.add(name);
    const cheap = Math.abs(name.length - typed.length);
    if (cheap > max) continue;
    const d = editDistance(lower, name.toLowerCase());
    if (d > max) continue;
    scored.push({ name, distance: d });
  }
  // Only the closest: one edit away is what was meant, a second name two edits away is noise.
  // (A name that differs only in case, distance 0, beats every real edit.)
  const best = Math.min(...scored.map((s) => s.distance));
  return scored.filter((s) => s.distance === best).slice(0, limit).map((s) => s.name);
}

/** ` (did you mean "a", "b"?)` or the empty string, ready to append to a message. */
export function didYouMean(typed: string, known: Iterable<string>, options?: SuggestOptions): string {
  const names = suggest(typed, known, options);
  if (names.length === 0) return '';
  return ` (did you mean ${names.map((n) => JSON.stringify(n)).join(', ')}?)`;
}

/**
 * The tail of an "unknown name" message: `; did you mean "J179"?` when some name is close,
 * else the known names when there are few (`; known sites: lisbon, nyc`), else how many there
 * are. Never a list of 75 models.
 */
export function unknownNameHint(typed: string, known: readonly string[], noun: string, listUpTo = 10): string {
  const close = suggest(typed, known);
  if (close.length) return `; did you mean ${close.map((n) => JSON.stringify(n)).join(', ')}?`;
  if (known.length === 0) return `; there are no ${noun}`;
  if (known.length <= listUpTo) return `; known ${noun}: ${known.join(', ')}`;
  return `; none of the ${known.length} known ${noun} is close`;
}
