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
 * The known names closest to `typed`, best first, at most `limit` (3). Case is ignored when
 * measuring (`vvx411` finds `VVX411`) but the names are returned as known. When some name
 * differs only in case, only such names are offered; ties keep the order of `known`.
 */
export function suggest(typed: string, known: Iterable<string>, options: SuggestOptions = {}): string[] {
  const limit = options.limit ?? 3;
  const max = options.maxDistance ?? maxSuggestDistance(typed);
  const lower = typed.toLowerCase();
  const scored: Array<{ name: string; distance: number; order: number }> = [];
  const seen = new Set<string>();
  let order = 0;
  for (const name of known) {
    if (name === typed || seen.has(name)) continue;
    seen.add(name);
    const cheap = Math.abs(name.length - typed.length);
    if (cheap > max) continue;
    const d = editDistance(lower, name.toLowerCase());
    if (d > max) continue;
    scored.push({ name, distance: d, order: order++ });
  }
  scored.sort((x, y) => x.distance - y.distance || x.order - y.order);
  // A name that differs only in case is what was meant; do not dilute it with real edits.
  const best = scored[0]?.distance === 0 ? scored.filter((s) => s.distance === 0) : scored;
  return best.slice(0, limit).map((s) => s.name);
}

/** ` (did you mean "a", "b"?)` or the empty string, ready to append to a message. */
export function didYouMean(typed: string, known: Iterable<string>, options?: SuggestOptions): string {
  const names = suggest(typed, known, options);
  if (names.length === 0) return '';
  return ` (did you mean ${names.map((n) => JSON.stringify(n)).join(', ')}?)`;
}
