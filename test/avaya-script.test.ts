import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeScript,
  parseAvayaScript,
  lintAvayaScript,
  extractCatalog,
  loadCatalogText,
  type Statement,
} from '../src/vendors/avaya/script/index.js';
import type { Diagnostic } from '../src/check/diagnostics.js';
import { formatDiagnostic } from '../src/check/diagnostics.js';
import { run } from '../src/cli/lint.js';
import { FIXTURES, HAVE_REALWORLD, NEEDS_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('avaya-script.test.ts');
// Our own scripts (test/fixtures/avaya), written to show what the real files below show.
const OWN = path.join(FIXTURES, 'avaya');
/** BOM, CRLF, cp1252 smart quotes, lower-case goto, "#Comment" lines, a wrapped value, a secret. */
const SITE = path.join(OWN, '46xxsettings-site.txt');
/** Avaya's own style: lower-case goto, trailing blanks; nothing to complain about. */
const UPGRADE = path.join(OWN, '96xxupgrade.txt');
const ONE_LINE = path.join(OWN, 'J100Supgrade-oneline.txt');
const NOT_AVAYA = path.join(OWN, 'DeviceConfig.cfg');
const real = it.skipIf(!HAVE_REALWORLD);

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const AVAYA = path.join(REALWORLD, 'avaya');
const RGUERRA = path.join(AVAYA, 'rguerra00__46xxsettings.txt/46xxsettings.txt');
const TEMPLATE = path.join(AVAYA, 'drugalek2__avaya_phones_russian_locale/46xxsettings.txt');
const EVERSLAB_UPGRADE = path.join(AVAYA, 'everslab__avaya_9640_Ukrainian/96xxupgrade.txt');
const MLRABBITT = path.join(AVAYA, 'mlrabbitt__avaya-sip/46xxsettings.txt');
const MKRASSELT = path.join(AVAYA, 'mkrasselt1__AvayaOpenSipConfig/46xxsettings.txt');
const FUSION_J100 = path.join(AVAYA, 'fusionpbx__fusionpbx/avaya/J100Supgrade.txt');
const WAZO_DEVICECONFIG = path.join(AVAYA, 'wazo-platform__wazo-provd-plugins/wazo_avaya/common/DeviceConfig.cfg');
const SHIPPED_CATALOG = path.join(REPO, 'schemas/avaya/parameters.txt');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const read = (file: string) => decodeScript(readFileSync(file));
const lint = (text: string, opts: Partial<Parameters<typeof lintAvayaScript>[1]> = {}) => lintAvayaScript(text, { file: 't.txt', ...opts });
const codes = (list: Diagnostic[]) => list.map((d) => `${d.loc?.line}:${d.code}`);
const withCode = (list: Diagnostic[], code: string) => list.filter((d) => d.code === code);
const byKind = <K extends Statement['kind']>(list: Statement[], kind: K) => list.filter((s): s is Extract<Statement, { kind: K }> => s.kind === kind);
const shippedCatalog = () => loadCatalogText(readFileSync(SHIPPED_CATALOG, 'utf8'));

describe('decodeScript', () => {
  it('decodes Windows-1252 smart quotes and the euro sign (Node 20 TextDecoder gets these wrong)', () => {
    const text = decodeScript(new Uint8Array([0x93, 0x61, 0x94, 0x20, 0x80, 0x92, 0x0d, 0x0a]));
    expect(text).toBe('\u201Ca\u201D \u20AC\u2019\r\n');
  });

  it('keeps valid UTF-8 as UTF-8 and strips a BOM', () => {
    const utf8 = new TextEncoder().encode('SET LANGSYS "русский" “x”\n');
    expect(decodeScript(utf8)).toBe('SET LANGSYS "русский" “x”\n');
    expect(decodeScript(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8]))).toBe('SET LANGSYS "русский" “x”\n');
  });

  it('strips a BOM from a file that is otherwise not UTF-8', () => {
    expect(decodeScript(new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0x93]))).toBe('A\u201C');
  });

  it('decodes a cp1252 script behind a UTF-8 BOM: smart quotes, no BOM, no C1 controls', () => {
    const bytes = readFileSync(SITE);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.includes(0x93)).toBe(true);
    const text = read(SITE);
    expect(text.startsWith('## deskset')).toBe(true);
    expect(text).toContain('Windows-1252 \u201Csmart quotes\u201D');
    expect(text).not.toMatch(/[\u0080-\u009f]/);
  });

  real(`decodes the official template (cp1252) with its smart quotes and never throws on junk${NEEDS_REALWORLD}`, () => {
    const text = read(TEMPLATE);
    expect(text).toContain('Left double quotation mark (\u201C ASCI 8220)');
    expect(text).not.toMatch(/[\u0080-\u009f]/);
    expect(() => decodeScript(new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x81]))).not.toThrow();
  });
});

describe('parseAvayaScript on our own fixtures', () => {
  it.each(walk(OWN).map((f) => [path.relative(OWN, f), f]))('parses %s without throwing', (_name, file) => {
    const parsed = parseAvayaScript(read(file), file);
    for (const s of parsed.statements) expect(s.line).toBeGreaterThanOrEqual(1);
  });

  it('counts the statements of the site script (3 IF, 2 GOTO, 5 labels) with no parse errors', () => {
    const { statements, diagnostics } = parseAvayaScript(read(SITE));
    expect(byKind(statements, 'if')).toHaveLength(3);
    expect(byKind(statements, 'goto')).toHaveLength(2);
    expect(byKind(statements, 'label').map((l) => l.name)).toEqual(['ORPHAN', 'SETTINGS96', 'SETTINGSX', 'FALLTHROUGH', 'END']);
    expect(diagnostics).toEqual([]);
  });

  it('reads lower-case goto at line start and after IF; trailing blanks are not part of labels and values', () => {
    const { statements, diagnostics } = parseAvayaScript(read(UPGRADE));
    expect(statements.find((s) => s.line === 2)).toMatchObject({ kind: 'if', variable: '$MODEL4', operator: 'SEQ', value: '9610', label: 'GETSET' });
    expect(statements.find((s) => s.line === 4)).toMatchObject({ kind: 'goto', label: 'END' });
    expect(statements.find((s) => s.line === 5)).toMatchObject({ kind: 'label', name: 'BACKUPAPP96XX' });
    expect(statements.find((s) => s.line === 6)).toMatchObject({ kind: 'set', name: 'APPNAME', value: 'SIP96xx_2_6_17_0_SHA256.bin' });
    expect(diagnostics).toEqual([]);
  });

  it('treats "#Comment" lines as comments, not labels, and reads quoted and unquoted values', () => {
    const { statements } = parseAvayaScript(read(SITE));
    const sets = byKind(statements, 'set').map((s) => s.name);
    expect(sets).not.toContain('CONFIG_SERVER'); // "#SET CONFIG_SERVER …" is commented out
    expect(byKind(statements, 'label').map((l) => l.line)).not.toContain(3);
    expect(statements.find((s) => s.line === 7)).toMatchObject({ kind: 'set', name: 'DIALPLAN', value: '911|[3567]XXX|9999|9Z1XXXXXXXXXX', quoted: false });
    expect(statements.find((s) => s.line === 6)).toMatchObject({ kind: 'set', name: 'GMTOFFSET', value: '-5:00', raw: '"-5:00"', quoted: true });
  });

  it('reads a one-line J100Supgrade.txt that has no newline at all', () => {
    const bytes = readFileSync(ONE_LINE);
    expect(bytes[bytes.length - 1]).not.toBe(0x0a);
    const { statements } = parseAvayaScript(decodeScript(bytes));
    expect(statements).toEqual([{ kind: 'get', line: 1, col: 1, file: '$MACADDR.txt', fileCol: 5 }]);
  });
});

describe.skipIf(!HAVE_REALWORLD)(`parseAvayaScript on the real files${NEEDS_REALWORLD}`, () => {
  const files = HAVE_REALWORLD ? walk(AVAYA) : [];

  it('finds the Avaya corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files.map((f) => [path.relative(AVAYA, f), f]))('parses %s without throwing', (_name, file) => {
    const parsed = parseAvayaScript(read(file), file);
    expect(Array.isArray(parsed.statements)).toBe(true);
    for (const s of parsed.statements) expect(s.line).toBeGreaterThanOrEqual(1);
  });

  it('counts rguerra00 statements as SOURCES.md does (100 IF, 40 GOTO, 42 labels)', () => {
    const { statements, diagnostics } = parseAvayaScript(read(RGUERRA));
    expect(byKind(statements, 'if')).toHaveLength(100);
    expect(byKind(statements, 'goto')).toHaveLength(40);
    expect(byKind(statements, 'label')).toHaveLength(42);
    expect(diagnostics).toEqual([]);
  });

  it('reads lower-case goto in Avaya\'s own 96xxupgrade.txt, at line start and after IF', () => {
    const { statements, diagnostics } = parseAvayaScript(read(EVERSLAB_UPGRADE));
    const line45 = statements.find((s) => s.line === 45);
    expect(line45).toMatchObject({ kind: 'if', variable: '$MODEL4', operator: 'SEQ', value: '9610', label: 'GETSET' });
    expect(statements.find((s) => s.line === 58)).toMatchObject({ kind: 'goto', label: 'END' });
    // Trailing blanks after a label and after a value are not part of them.
    expect(statements.find((s) => s.line === 91)).toMatchObject({ kind: 'label', name: 'BACKUPAPP96XX' });
    expect(statements.find((s) => s.line === 100)).toMatchObject({ kind: 'set', name: 'APPNAME', value: 'SIP96xx_2_6_17_0_SHA256.bin' });
    expect(diagnostics).toEqual([]);
  });

  it('treats mlrabbitt\'s "#Comment" lines as comments, not labels', () => {
    const { statements } = parseAvayaScript(read(MLRABBITT));
    expect(byKind(statements, 'label')).toEqual([]);
    const names = byKind(statements, 'set').map((s) => s.name);
    expect(names).not.toContain('CONFIG_SERVER'); // "#SET CONFIG_SERVER …" is commented out
    expect(names).toHaveLength(13);
    expect(statements.find((s) => s.line === 39)).toMatchObject({ kind: 'set', name: 'DIALPLAN', value: '911|[3567]XXX|9999|9Z1XXXXXXXXXX', quoted: false });
    expect(statements.find((s) => s.line === 19)).toMatchObject({ kind: 'set', name: 'GMTOFFSET', value: '-5:00', raw: '"-5:00"', quoted: true });
  });

  it('reads FusionPBX\'s one-line J100Supgrade.txt that has no newline at all', () => {
    const bytes = readFileSync(FUSION_J100);
    expect(bytes[bytes.length - 1]).not.toBe(0x0a);
    const { statements } = parseAvayaScript(decodeScript(bytes));
    expect(statements).toEqual([{ kind: 'get', line: 1, col: 1, file: '$MACADDR.txt', fileCol: 5 }]);
  });
});

describe('line endings', () => {
  const lines = ['## banner', 'SET SIPDOMAIN example.com', 'IF $MODEL4 SEQ J179 GOTO J179', 'GOTO END', '# J179', 'SET DISPLAY_NAME "Front desk"  ', '# END'];
  const variants: Record<string, string> = {
    LF: lines.join('\n') + '\n',
    CRLF: lines.join('\r\n') + '\r\n',
    CR: lines.join('\r') + '\r',
    'no final newline': lines.join('\n'),
    'CRLF, no final newline': lines.join('\r\n'),
  };

  it.each(Object.entries(variants))('%s gives the same statements', (_name, text) => {
    const parsed = parseAvayaScript(text);
    expect(parsed.statements).toEqual(parseAvayaScript(variants.LF!).statements);
    expect(parsed.lines).toHaveLength(7);
    expect(parsed.statements.map((s) => s.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(parsed.statements[4]).toMatchObject({ kind: 'set', value: 'Front desk', raw: '"Front desk"' });
    expect(lint(text)).toEqual([]);
  });

  it('keeps no CR in values of a CRLF script', () => {
    const sets = byKind(parseAvayaScript(read(SITE)).statements, 'set');
    expect(readFileSync(SITE).includes('\r\n')).toBe(true);
    expect(sets.length).toBeGreaterThan(0);
    expect(sets.filter((s) => /\r/.test(s.raw))).toEqual([]);
  });

  real(`keeps no CR in values of the CRLF official template${NEEDS_REALWORLD}`, () => {
    const sets = byKind(parseAvayaScript(read(TEMPLATE)).statements, 'set');
    expect(sets.length).toBeGreaterThan(0);
    expect(sets.filter((s) => /\r/.test(s.raw))).toEqual([]);
  });
});

describe('GOTO targets and reachability', () => {
  it('the site script: ORPHAN (line 12) is a label nothing reaches; every GOTO has its label; FALLTHROUGH is entered by falling through', () => {
    const found = lintAvayaScript(read(SITE), { file: 'site.txt' });
    expect(withCode(found, 'GOTO_MISSING_LABEL')).toEqual([]);
    const unreached = withCode(found, 'UNREACHED_LABEL');
    expect(unreached.map((d) => d.loc)).toEqual([{ file: 'site.txt', line: 12, col: 3 }]);
    expect(unreached[0]!.message).toContain('ORPHAN');
    expect(unreached[0]!.message).toContain('line 11');
    expect(found.some((d) => d.loc?.line === 23)).toBe(false);
  });

  it('the site script with the SETTINGSX label commented out: the two IFs that jump to it are errors', () => {
    const lines = read(SITE).split('\n');
    expect(lines[16]).toBe('# SETTINGSX\r');
    lines[16] = '## SETTINGSX';
    const found = lintAvayaScript(lines.join('\n'), { file: 's.txt' });
    const missing = withCode(found, 'GOTO_MISSING_LABEL');
    expect(missing.map((d) => d.loc!.line)).toEqual([8, 9]);
    expect(missing.every((d) => d.severity === 'error' && d.loc!.col === 26)).toBe(true);
    // The block under the removed label now follows "goto END" with no way in.
    expect(codes(withCode(found, 'UNREACHABLE_CODE'))).toEqual(['18:UNREACHABLE_CODE']);
  });

  real(`rguerra00: EQNXAUTOGENERATEDSETTINGS (line 123) is a label nothing reaches; every GOTO has its label${NEEDS_REALWORLD}`, () => {
    const found = lintAvayaScript(read(RGUERRA), { file: 'rguerra.txt' });
    expect(withCode(found, 'GOTO_MISSING_LABEL')).toEqual([]);
    const unreached = withCode(found, 'UNREACHED_LABEL');
    expect(unreached.map((d) => d.loc)).toEqual([{ file: 'rguerra.txt', line: 123, col: 3 }]);
    expect(unreached[0]!.message).toContain('EQNXAUTOGENERATEDSETTINGS');
    expect(unreached[0]!.message).toContain('line 122');
    // PRODUCT_LINE_SETTINGS (line 175) is never a GOTO target, but is entered by falling through.
    expect(found.some((d) => d.loc?.line === 175)).toBe(false);
  });

  real(`rguerra00 with the SETTINGSEQNX label commented out: the four IFs that jump to it are errors${NEEDS_REALWORLD}`, () => {
    const lines = read(RGUERRA).split('\n');
    expect(lines[294]).toBe('# SETTINGSEQNX');
    lines[294] = '## SETTINGSEQNX';
    const found = lintAvayaScript(lines.join('\n'), { file: 'r.txt' });
    const missing = withCode(found, 'GOTO_MISSING_LABEL');
    expect(missing.map((d) => d.loc!.line)).toEqual([268, 269, 270, 271]);
    expect(missing.every((d) => d.severity === 'error' && d.loc!.col === 25)).toBe(true);
    // The block under the removed label now follows "GOTO END" with no way in.
    expect(codes(withCode(found, 'UNREACHABLE_CODE'))).toEqual(['296:UNREACHABLE_CODE']);
  });

  it('reports a GOTO and an IF to a label that only exists as a comment', () => {
    const found = lint(['IF $GROUP SEQ 1 GOTO GROUP_1', 'GOTO NOWHERE', '#GROUP_1', '## NOWHERE'].join('\n'));
    expect(codes(found)).toEqual(['1:GOTO_MISSING_LABEL', '2:GOTO_MISSING_LABEL']);
  });

  it('finds unreached labels and dead code, but not labels reached by falling through', () => {
    const script = [
      'GOTO B', // 1
      'SET DIALWAIT 1', // 2: dead, right after a GOTO
      'SET DIALWAIT 2', // 3: same dead run, reported once
      '# A', // 4: nobody jumps here and line 3 is dead
      'SET SIPDOMAIN x', // 5
      '# B', // 6
      'GET $MACADDR.txt', // 7: falls through when the file is missing
      '# C', // 8: reached by falling through from the GET
      'GOTO END', // 9
      '# DEAD', // 10
      'GOTO ALSO_DEAD', // 11
      '# ALSO_DEAD', // 12: only jumped to from dead line 11
      '# END', // 13
    ].join('\n');
    const found = lint(script);
    expect(codes(found)).toEqual(['2:UNREACHABLE_CODE', '4:UNREACHED_LABEL', '10:UNREACHED_LABEL', '12:UNREACHED_LABEL']);
    expect(found[3]!.message).toContain('only jumped to from unreachable line(s) 11');
  });

  it('warns about duplicate labels, pointing at the first one', () => {
    const found = lint(['IF $GROUP SEQ 1 GOTO G', 'SET A 1', '# G', 'SET B 1', '# g', 'SET C 1'].join('\n'));
    const dups = withCode(found, 'DUPLICATE_LABEL');
    expect(dups.map((d) => [d.loc!.line, d.severity])).toEqual([[5, 'warning']]);
    expect(dups[0]!.related![0]!.loc.line).toBe(3);
  });

  it('matches labels ignoring case but says so', () => {
    const found = lint(['GOTO end', '# END'].join('\n'));
    expect(codes(found)).toEqual(['1:LABEL_CASE_MISMATCH']);
  });

  it('warns about backward jumps', () => {
    expect(codes(lint(['# TOP', 'SET A 1', 'IF $GROUP SEQ 1 GOTO TOP'].join('\n')))).toEqual(['3:BACKWARD_GOTO']);
  });

  it('finds nothing to complain about in a script in Avaya\'s own style', () => {
    expect(lintAvayaScript(read(UPGRADE), { file: UPGRADE, catalog: shippedCatalog() })).toEqual([]);
  });

  real(`finds nothing to complain about in Avaya's own scripts and template${NEEDS_REALWORLD}`, () => {
    for (const file of [EVERSLAB_UPGRADE, TEMPLATE, path.join(AVAYA, 'nicolasmurciaa__SIP_AVAYA/96x1Supgrade.txt')])
      expect(lintAvayaScript(read(file), { file, catalog: shippedCatalog() })).toEqual([]);
  });
});

describe('values', () => {
  it('warns about an unquoted value with spaces, but not about trailing blanks', () => {
    const found = lint(['SET DISPLAY_NAME Chef Telefon', 'SET DISPLAY_NAME "Chef Telefon"', 'SET DATESEPARATOR /  ', 'SET DIALPLAN 911|[3567]XXX'].join('\n'));
    expect(found.map((d) => [d.loc!.line, d.loc!.col, d.code])).toEqual([[1, 18, 'UNQUOTED_SPACES']]);
  });

  it('warns about quote trouble', () => {
    const found = lint([
      'SET A "open', // 1
      'SET B "a"b"', // 2
      'SET FORCE_SIP_USERNAME "14087803999"   # Username', // 3: the template's example, uncommented
      'SET SOFTKEY_IDLE "type=blank\u201D', // 4: the template's own typo
      'SET C ab"c"', // 5
      'SET D ""', // 6: fine
    ].join('\n'));
    expect(codes(found)).toEqual(['1:UNBALANCED_QUOTES', '2:QUOTE_IN_VALUE', '3:QUOTE_TRAILING_TEXT', '4:UNBALANCED_QUOTES', '4:SMART_QUOTES', '5:QUOTE_IN_VALUE']);
  });

  it('spots a value wrapped onto the next line (the site script, line 21)', () => {
    expect(withCode(lintAvayaScript(read(SITE), { file: 's' }), 'WRAPPED_VALUE').map((d) => d.loc!.line)).toEqual([21]);
  });

  real(`spots rguerra00's value wrapped onto the next line (line 254)${NEEDS_REALWORLD}`, () => {
    const found = withCode(lintAvayaScript(read(RGUERRA), { file: 'r' }), 'WRAPPED_VALUE');
    expect(found.map((d) => d.loc!.line)).toEqual([254]);
    expect(codes(lint('SET PHNOL\nSET X 1'))).toEqual(['1:MISSING_VALUE']);
  });

  it('reports malformed statements as diagnostics, not exceptions', () => {
    const text = ['SET', 'ADD   ', 'IF $MODEL4 SEQ 9611', 'IF $MODEL4 SEQ 9611 GOTO', 'GOTO', 'GET', 'SET OK 1'].join('\n');
    expect(() => parseAvayaScript(text)).not.toThrow();
    const found = lint(text);
    expect(found.map((d) => [d.loc!.line, d.code, d.severity])).toEqual([1, 2, 3, 4, 5, 6].map((l) => [l, 'MALFORMED_STATEMENT', 'error']));
  });

  it('parses indented statements and tab separators but warns that phones may ignore them', () => {
    const { statements, diagnostics } = parseAvayaScript('  SET A 1\nSET\tB 2\n\t# L\n#\tnot-a-label');
    expect(statements.map((s) => s.kind)).toEqual(['set', 'set', 'label']);
    expect(diagnostics.map((d) => `${d.loc!.line}:${d.code}`)).toEqual(['1:NONSTANDARD_PREFIX', '2:NONSTANDARD_PREFIX', '3:NONSTANDARD_PREFIX']);
  });

  it('warns when a "# " comment is really a label with text after it', () => {
    expect(codes(lint('SET A 1\n# Note: set above'))).toEqual(['2:TRAILING_TEXT']);
  });
});

describe('secrets', () => {
  const SECRET = 'Hunter2-very-secret';
  const script = [
    `SET ADMIN_PASSWORD ${SECRET}`, // 1
    `SET PROCPSWD "${SECRET}"`, // 2
    `SET SIP_PASSWORD ${SECRET} with spaces`, // 3: also UNQUOTED_SPACES, which must not leak it either
    `SET FORCE_SIP_PASSWORD "${SECRET}`, // 4: also UNBALANCED_QUOTES
    'SET PRESERVE_LOGIN_PASSWORD 1', // 5: a flag, not a secret
    'SET DIRPASSWORD ""', // 6: empty
    'SET SCEPPASSWORD "$SERIALNO"', // 7: filled in by the phone
    `SET BRURI http://Administrator:${SECRET}@10.10.10.6/Backup/`, // 8
    `SET MY_TOKEN ${SECRET}`, // 9: only with secretPatterns
  ].join('\n');

  it('flags plaintext secrets and never prints them', () => {
    const found = lint(script, { secretPatterns: [/TOKEN/g], catalog: new Set(['ADMIN_PASSWORD']) });
    expect(codes(withCode(found, 'PLAINTEXT_SECRET'))).toEqual([1, 2, 3, 4, 8, 9].map((l) => `${l}:PLAINTEXT_SECRET`));
    expect(found.filter((d) => d.code === 'PLAINTEXT_SECRET').every((d) => d.message.includes('••••'))).toBe(true);
    expect(withCode(found, 'UNQUOTED_SPACES')).toHaveLength(1);
    expect(withCode(found, 'UNBALANCED_QUOTES')).toHaveLength(1);
    expect(JSON.stringify(found)).not.toContain('Hunter2');
    expect(found.map(formatDiagnostic).join('\n')).not.toContain('Hunter2');
  });

  it('flags only FORCE_SIP_PASSWORD in the site script (PRESERVE_LOGIN_PASSWORD 1 is a flag)', () => {
    const found = withCode(lintAvayaScript(read(SITE), { file: 's' }), 'PLAINTEXT_SECRET');
    expect(found.map((d) => d.loc!.line)).toEqual([19]);
    expect(JSON.stringify(found)).not.toContain('Fixture-Secret');
  });

  real(`flags only FORCE_SIP_PASSWORD in mkrasselt1 (PRESERVE_LOGIN_PASSWORD 1 is a flag)${NEEDS_REALWORLD}`, () => {
    const found = withCode(lintAvayaScript(read(MKRASSELT), { file: 'm' }), 'PLAINTEXT_SECRET');
    expect(found.map((d) => d.loc!.line)).toEqual([59]);
    expect(JSON.stringify(found)).not.toContain('SIPPassword');
  });
});

describe('catalog', () => {
  it('extracts SET, ## SET and ## ADD names, sorted and unique, without prose', () => {
    const names = extractCatalog([
      'SET SIPDOMAIN x',
      '## SET TRUSTCERTS a.pem',
      '##    SET NVVPNCOPYTOS 1',
      '## ADD SOFTKEY_IDLE "type=blank"',
      '##SET DIALPLAN 1',
      '## Set the IP address of the server',
      '##   set them here as they will override',
      '## ADDRESS_VALIDATION specifies whether messaging address validation is enabled',
      '## SET SIPDOMAIN y',
    ].join('\r\n'));
    expect(names).toEqual(['ADDRESS_VALIDATION', 'DIALPLAN', 'NVVPNCOPYTOS', 'SIPDOMAIN', 'SOFTKEY_IDLE', 'TRUSTCERTS']);
  });

  it('loads a catalog file with comments', () => {
    expect([...loadCatalogText('# header\nFOO\n\n  BAR  # trailing note\r\nFOO\n')]).toEqual(['FOO', 'BAR']);
  });

  // Only the official template can say this; extraction itself is tested above.
  real(`ships a catalog that is up to date with the official template${NEEDS_REALWORLD}`, () => {
    const shipped = shippedCatalog();
    const fromTemplate = extractCatalog(read(TEMPLATE));
    expect(fromTemplate.length).toBeGreaterThan(1000);
    expect(fromTemplate.filter((n) => !shipped.has(n))).toEqual([]);
    for (const n of ['ADMIN_PASSWORD', 'PROCPSWD', 'SOFTKEY_SCA_IDLE', 'APPNAME', 'RFSNAME', '3PCC_SERVER_MODE']) expect(shipped.has(n)).toBe(true);
  });

  it('warns about unknown parameters only when given a catalog, with a hint', () => {
    const catalog = shippedCatalog();
    const text = 'SET SIPDOMAN example.com\nSET sipdomain example.com\nSET SIPDOMAIN example.com\nADD SOFTKEY_IDLE "type=blank"';
    const found = lint(text, { catalog });
    expect(codes(found)).toEqual(['1:UNKNOWN_PARAMETER', '2:UNKNOWN_PARAMETER']);
    expect(found[0]!.message).toContain('did you mean SIPDOMAIN?');
    expect(found[1]!.message).toContain('spells it SIPDOMAIN');
    expect(lint(text)).toEqual([]);
  });
});

describe('resources', () => {
  const script = [
    'SET TRUSTCERTS a.pem,b.pem,http://certs.example.com/c.pem,$MACADDR.pem', // 1
    'SET RINGTONES "Steam Whistle=tones/swhistle.wav,Siren=tones/missing.wav"', // 2
    'SET SCREENSAVER 96xxscr.jpg', // 3
    'SET SIPDOMAIN not-a-file.example.com', // 4
    'GET 46xxspecials.txt', // 5
    'GET $MACADDR.txt', // 6
  ].join('\n');
  const present = new Set(['a.pem', 'tones/swhistle.wav', '46xxspecials.txt']);

  it('reports files that the server does not have, skipping URLs and $VARIABLES', () => {
    const asked: string[] = [];
    const found = lint(script, { resourceExists: (n) => (asked.push(n), present.has(n)) });
    expect(found.map((d) => [d.loc!.line, d.loc!.col, d.code])).toEqual([
      [1, 22, 'MISSING_RESOURCE'],
      [2, 55, 'MISSING_RESOURCE'],
      [3, 17, 'MISSING_RESOURCE'],
    ]);
    expect(found[0]!.message).toContain('b.pem');
    expect(asked).not.toContain('not-a-file.example.com');
    expect(asked.some((n) => n.includes('$') || n.includes('://'))).toBe(false);
  });

  it('checks nothing without resourceExists', () => {
    expect(lint(script)).toEqual([]);
  });
});

describe('any file', () => {
  it('lints every fixture of ours, of any kind, without throwing', () => {
    for (const file of walk(FIXTURES)) expect(() => lintAvayaScript(read(file), { file, catalog: shippedCatalog() })).not.toThrow();
  });

  real(`lints every real-world file of every vendor without throwing${NEEDS_REALWORLD}`, () => {
    for (const file of walk(REALWORLD)) expect(() => lintAvayaScript(read(file), { file, catalog: shippedCatalog() })).not.toThrow();
  });

  it('says once that a non-Avaya file has no statements instead of reporting its "# " comments as labels', () => {
    expect(codes(lintAvayaScript(read(NOT_AVAYA), { file: 'd' }))).toEqual(['1:NO_STATEMENTS']);
  });

  real(`says the same of wazo's DeviceConfig.cfg${NEEDS_REALWORLD}`, () => {
    expect(codes(lintAvayaScript(read(WAZO_DEVICECONFIG), { file: 'd' }))).toEqual(['1:NO_STATEMENTS']);
  });
});

describe('deskset lint (in-process)', () => {
  function capture(args: string[]) {
    let out = '';
    let err = '';
    const code = run(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
    return code.then((c) => ({ code: c, out, err }));
  }

  it('prints file:line:col findings and a summary; exit 1 on errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'deskset-lint-'));
    try {
      const bad = path.join(dir, '46xxsettings.txt');
      writeFileSync(bad, 'IF $MODEL4 SEQ J179 GOTO J179\nSET ADMIN_PASSWORD Sup3rS3cret\nSET TRUSTCERTS root.pem\n');
      writeFileSync(path.join(dir, 'extra.txt'), '# site parameters\nMY_SITE_PARAM\n');
      const res = await capture([bad, ONE_LINE, '--catalog', path.join(dir, 'extra.txt'), '--resources', dir]);
      expect(res.code).toBe(1);
      const lines = res.out.trimEnd().split('\n');
      expect(lines).toEqual([
        `${bad}:1:26: error GOTO_MISSING_LABEL: ${withCode(lint('IF $MODEL4 SEQ J179 GOTO J179'), 'GOTO_MISSING_LABEL')[0]!.message}`,
        expect.stringMatching(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:20: warning PLAINTEXT_SECRET: `)),
        expect.stringMatching(/:3:16: warning MISSING_RESOURCE: TRUSTCERTS names root\.pem/),
        '2 file(s) linted: 1 error(s), 2 warning(s), 0 info',
      ]);
      expect(res.out).not.toContain('Sup3rS3cret');

      writeFileSync(path.join(dir, 'root.pem'), 'x');
      writeFileSync(bad, 'SET MY_SITE_PARAM 1\nSET TRUSTCERTS root.pem\n');
      const clean = await capture([bad, '--catalog', path.join(dir, 'extra.txt'), '--resources', dir]);
      expect(clean).toMatchObject({ code: 0, out: '1 file(s) linted: 0 error(s), 0 warning(s), 0 info\n' });
      // Without the extra catalog, the shipped one does not know the site's parameter.
      expect((await capture([bad])).out).toContain('UNKNOWN_PARAMETER');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints JSON with --json and exits 2 for unreadable files', async () => {
    const res = await capture([SITE, path.join(REPO, 'no-such-file.txt'), '--json']);
    expect(res.code).toBe(2);
    const json = JSON.parse(res.out) as { files: number; errors: number; diagnostics: Diagnostic[] };
    expect(json.files).toBe(2);
    expect(json.errors).toBe(1);
    expect(json.diagnostics.map((d) => d.code)).toContain('READ_ERROR');
    expect(json.diagnostics.find((d) => d.code === 'UNREACHED_LABEL')?.loc).toEqual({ file: SITE, line: 12, col: 3 });
  });
});

// Needs a build (`npm test` runs tsc first); skipped when dist/ is absent.
describe.skipIf(!existsSync(path.join(REPO, 'dist/cli/main.js')))('deskset lint (real process)', () => {
  it('runs through bin/deskset.js', () => {
    const res = spawnSync(process.execPath, [path.join(REPO, 'bin/deskset.js'), 'lint', SITE, ONE_LINE], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain(`${SITE}:12:3: warning UNREACHED_LABEL:`);
    expect(res.stdout.trimEnd().split('\n').at(-1)).toMatch(/^2 file\(s\) linted: 0 error\(s\), \d+ warning\(s\), 0 info$/);
  });
});
