// The pure parts of `deskset diff`: argument forms, masking of quoted profile lines, and the
// rendered-file diff that shows a changed secret as `•••• (changed)` without its value.

import { describe, expect, it } from 'vitest';
import { fileDiff } from '../src/diff/compare.js';
import { firmwareLine } from '../src/diff/format.js';
import { maskYamlLine } from '../src/diff/mask.js';
import { parseDiffArgs, RevisionError } from '../src/diff/revisions.js';

describe('parseDiffArgs', () => {
  const dirs = new Set(['samples', '.']);
  const isDir = (p: string) => dirs.has(p);
  it.each([
    [[], { root: '.', from: 'HEAD' }],
    [['samples'], { root: 'samples', from: 'HEAD' }],
    [['HEAD~1'], { root: '.', from: 'HEAD~1', to: undefined }],
    [['samples', 'main', 'HEAD'], { root: 'samples', from: 'main', to: 'HEAD' }],
    [['samples', 'origin/main..HEAD'], { root: 'samples', from: 'origin/main', to: 'HEAD' }],
    [['v1..'], { root: '.', from: 'v1', to: 'HEAD' }],
    [['..v2'], { root: '.', from: 'HEAD', to: 'v2' }],
  ] as const)('%j', (args, want) => {
    expect(parseDiffArgs(args, isDir)).toEqual(want);
  });
  it.each([[['a...b']], [['a', 'b', 'c']]])('refuses %j', (args) => {
    expect(() => parseDiffArgs(args, isDir)).toThrow(RevisionError);
  });
});

describe('maskYamlLine', () => {
  const secrets = new Set(['s3cr3t-value']);
  it.each([
    ['  password: hunter2', '  password: ••••'],
    ['    - {extension: "1001", password: "x"}', '    - {extension: "1001", password: "x"}'], // flow maps: the value set masks known ones
    ['  admin_password: "abc"  # rotated', '  admin_password: ••••  # rotated'],
    ['  PROCPSWD: 123456', '  PROCPSWD: ••••'],
    ['  password: "${file:secrets/line-1001}"', '  password: "${file:secrets/line-1001}"'],
    ['  server: pbx.example', '  server: pbx.example'],
    ['  note: s3cr3t-value here', '  note: •••• here'],
    ['  password: |', '  password: |'],
  ])('%s', (line, want) => {
    expect(maskYamlLine(line, secrets)).toBe(want);
  });
  it('an extra secret key pattern', () => {
    expect(maskYamlLine('  pin_code: 1234', new Set(), /pin_code/)).toBe('  pin_code: ••••');
  });
});

describe('fileDiff', () => {
  it('a changed secret: both sides masked, the new one marked (changed)', () => {
    const r = fileDiff('a\npass=old\nb\n', 'a\npass=new\nb\n', 'a\npass=••••\nb\n', 'a\npass=••••\nb\n');
    expect(r.secretChanged).toBe(true);
    expect(r.diff).toEqual(['@@ -1,3 +1,3 @@', ' a', '-pass=••••', '+pass=•••• (changed)', ' b']);
    expect(r.diff.join('\n')).not.toMatch(/old|new/);
  });
  it('a plain change next to an unchanged secret is not a changed secret', () => {
    const r = fileDiff('x=1\npass=s\n', 'x=2\npass=s\n', 'x=1\npass=••••\n', 'x=2\npass=••••\n');
    expect(r.secretChanged).toBe(false);
    expect(r.diff).toEqual(['@@ -1,2 +1,2 @@', '-x=1', '+x=2', ' pass=••••']);
  });
  it('a secret spanning lines (line counts differ): the masked texts are diffed', () => {
    const r = fileDiff('k=a\nb\n', 'k=c\nd\n', 'k=••••\n', 'k=••••\n');
    expect(r.secretChanged).toBe(true);
    expect(r.diff.join('\n')).not.toMatch(/\b[abcd]\b/);
    expect(r.diff).toContain(' •••• (changed)');
  });
  it('an added file diffs from nothing', () => {
    expect(fileDiff('', 'x\n', '', 'x\n').diff).toEqual(['@@ -0,0 +1,1 @@', '+x']);
  });
});

describe('firmwareLine', () => {
  it.each([
    [{ model: 'J179', from: '4.1.3.0.2', to: '4.1.4.0.1', direction: 'upgrade', devices: Array(14).fill('m') }, '14 J179 will upgrade to 4.1.4.0.1 (from 4.1.3.0.2)'],
    [{ model: 'J179', from: '4.1.4.0.1', to: '4.1.3.0.2', direction: 'downgrade', devices: ['m'] }, '1 J179 will downgrade to 4.1.3.0.2 (from 4.1.4.0.1)'],
    [{ model: 'T46S', to: '66.86.0.15', direction: 'start', devices: ['m', 'n'] }, '2 T46S will be offered 66.86.0.15 (no image before)'],
    [{ model: 'T46S', from: '66.86.0.15', direction: 'stop', devices: ['m'] }, '1 T46S will no longer be offered firmware (was 66.86.0.15)'],
  ] as const)('%s', (c, want) => {
    expect(firmwareLine({ ...c, devices: [...c.devices] })).toBe(want);
  });
});
