// A unified diff of two texts, line by line, for `devices import --dry-run`: what a device
// file and its rendered files would become. Pure. Longest common subsequence over the lines
// after the common head and tail are cut off, which keeps the table small for one-line edits.

const CONTEXT = 2;
/** Beyond this many cells the middle is shown as removed then added (still correct, less tidy). */
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; text: string; a: number; b: number };

export function unifiedDiff(before: string, after: string, nameA: string, nameB: string): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const ops: Op[] = [];
  for (let i = 0; i < head; i++) ops.push({ kind: ' ', text: a[i]!, a: i, b: i });
  for (const op of middle(midA, midB)) ops.push({ ...op, a: op.a + head, b: op.b + head });
  for (let i = tail; i > 0; i--) ops.push({ kind: ' ', text: a[a.length - i]!, a: a.length - i, b: b.length - i });
  return [`--- ${nameA}`, `+++ ${nameB}`, ...hunks(ops)].join('\n') + '\n';
}

function splitLines(t: string): string[] {
  if (t === '') return [];
  const lines = t.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}

function middle(a: string[], b: string[]): Op[] {
  const out: Op[] = [];
  if ((a.length + 1) * (b.length + 1) > MAX_CELLS) {
    a.forEach((text, i) => out.push({ kind: '-', text, a: i, b: 0 }));
    b.forEach((text, j) => out.push({ kind: '+', text, a: a.length, b: j }));
    return out;
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) out.push({ kind: ' ', text: a[i]!, a: i++, b: j++ });
    // Removals before additions, as diff(1) prints a changed line.
    else if (i < a.length && (j === b.length || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) out.push({ kind: '-', text: a[i]!, a: i++, b: j });
    else out.push({ kind: '+', text: b[j]!, a: i, b: j++ });
  }
  return out;
}

function hunks(ops: Op[]): string[] {
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === ' ') k++;
    if (k === ops.length) break;
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    // Extend while the next change is within two context windows.
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next]!.kind === ' ') next++;
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + CONTEXT);
    const slice = ops.slice(start, stop);
    const aLines = slice.filter((o) => o.kind !== '+').length;
    const bLines = slice.filter((o) => o.kind !== '-').length;
    const aStart = slice[0]!.a + (aLines ? 1 : 0);
    const bStart = slice[0]!.b + (bLines ? 1 : 0);
    out.push(`@@ -${aStart},${aLines} +${bStart},${bLines} @@`);
    for (const o of slice) out.push(`${o.kind}${o.text}`);
    k = stop;
  }
  return out;
}
