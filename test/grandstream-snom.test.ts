// Grandstream and Snom beyond the shared contract suite: their checkers over every real file
// of the vendor in ../shared/realworld (each parses; defects are findings, never throws) and
// over our own fixtures with known defects at known lines; their User-Agents identified field
// by field; their time-zone and firmware forms; hostile escape-hatch keys; and the files served
// over a real socket byte for byte as `render` writes them.

import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../src/check/diagnostics.js';
import { parseUserAgent } from '../src/pipeline/user-agent.js';
import type { RunningServer } from '../src/server.js';
import { REDACTED } from '../src/config/redact.js';
import { RenderValueError } from '../src/vendors/contract.js';
import { firmwareServer, gsLine, posixTz } from '../src/vendors/grandstream/escape.js';
import { checkGrandstream, parsePValueCatalog, readGsXml } from '../src/vendors/grandstream/read.js';
import { parseSnomKey, snomDst, snomLine } from '../src/vendors/snom/escape.js';
import { checkSnom, parseSnomCatalog, readSnomXml } from '../src/vendors/snom/read.js';
import { parseVendorManifest, type VendorManifest } from '../src/vendors/manifest.js';
import { dstRule, zoneInfo } from '../src/render/timezone.js';
import { REPO, runCli } from './helpers/cli.js';
import { appendYaml } from './helpers/e2e-http.js';
import { shippedFiles } from './helpers/reload-root.js';
import { get, serveRoot } from './helpers/serve-root.js';
import { FIXTURES, HAVE_REALWORLD, NEEDS_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';
import { makeTmpRoot, SAMPLES, sampleSecrets, type TmpRoot } from './helpers/tmp-root.js';

warnIfNoRealworld('grandstream-snom.test.ts');

const GS_CATALOG = parsePValueCatalog(readFileSync(path.join(REPO, 'schemas/grandstream/pvalues.txt'), 'utf8'));
const SNOM_CATALOG = parseSnomCatalog(readFileSync(path.join(REPO, 'schemas/snom/settings.txt'), 'utf8'));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

const codesAt = (ds: Diagnostic[]) => ds.map((d) => `${d.loc?.line}:${d.severity}:${d.code}`);
const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');

/** Every finding names the file and a line and column inside it. */
function located(ds: Diagnostic[], file: string, text: string): void {
  const lines = text.split('\n').length;
  for (const d of ds) {
    expect(d.loc?.file, formatDiagnostic(d)).toBe(file);
    expect(d.loc!.line, formatDiagnostic(d)).toBeGreaterThanOrEqual(1);
    expect(d.loc!.line, formatDiagnostic(d)).toBeLessThanOrEqual(lines);
    expect(d.loc!.col, formatDiagnostic(d)).toBeGreaterThanOrEqual(1);
  }
}

describe(`real files of the corpus${NEEDS_REALWORLD}`, () => {
  it.skipIf(!HAVE_REALWORLD)('every Grandstream file parses; its defects are findings with a place', () => {
    const files = filesUnder(path.join(REALWORLD, 'grandstream'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const text = readFileSync(f, 'latin1');
      const ds = checkGrandstream(text, f, GS_CATALOG);
      located(ds, f, text);
      // Both are usable as they are: the GDS file (P-values of a door system, unknown to our
      // phone catalog: warnings) and the HT502 P-value list in the text form.
      expect(errors(ds).map(formatDiagnostic), f).toEqual([]);
    }
    const gds = path.join(REALWORLD, 'grandstream/grintor__grandstream_stuff/cfg.xml');
    const values = readGsXml(readFileSync(gds, 'utf8'));
    expect(values.get('P2')).toBe('PASSWORD');
    expect(values.get('P10005')).toBe('GMT+05:00MDT+04:00,M3.2.0/02:00:00,M11.1.0/02:00:00');
    // The door-system P-values our phone catalog does not know are reported, each at its line.
    const unknown = checkGrandstream(readFileSync(gds, 'utf8'), gds, GS_CATALOG).filter((d) => d.code === 'GS_UNKNOWN_PVALUE');
    expect(unknown.map((d) => d.loc!.line)).toContain(10); // <P15505>
  });

  it.skipIf(!HAVE_REALWORLD)('every Snom file parses; its defects are findings with a place', () => {
    const files = filesUnder(path.join(REALWORLD, 'snom'));
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const ds = checkSnom(text, f, SNOM_CATALOG);
      located(ds, f, text);
      expect(errors(ds).map(formatDiagnostic), f).toEqual([]);
      const read = readSnomXml(text);
      expect(read.get('admin_mode')).toBe('off');
      expect(read.get('user_active[12]')).toBe('off');
    }
  });
});

describe('the Grandstream checker on our own fixtures', () => {
  const fx = (name: string) => path.join(FIXTURES, 'grandstream', name);
  const run = (name: string, encoding: BufferEncoding = 'utf8') => checkGrandstream(readFileSync(fx(name), encoding), fx(name), GS_CATALOG);

  it('a good file: no findings, values read back unescaped', () => {
    expect(run('good.xml').map(formatDiagnostic)).toEqual([]);
    const v = readGsXml(readFileSync(fx('good.xml'), 'utf8'));
    expect(v.get('P3')).toBe('Zoë & Co');
    expect(v.get('P48')).toBe('');
  });

  it('a broken file: each defect at its line', () => {
    expect(codesAt(run('broken.xml'))).toEqual([
      '3:error:GS_MAC',
      '7:error:GS_TEXT',
      '6:error:GS_NAME',
      '8:warning:GS_UNKNOWN_PVALUE',
      '9:warning:GS_DUPLICATE',
      '10:error:GS_NESTED',
    ]);
  });

  it('malformed XML (the corpus\'s <authPassword[== …]> kind): an error at its line, no throw', () => {
    const ds = run('malformed.xml');
    expect(ds.length).toBeGreaterThan(0);
    expect(ds.every((d) => d.code === 'GS_XML' && d.severity === 'error')).toBe(true);
    expect(ds[0]!.loc!.line).toBe(4);
  });

  it('the text form (CRLF): a line that is not "Pnnn = value" is an error at its line; a repeat is a warning', () => {
    expect(codesAt(run('text-form.txt', 'latin1'))).toEqual(['4:error:GS_TEXT_LINE', '5:warning:GS_DUPLICATE']);
  });

  it('hostile input never throws', () => {
    for (const t of ['', '<', '<gs_provision>', '<?xml version="1.0"?><x/>', '\u0000\u0001', 'P1 =', '<gs_provision version="1"><config version="9"/></gs_provision>', '<'.repeat(10_000)]) {
      expect(() => checkGrandstream(t, 'x', GS_CATALOG)).not.toThrow();
    }
    expect(codesAt(checkGrandstream('<gs_provision version="1"><config version="9"/></gs_provision>', 'x'))).toEqual(['1:error:GS_VERSION']);
    expect(codesAt(checkGrandstream('<gs_provision version="1"></gs_provision>', 'x'))).toEqual(['1:error:GS_NO_CONFIG']);
  });
});

describe('the Snom checker on our own fixtures', () => {
  const fx = (name: string) => path.join(FIXTURES, 'snom', name);
  const run = (name: string) => checkSnom(readFileSync(fx(name), 'utf8'), fx(name), SNOM_CATALOG);

  it('a good file: no findings, idx and perm read as the phone does', () => {
    expect(run('good.xml').map(formatDiagnostic)).toEqual([]);
    const v = readSnomXml(readFileSync(fx('good.xml'), 'utf8'));
    expect(v.get('user_realname[1]')).toBe('Zoë <Desk>');
    expect(v.get('language')).toBe('Deutsch');
    // functionKeys are not phone-settings.
    expect(v.has('fkey[0]')).toBe(false);
  });

  it('a broken file: each defect at its line', () => {
    expect(codesAt(run('broken.xml'))).toEqual([
      '8:error:SNOM_TEXT',
      '4:error:SNOM_IDX',
      '5:error:SNOM_PERM',
      '6:warning:SNOM_PERM',
      '7:warning:SNOM_DUPLICATE',
      '10:warning:SNOM_SECTION',
    ]);
  });

  it('malformed XML: an error at its line, no throw', () => {
    const ds = run('malformed.xml');
    expect(ds[0]?.code).toBe('SNOM_XML');
    expect(ds[0]!.loc!.line).toBe(4);
  });

  it('hostile input never throws', () => {
    for (const t of ['', '<', '<settings>', '<?xml version="1.0"?><x/>', '\u0000', '<'.repeat(10_000)]) expect(() => checkSnom(t, 'x', SNOM_CATALOG)).not.toThrow();
  });
});

describe('User-Agents: vendor, model, firmware, MAC', () => {
  let vendors: VendorManifest[];
  beforeAll(async () => {
    const shipped = await shippedFiles();
    vendors = ['grandstream', 'snom', 'yealink', 'polycom', 'avaya'].map((v) => parseVendorManifest(shipped.get(`templates/${v}/vendor.yaml`)!, v).manifest!);
  });
  // Every Grandstream and Snom line of ../shared/realworld/user-agents.txt (vendor-facts §4.3, §4.4), and the fixtures'.
  const table: Array<[string, string, string, string, string | undefined]> = [
    ['Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859', 'grandstream', 'GXP1628', '1.0.4.138', 'c074ad2bd859'],
    ['Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97', 'grandstream', 'GXP2200', '1.0.1.33', '000b82462d97'],
    ['Grandstream Model HW GXV3350  V1.3A SW 1.0.1.8 DevId c074ad150b88', 'grandstream', 'GXV3350', '1.0.1.8', 'c074ad150b88'],
    ['Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8', 'grandstream', 'GXP2000', '1.2.5.3', '000b822726c8'],
    ['Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10', 'grandstream', 'HT801', '1.0.17.5', 'c074ad273a10'],
    ['Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419', 'grandstream', 'HT802V2', '1.0.5.4', 'ec74d763e419'],
    ['Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872', 'grandstream', 'GXP2135', '1.0.7.97', '000b828aa872'],
    ['Mozilla/4.0 (compatible; snom320-SIP 6.5.20; snom320 jffs2 v3.36; snom320 linux 3.38)', 'snom', '320', '6.5.20', undefined],
    ['Mozilla/4.0 (compatible; snom320-SIP 7.3.30 1.1.3-u)', 'snom', '320', '7.3.30', undefined],
    ['Mozilla/4.0 (compatible; snom710-SIP 8.7.3.19 1.1.5-IFX-05.01.12)', 'snom', '710', '8.7.3.19', undefined],
    ['Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)', 'snom', '710', '8.7.5.35', '000413741767'],
    ['Mozilla/4.0 (compatible; snom820-SIP 8.4.35 1.1.4-IFX-26.11.09)', 'snom', '820', '8.4.35', undefined],
    ['Mozilla/4.0 (compatible; snom870-SIP 8.4.35 SPEAr300 SNOM 1.4)', 'snom', '870', '8.4.35', undefined],
    ['Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)', 'snom', 'D785', '10.1.33.33', '000413922d24'],
    ['Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)', 'snom', 'M900', '05.20.0001', '000413b60680'],
    ['Mozilla/4.0 (compatible; snomD735-SIP 10.1.46.16 2010.12-00004-g9ba52f5 000413a1b2c3)', 'snom', 'D735', '10.1.46.16', '000413a1b2c3'],
  ];
  for (const [ua, vendor, model, firmware, mac] of table) {
    it(ua, () => {
      expect(parseUserAgent(ua, vendors)).toEqual({ vendor, model, family: undefined, firmware, mac });
    });
  }
  it('claims no other vendor\'s User-Agent', () => {
    for (const ua of ['Yealink SIP-T46G 28.83.0.120 00:15:65:4a:a9:37', 'FileTransport PolycomVVX-VVX_101-UA/5.4.3.1014 Type/Application', 'Mozilla/5.0 (compatible; snomnet crawler)', 'Grandstream']) {
      const v = parseUserAgent(ua, vendors)?.vendor;
      expect(v === 'grandstream' || v === 'snom', ua).toBe(false);
    }
  });
});

describe('time zones and firmware in the vendors\' own forms', () => {
  it('Grandstream P246 is a POSIX TZ string', () => {
    const tz = (z: string) => posixTz(zoneInfo(z).standardMinutes, dstRule(z));
    expect(tz('America/New_York')).toBe('MTZ+5MDT+4,M3.2.0/02:00:00,M11.1.0/02:00:00');
    expect(tz('Europe/Berlin')).toBe('MTZ-1MDT-2,M3.5.0/02:00:00,M10.5.0/03:00:00');
    expect(tz('Asia/Kolkata')).toBe('MTZ-5:30');
    expect(tz('UTC')).toBe('MTZ+0');
    expect(tz('Australia/Sydney')).toBe('MTZ-10MDT-11,M10.1.0/02:00:00,M4.1.0/03:00:00');
  });
  it('Snom dst: seconds, then MM.WW.DD HH:MM:SS twice (week 5 = last, 7 = Sunday)', () => {
    expect(snomDst(dstRule('Europe/Berlin'))).toBe('3600 03.05.07 02:00:00 10.05.07 03:00:00');
    expect(snomDst(dstRule('America/New_York'))).toBe('3600 03.02.07 02:00:00 11.01.07 02:00:00');
    expect(snomDst(dstRule('Asia/Tokyo'))).toBeUndefined();
  });
  it('Grandstream firmware: P212 from the scheme, P192 the server path without file', () => {
    expect(firmwareServer('https://prov.example.com/firmware/grandstream/1.0.11.3/gxp2170fw.bin')).toEqual({ via: '2', path: 'prov.example.com/firmware/grandstream/1.0.11.3' });
    expect(firmwareServer('http://10.0.0.1:8080/fw/gxp2170fw.bin')).toEqual({ via: '1', path: '10.0.0.1:8080/fw' });
    expect(firmwareServer('ftp://x/y')).toBeUndefined();
  });
});

describe('escape hatches: names are checked, values escaped', () => {
  it('grandstream.pvalues: a P-value name or nothing', () => {
    expect(gsLine('P47', 'a</P47><P2>x')).toBe('    <P47>a&lt;/P47&gt;&lt;P2&gt;x</P47>');
    for (const bad of ['P47><P2', 'p47', 'account.1.sip', 'P', '']) expect(() => gsLine(bad, 'x'), bad).toThrow(RenderValueError);
    expect(() => gsLine('P3', 'bell\u0007')).toThrow(RenderValueError);
  });
  it('snom.settings: name, [idx] and @perm', () => {
    expect(snomLine('user_realname[2]', 'A & B')).toBe('    <user_realname idx="2" perm="R">A &amp; B</user_realname>');
    expect(snomLine('admin_mode@RW', 'off')).toBe('    <admin_mode perm="RW">off</admin_mode>');
    expect(snomLine('language@', 'Deutsch')).toBe('    <language perm="">Deutsch</language>');
    expect(parseSnomKey('user_host[1]@!')).toEqual({ name: 'user_host', idx: '1', perm: '!' });
    for (const bad of ['a b', 'x perm="RW"', 'user[1', 'user@X', '1abc', 'a><b']) expect(() => snomLine(bad, 'x'), bad).toThrow(RenderValueError);
  });
});

describe('samples over HTTP: what render writes, byte for byte, under every name the phones ask', () => {
  let server: RunningServer;
  let secrets: string[];
  // The golden files are `render`'s preview: secrets masked. Served bytes, masked the same way, must equal them.
  const golden = (name: string) => readFileSync(path.join(REPO, 'test/golden/samples', name), 'utf8');
  const masked = (text: string) => secrets.reduce((t, s) => t.split(s).join(REDACTED), text);
  beforeAll(async () => {
    server = await serveRoot(SAMPLES);
    secrets = (await sampleSecrets('all')).sort((a, b) => b.length - a.length);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('Grandstream: cfg<mac>.xml and cfg<mac> (both names the phones ask) carry the same XML', async () => {
    const want = golden('cfgc074ad0a1b2c.xml');
    expect(want).toContain('<P35>3010</P35>');
    for (const p of ['/cfgc074ad0a1b2c.xml', '/cfgc074ad0a1b2c', '/cfgC074AD0A1B2C.xml']) {
      const r = await get(server, p);
      expect(r.status, p).toBe(200);
      expect(masked(r.text), p).toBe(want);
      expect(readGsXml(r.text).get('P34'), p).toBe(readFileSync(path.join(SAMPLES, 'secrets/line-3010'), 'utf8').trim());
    }
  });

  it('Snom: snom<model>.htm and snom<model>-<MAC>.htm, the MAC in upper case as the phones send it', async () => {
    const dev = await get(server, '/snomD785-000413A1B2C3.htm');
    expect(dev.status).toBe(200);
    expect(masked(dev.text)).toBe(golden('snomD785-000413A1B2C3.htm'));
    expect(readSnomXml(dev.text).get('user_pass[1]')).toBe(readFileSync(path.join(SAMPLES, 'secrets/line-3020'), 'utf8').trim());
    expect(readSnomXml(dev.text).get('user_realname[1]')).toBe('Sala <Reuniões>');
    const model = await get(server, '/snomD785.htm');
    expect(model.status).toBe(200);
    expect(model.text).toBe(golden('snomD785.htm'));
    // The model file is fetched without a MAC: no credentials in it.
    expect(model.text).not.toMatch(/user_pass|admin_mode_password/);
  });

  it('a MAC that is not in the inventory gets nothing (unknown_devices: reject)', async () => {
    expect((await get(server, '/cfgc074adffffff.xml')).status).toBe(404);
    expect((await get(server, '/snomD785-000413FFFFFF.htm')).status).toBe(404);
  });
});

describe('`deskset check` traces a vendor-map finding to the profile line that set it', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({
      'profiles/devices/c074ad0a1b2c.yaml': appendYaml('      P99999: 1\n'),
      'profiles/devices/000413a1b2c3.yaml': appendYaml('      "languag": Deutsch\n'),
    });
  });
  afterAll(async () => {
    await root?.cleanup();
  });

  it('an unknown P-value and a misspelt Snom setting: warnings at their YAML lines, exit 0', async () => {
    const r = await runCli(['check', root.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/profiles\/devices\/c074ad0a1b2c\.yaml:10:\d+: warning GS_UNKNOWN_PVALUE: P99999/);
    expect(r.stdout).toMatch(/profiles\/devices\/000413a1b2c3\.yaml:10:\d+: warning SNOM_UNKNOWN_SETTING: languag/);
  });

  it('a name the format cannot carry is refused at render, at its YAML line: exit 1', async () => {
    await fs.appendFile(root.file('profiles/devices/c074ad0a1b2c.yaml'), '      "P47><P2": x\n');
    const r = await runCli(['check', root.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/profiles\/devices\/c074ad0a1b2c\.yaml:11:\d+: error RENDER: "P47><P2" is not a Grandstream P-value name/);
  });
});
