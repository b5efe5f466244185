// A line diff (Myers' O(ND) algorithm) and unified-diff hunks. No installed package does this
// (node_modules has no `diff`), and rendered phone files are small: a few thousand lines.

export type LineOp =
  | { kind: 'same'; a: number; b: number; text: string }
  | { kind: 'del'; a: number; text: string }
  | { kind: 'add'; b: number; text: string };

/** Split text into lines; a final newline does not make an empty last line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The shortest edit script turning `a` into `b`, as ops in order. Line numbers are 1-based.
 * Past `maxEdits` differences the middle is reported as deleted then added whole: a rewritten
 * file says little more line by line, and the trace would cost O(N·D) memory.
 */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 4000): LineOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: LineOp[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: 'same', a: i + 1, b: i + 1, text: a[i]! });
  ops.push(...middle(a, b, start, endA, endB, maxEdits));
  for (let i = 0; i < a.length - endA; i++) ops.push({ kind: 'same', a: endA + i + 1, b: endB + i + 1, text: a[endA + i]! });
  return ops;
}

function middle(a: readonly string[], b: readonly string[], s: number, endA: number, endB: number, maxEdits: number): LineOp[] {
  const n = endA - s;
  const m = endB - s;
  if (n === 0 || m === 0) return whole(a, b, s, endA, endB);
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= Math.min(max, maxEdits); d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[s + x] === b[s + y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
  }
  if (found < 0) return whole(a, b, s, endA, endB);
  // Walk the trace back from (n, m), collecting ops in reverse.
  const rev: LineOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[off + k - 1]! < vd[off + k + 1]!) ? k + 1 : k - 1;
    const prevX = vd[off + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      rev.push({ kind: 'same', a: s + x, b: s + y, text: a[s + x - 1]! });
      x--;
      y--;
    }
    if (x === prevX) rev.push({ kind: 'add', b: s + y, text: b[s + y - 1]! });
    else rev.push({ kind: 'del', a: s + x, text: a[s + x - 1]! });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    rev.push({ kind: 'same', a: s + x, b: s + y, text: a[s + x - 1]! });
    x--;
    y--;
  }
  return rev.reverse();
}

function whole(a: readonly string[], b: readonly string[], s: number, endA: number, endB: number): LineOp[] {
  const ops: LineOp[] = [];
  for (let i = s; i < endA; i++) ops.push({ kind: 'del', a: i + 1, text: a[i]! });
  for (let i = s; i < endB; i++) ops.push({ kind: 'add', b: i + 1, text: b[i]! });
  return ops;
}

export interface Hunk {
  /** First line and line count in the old and the new file (as `@@ -a,n +b,m @@` prints them). */
  aStart: number;
  aLines: number;
  bStart: number;
  bLines: number;
  ops: LineOp[];
}

/** Group ops into hunks with `context` unchanged lines around each change. */
export function hunks(ops: readonly LineOp[], context = 3): Hunk[] {
  const out: Hunk[] = [];
  const changed = ops.map((o, i) => (o.kind === 'same' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return out;
  let from = Math.max(0, changed[0]! - context);
  let to = Math.min(ops.length - 1, changed[0]! + context);
  const flush = (): void => {
    const slice = ops.slice(from, to + 1);
    // Line numbers before the hunk, for an empty side (`@@ -0,0 +1,3 @@`).
    let aBefore = 0;
    let bBefore = 0;
    for (let i = 0; i < from; i++) {
      const o = ops[i]!;
      if (o.kind !== 'add') aBefore++;
      if (o.kind !== 'del') bBefore++;
    }
    const aLines = slice.filter((o) => o.kind !== 'add').length;
    const bLines = slice.filter((o) => o.kind !== 'del').length;
    out.push({ aStart: aLines ? aBefore + 1 : aBefore, aLines, bStart: bLines ? bBefore + 1 : bBefore, bLines, ops: slice });
  };
  for (const i of changed.slice(1)) {
    if (i - context <= to + 1) to = Math.min(ops.length - 1, i + context);
    else {
      flush();
      from = i - context;
      to = Math.min(ops.length - 1, i + context);
    }
  }
  flush();
  return out;
}

/** `@@ -a,n +b,m @@` and the hunk's lines prefixed ' ', '-', '+'; `show` rewrites a line for display. */
export function formatHunks(hs: readonly Hunk[], show: (op: LineOp) => string = (o) => o.text): string[] {
  const lines: string[] = [];
  for (const h of hs) {
    lines.push(`@@ -${h.aStart},${h.aLines} +${h.bStart},${h.bLines} @@`);
    for (const o of h.ops) lines.push(`${o.kind === 'same' ? ' ' : o.kind === 'del' ? '-' : '+'}${show(o)}`);
  }
  return lines;
}
