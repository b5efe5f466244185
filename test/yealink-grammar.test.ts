// The grammar a rendered Yealink .cfg must satisfy: `#!version:1.0.0.1` on line 1, then
// only `key = value` lines, comments and blank lines, and no key twice. A table of
// hand-made files, our own files in test/fixtures/yealink and the real files in
// ../shared/realworld/yealink with their true verdicts, and every Yealink file deskset
// renders from samples/.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkSnapshot } from '../src/check/check.js';
import { formatDiagnostic } from '../src/check/diagnostics.js';
import { renderTarget } from '../src/render/render.js';
import { allTargets } from '../src/pipeline/request.js';
import { buildSnapshot, type Snapshot } from '../src/snapshot/snapshot.js';
import { checkYealinkCfg } from '../src/vendors/yealink/cfg-grammar.js';
import { sampleFiles, shippedFiles } from './helpers/reload-root.js';
import { FIXTURES, HAVE_REALWORLD, NEEDS_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('yealink-grammar.test.ts');

/** [code, line] pairs: what a verdict is judged on. */
function verdict(text: string): Array<[string, number]> {
  return checkYealinkCfg(text, '/t.cfg').map((d) => [d.code, d.loc!.line]);
}

const H = '#!version:1.0.0.1';

describe('checkYealinkCfg on hand-made files', () => {
  const table: Array<{ name: string; text: string; expected: Array<[string, number]> }> = [
    { name: 'good file', text: `${H}\naccount.1.enable = 1\naccount.1.label = Front desk\n`, expected: [] },
    { name: 'header only', text: `${H}\n`, expected: [] },
    { name: 'no final newline', text: `${H}\na = 1`, expected: [] },
    { name: 'header with trailing spaces', text: `${H}  \na = 1\n`, expected: [] },
    { name: 'empty value, no spaces around =, %NULL%', text: `${H}\naccount.1.label = \nb=2\nc = %NULL%\n`, expected: [] },
    { name: 'comments (#, ##, indented) and blank lines', text: `${H}\n\n# one\n## two\n   # indented\n\t\na = 1\n\n`, expected: [] },
    { name: 'UTF-8 values', text: `${H}\naccount.1.display_name = Сергей Иванов\n`, expected: [] },
    { name: 'missing header', text: 'account.1.enable = 1\n', expected: [['YEALINK_HEADER', 1]] },
    { name: 'empty file', text: '', expected: [['YEALINK_HEADER', 1]] },
    { name: 'header not on line 1 (blank line first)', text: `\n${H}\na = 1\n`, expected: [['YEALINK_HEADER', 1]] },
    { name: 'header not on line 1 (comment first)', text: `# generated\n${H}\na = 1\n`, expected: [['YEALINK_HEADER', 1]] },
    { name: 'indented header', text: ` ${H}\na = 1\n`, expected: [['YEALINK_HEADER', 1]] },
    { name: 'wrong version', text: '#!version:1.0.0.2\na = 1\n', expected: [['YEALINK_HEADER', 1]] },
    { name: 'BOM before header is accepted', text: `\uFEFF${H}\na = 1\n`, expected: [] },
    { name: 'BOM + CRLF', text: `\uFEFF${H}\r\na = 1\r\n`, expected: [] },
    { name: 'bare word line', text: `${H}\na = 1\nfoo\nb = 2\n`, expected: [['YEALINK_SYNTAX', 3]] },
    { name: 'key with a space', text: `${H}\naccount 1 = x\n`, expected: [['YEALINK_SYNTAX', 2]] },
    { name: 'value without key', text: `${H}\n= x\n`, expected: [['YEALINK_SYNTAX', 2]] },
    { name: 'boot-file directive is not .cfg grammar', text: `${H}\ninclude:config http://x/y.cfg\n`, expected: [['YEALINK_SYNTAX', 2]] },
    { name: 'duplicate key', text: `${H}\na = 1\nb = 2\na = 3\n`, expected: [['YEALINK_DUPLICATE_KEY', 4]] },
    { name: 'duplicate key, different spacing', text: `${H}\na=1\n  a   =   1\n`, expected: [['YEALINK_DUPLICATE_KEY', 3]] },
    { name: 'three times: two findings, both after the first', text: `${H}\na = 1\na = 2\na = 3\n`, expected: [['YEALINK_DUPLICATE_KEY', 3], ['YEALINK_DUPLICATE_KEY', 4]] },
    { name: 'commented-out key does not count as a duplicate', text: `${H}\n##a = 0\na = 1\n`, expected: [] },
    { name: 'CRLF good file', text: `${H}\r\n# c\r\n\r\na = 1\r\nb = 2\r\n`, expected: [] },
    { name: 'CRLF duplicate keeps line numbers', text: `${H}\r\na = 1\r\n\r\na = 2\r\n`, expected: [['YEALINK_DUPLICATE_KEY', 4]] },
    { name: 'CR-only line ends', text: `${H}\ra = 1\rjunk\r`, expected: [['YEALINK_SYNTAX', 3]] },
    { name: 'missing header and junk both reported', text: `a = 1\njunk\n`, expected: [['YEALINK_HEADER', 1], ['YEALINK_SYNTAX', 2]] },
  ];

  it.each(table)('$name', ({ text, expected }) => {
    expect(verdict(text)).toEqual(expected);
  });

  it('a duplicate names both line numbers and the key; the file is the one given', () => {
    const [d, ...rest] = checkYealinkCfg(`${H}\naccount.1.label = A\n# x\naccount.1.label = B\n`, '/805ec0123456.cfg');
    expect(rest).toEqual([]);
    expect(d!.severity).toBe('error');
    expect(d!.loc).toEqual({ file: '/805ec0123456.cfg', line: 4, col: 1 });
    expect(d!.message).toContain('account.1.label');
    expect(d!.message).toMatch(/line 2\b/);
  });
});

/**
 * Every file of a corpus (one folder per source) against its true verdict, established by
 * reading it, and against independent facts about its text, so a verdict is never only the
 * checker's word.
 */
function corpusVerdicts(dir: string, EXPECTED: Record<string, Array<[string, number]>>): void {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(dir, d.name)).map((f) => `${d.name}/${f}`))
    .sort();

  it('the corpus is the one these verdicts were established on', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s', (rel) => {
    const text = readFileSync(path.join(dir, rel), 'utf8');
    const lines = text.split(/\r\n|\n|\r/);
    const body = lines.map((l, i) => [i + 1, l.trim()] as const).filter(([, l]) => l !== '' && !l.startsWith('#'));
    const keys = body.map(([, l]) => /^([^=\s]+)\s*=/.exec(l)?.[1]).filter((k): k is string => !!k);
    const headerFirst = lines[0] === H;
    const junkLines = body.filter(([, l]) => !/^[A-Za-z0-9_][A-Za-z0-9_.%-]*\s*=/.test(l)).map(([n]) => n);
    const hasDuplicates = new Set(keys).size !== keys.length;
    const got = verdict(text);
    if (headerFirst && !hasDuplicates && junkLines.length === 0) expect(got).toEqual([]);
    else expect(got.map(([, line]) => line)).toEqual(expect.arrayContaining(junkLines));
    expect(got).toEqual(EXPECTED[rel]);
  });
}

describe('our own Yealink files in test/fixtures/yealink', () => {
  // The device file has CRLF, tabs in its comment banner, a "##key =" disabled key, an empty
  // value, an indented comment and UTF-8 Cyrillic; the boot file's include:config lines are not
  // .cfg grammar; a hand edit without the header, and one with a key twice.
  corpusVerdicts(path.join(FIXTURES, 'yealink'), {
    'site/805ec0a1b2c3.cfg': [],
    'site/y000000000066.cfg': [],
    'site/y000000000000.boot': [['YEALINK_SYNTAX', 4], ['YEALINK_SYNTAX', 5]],
    'site/broken-edit.cfg': [['YEALINK_HEADER', 1]],
    'site/duplicate-key.cfg': [['YEALINK_DUPLICATE_KEY', 4]],
  });
});

describe.skipIf(!HAVE_REALWORLD)(`the real Yealink files in shared/realworld${NEEDS_REALWORLD}`, () => {
  // Every .cfg has the header on line 1, no key twice and nothing but key = value, comments
  // and blanks (tabs in comment banners, "##key =" disabled keys, empty values, UTF-8
  // Cyrillic). The .boot file is a boot file, not a .cfg: its two `include:config …`
  // directives are not .cfg grammar.
  if (!HAVE_REALWORLD) return;
  corpusVerdicts(path.join(REALWORLD, 'yealink'), {
    'ascentiaci__phone-configs/805EC056ACC6.cfg': [],
    'ascentiaci__phone-configs/Brittany-Teams-Config-Provision.cfg': [],
    'ascentiaci__phone-configs/y000000000000.boot': [['YEALINK_SYNTAX', 19], ['YEALINK_SYNTAX', 20]],
    'pinballwizard__Asterisk/001565937c63.cfg': [],
    'pinballwizard__Asterisk/y000000000025.cfg': [],
    'pinballwizard__Asterisk/y000000000028.cfg': [],
    'pinballwizard__Asterisk/y000000000035.cfg': [],
    'pinballwizard__Asterisk/y000000000053.cfg': [],
  });
});

describe('every Yealink file rendered from samples/ passes the grammar', () => {
  let snap: Snapshot;
  let shipped: Map<string, string>;
  let samples: Map<string, string>;
  beforeAll(async () => {
    shipped = await shippedFiles();
    samples = await sampleFiles();
    snap = buildSnapshot({ root: samples, shipped, version: '0.0.0-test' });
  });

  it('samples build cleanly', () => {
    expect(snap.diagnostics.map(formatDiagnostic)).toEqual([]);
  });

  it('each rendered .cfg has no grammar findings', () => {
    const targets = allTargets(snap).filter((t) => t.file.format === 'yealink-cfg');
    // Two Yealink devices (T46S, T54W) and one common file per model in use.
    expect(targets.map((t) => t.path).sort()).toEqual(['805ec0123456.cfg', '805ec0abcdef.cfg', 'y000000000066.cfg', 'y000000000096.cfg']);
    for (const t of targets) {
      const { rendered, diagnostics } = renderTarget(snap.render, t);
      expect(diagnostics.map(formatDiagnostic), t.path).toEqual([]);
      const text = rendered!.bytes.toString('utf8');
      expect(text.startsWith(`${H}\n`), t.path).toBe(true);
      expect(checkYealinkCfg(text, `/${t.path}`).map(formatDiagnostic), t.path).toEqual([]);
    }
  });

  it('a yealink.params key the template also sets is written once, with the profile value', () => {
    const root = new Map(samples);
    root.set('profiles/devices/805ec0123456.yaml', 'model: T46S\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "2010", display_name: "Joao"}\n  yealink:\n    params:\n      "account.1.label": "Desk 7"\n');
    const s = buildSnapshot({ root, shipped, version: '0.0.0-test' });
    const t = allTargets(s).find((x) => x.path === '805ec0123456.cfg')!;
    const text = renderTarget(s.render, t).rendered!.bytes.toString('utf8');
    expect(text.split('\n').filter((l) => l.startsWith('account.1.label'))).toEqual(['account.1.label = Desk 7']);
    expect(checkYealinkCfg(text, '/805ec0123456.cfg')).toEqual([]);
  });

  it('a template override that writes a key twice is caught by check, naming device and path', async () => {
    const root = new Map(samples);
    const shippedMac = shipped.get('templates/yealink/mac.cfg.hbs')!;
    const lines = shippedMac.split('\n');
    // A literal key right after the header comments: the params block writes it again.
    lines.splice(3, 0, 'account.1.enable = 1');
    root.set('templates/yealink/mac.cfg.hbs', lines.join('\n'));
    const s = buildSnapshot({ root, shipped, version: '0.0.0-test' });
    expect(s.diagnostics.map(formatDiagnostic)).toEqual([]);
    const { diagnostics } = await checkSnapshot(s, {});
    const dup = diagnostics.filter((d) => d.code === 'YEALINK_DUPLICATE_KEY');
    expect(dup.map((d) => [d.device, d.path]).sort()).toEqual([
      ['805ec0123456', '805ec0123456.cfg'],
      ['805ec0abcdef', '805ec0abcdef.cfg'],
    ]);
    for (const d of dup) {
      expect(d.message).toMatch(/"account\.1\.enable" appears twice \(first on line 4\)/);
      expect(d.message).toMatch(/rendered line \d+/);
    }
  });

  // BUG (src/check/check-output.ts originOf): when no profile key matches, any profile value
  // of 2+ characters that occurs as a *substring* of the rendered line is blamed. For the
  // template-made duplicate above, device 805ec0abcdef (NYC, language "en") gets
  // loc = profiles/global.yaml:12:13 "set by settings.language", because "en" occurs in
  // "account.1.enable". Nothing in any profile set that line; the finding should point at the
  // rendered file (/805ec0abcdef.cfg:<line>) with no profile origin.
  it('a template-made duplicate is not blamed on an unrelated profile value', async () => {
    const root = new Map(samples);
    const lines = shipped.get('templates/yealink/mac.cfg.hbs')!.split('\n');
    lines.splice(3, 0, 'account.1.enable = 1');
    root.set('templates/yealink/mac.cfg.hbs', lines.join('\n'));
    const s = buildSnapshot({ root, shipped, version: '0.0.0-test' });
    const { diagnostics } = await checkSnapshot(s, {});
    const dup = diagnostics.filter((d) => d.code === 'YEALINK_DUPLICATE_KEY');
    expect(dup).toHaveLength(2);
    for (const d of dup) {
      expect(d.loc?.file, formatDiagnostic(d)).toBe(`/${d.path}`);
      expect(d.related ?? [], formatDiagnostic(d)).toEqual([]);
    }
  });
});
