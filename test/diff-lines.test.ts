// The line diff: table cases, then random pairs checked two ways: the ops rebuild both sides,
// and the edit count equals GNU `diff --minimal`'s (both are shortest edit scripts).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffLines, formatHunks, hunks, splitLines } from '../src/diff/lines.js';

const sides = (ops: ReturnType<typeof diffLines>) => ({
  a: ops.filter((o) => o.kind !== 'add').map((o) => o.text),
  b: ops.filter((o) => o.kind !== 'del').map((o) => o.text),
});
const edits = (ops: ReturnType<typeof diffLines>) => ops.filter((o) => o.kind !== 'same').length;

describe('diffLines', () => {
  it.each([
    ['both empty', '', '', 0],
    ['equal', 'a\nb\n', 'a\nb\n', 0],
    ['added at end', 'a\n', 'a\nb\n', 1],
    ['removed at start', 'a\nb\n', 'b\n', 1],
    ['changed middle', 'a\nb\nc\n', 'a\nX\nc\n', 2],
    ['from nothing', '', 'a\nb\n', 2],
    ['to nothing', 'a\nb\n', '', 2],
    ['CRLF equals LF', 'a\r\nb\r\n', 'a\nb\n', 0],
    ['swap', 'a\nb\n', 'b\na\n', 2],
  ])('%s', (_name, a, b, n) => {
    const ops = diffLines(splitLines(a), splitLines(b));
    expect(edits(ops)).toBe(n);
    expect(sides(ops)).toEqual({ a: splitLines(a), b: splitLines(b) });
  });

  it('numbers lines from 1 on each side', () => {
    const ops = diffLines(['a', 'b', 'c'], ['a', 'x', 'c']);
    expect(ops).toEqual([
      { kind: 'same', a: 1, b: 1, text: 'a' },
      { kind: 'del', a: 2, text: 'b' },
      { kind: 'add', b: 2, text: 'x' },
      { kind: 'same', a: 3, b: 3, text: 'c' },
    ]);
  });

  it('past maxEdits replaces the middle whole, still rebuilding both sides', () => {
    const a = Array.from({ length: 50 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 50 }, (_, i) => `b${i}`);
    const ops = diffLines(a, b, 5);
    expect(sides(ops)).toEqual({ a, b });
    expect(edits(ops)).toBe(100);
  });
});

describe('hunks', () => {
  it('prints unified hunks with 3 lines of context and merges close changes', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    const b = [...a];
    b[4] = 'five';
    b[7] = 'eight';
    b.splice(18, 0, 'new');
    const text = formatHunks(hunks(diffLines(a, b))).join('\n');
    expect(text).toBe(
      ['@@ -2,10 +2,10 @@', ' l2', ' l3', ' l4', '-l5', '+five', ' l6', ' l7', '-l8', '+eight', ' l9', ' l10', ' l11', '@@ -16,5 +16,6 @@', ' l16', ' l17', ' l18', '+new', ' l19', ' l20'].join('\n'),
    );
  });

  it('an empty old side starts at 0', () => {
    expect(formatHunks(hunks(diffLines([], ['x'])))).toEqual(['@@ -0,0 +1,1 @@', '+x']);
  });
});

const GNU_DIFF = ['/usr/bin/diff', '/bin/diff'].find((p) => existsSync(p));
if (!GNU_DIFF) console.warn('diff-lines.test.ts: GNU diff comparison skipped, no diff binary');

describe.skipIf(!GNU_DIFF)('against GNU diff --minimal', () => {
  it('has the same edit count on 200 random pairs, and rebuilds both sides', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deskset-lines-'));
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let t = 0; t < 200; t++) {
      const a = Array.from({ length: rnd(30) }, () => `w${rnd(6)}`);
      const b = a.filter(() => rnd(4) > 0).flatMap((l) => (rnd(5) === 0 ? [l, `w${rnd(6)}`] : [l]));
      writeFileSync(path.join(dir, 'a'), a.map((l) => `${l}\n`).join(''));
      writeFileSync(path.join(dir, 'b'), b.map((l) => `${l}\n`).join(''));
      let out = '';
      try {
        execFileSync(GNU_DIFF!, ['--minimal', '-U3', 'a', 'b'], { cwd: dir, encoding: 'utf8' });
      } catch (e) {
        out = (e as { stdout: string }).stdout;
      }
      const theirs = out.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
      const ops = diffLines(a, b);
      expect(edits(ops)).toBe(theirs);
      expect(sides(ops)).toEqual({ a, b });
    }
  });
});
