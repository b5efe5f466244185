// deskset import over our own fixtures (test/fixtures/import/): the same behaviours the
// real-file test covers, on files we control — CRLF, Windows-1252, BOM, no final newline,
// wrapped values, duplicate keys, XML comments, <customizations>, broken XML, non-configs.
// Each result is rendered back with the core and compared per phone.

import { mkdtempSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planImport, verifyRoundTrip } from '../src/import/index.js';
import { readFolder, shippedCatalog, shippedTemplates } from './helpers/import.js';
import { FIXTURES } from './helpers/shared.js';
import { runCli } from './helpers/cli.js';

const catalog = shippedCatalog();
const shipped = shippedTemplates();
const DIR = path.join(FIXTURES, 'import');
const MODELS = [
  { mac: 'c81fea000001', model: 'J179', from: 'test' },
  { mac: 'c81fea000002', model: 'J139', from: 'test' },
  { mac: '0004f2000001', model: 'VVX450', from: 'test' },
];

function importAndVerify(vendorDir: string) {
  const files = readFolder(path.join(DIR, vendorDir));
  const plan = planImport({ files, catalog, models: MODELS });
  const root = new Map(plan.files);
  for (const c of plan.copies) if (c.path.endsWith('release.yaml')) root.set(c.path, new TextDecoder().decode(c.bytes));
  const verified = verifyRoundTrip({
    root,
    shipped,
    version: 'test',
    subjects: plan.subjects,
    env: new Map(plan.secrets.map((s) => [s.name, s.value])),
    firmwareFiles: plan.copies.filter((c) => c.path.startsWith('firmware/')).map((c) => c.path),
  });
  return { files, plan, verified };
}

/** Every input file is either read (used) or named in a finding: nothing silently ignored. */
function everyFileAccounted(files: Array<{ name: string }>, plan: ReturnType<typeof planImport>): string[] {
  const named = new Set([...plan.findings.map((f) => f.loc?.file), ...plan.dropped.map((d) => d.loc.file), ...plan.read]);
  return files.map((f) => f.name).filter((n) => !named.has(n));
}

describe('import: Avaya fixtures', () => {
  const { files, plan, verified } = importAndVerify('avaya');
  const byId = new Map(verified.results.map((r) => [r.subject.id, r]));

  it('renders every phone and probe back equal, with no core errors', () => {
    expect(verified.results.map((r) => [r.subject.id, r.status])).toEqual([
      ['J179 (probe)', 'equal'],
      ['any J129 (probe)', 'equal'],
      ['group 2 (probe)', 'equal'],
      ['c81fea000001', 'equal'],
      ['c81fea000002', 'equal'],
    ]);
    expect(verified.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(byId.get('c81fea000001')!.compared).toBeGreaterThan(10);
  });

  it('maps the vocabulary: SIP server, domain, NTP, admin password and the line', () => {
    const global = plan.files.get('profiles/global.yaml')!;
    expect(global).toMatch(/server: sip\.example\.com\n(.*\n)*?\s+port: 5061\n\s+transport: tls/);
    expect(global).toContain('domain: example.com');
    expect(global).toMatch(/ntp:\n\s+- 0\.pool\.ntp\.org\n\s+- 1\.pool\.ntp\.org/);
    expect(global).toContain('admin_password: ${env:ADMIN_PASSWORD}');
    const dev = plan.files.get('profiles/devices/c81fea000001.yaml')!;
    expect(dev).toContain('model: J179');
    expect(dev).toMatch(/extension: "1001"[\s\S]*password: \$\{env:LINE_1001_PASSWORD\}[\s\S]*display_name: Front Desk/);
  });

  it('turns IF $MODEL4 and IF $GROUP branches into model and group files', () => {
    expect(plan.files.get('profiles/models/J179.yaml')).toMatch(/# Colour screens get the big font\n\s+FONT_SIZE: large/);
    expect(plan.files.get('profiles/groups/avaya-group-2.yaml')).toContain('DIALPLAN: 9[2-9]XXXXXXXXX');
    expect(plan.files.get('profiles/global.yaml')).toContain('DIALPLAN: 911|[2-9]XXX');
  });

  it('keeps $SIG and non-catalog model branches verbatim in the overlay resource, with a warning', () => {
    const overlay = new TextDecoder().decode(plan.copies.find((c) => c.path === 'resources/avaya-overlay.txt')!.bytes);
    expect(overlay).toContain('SET MCIPADD 10.0.0.1');
    expect(overlay).toContain('SET OLDPHONE 1');
    const warnings = plan.findings.filter((f) => f.code === 'IMPORT_AVAYA_OVERLAY').map((f) => `${f.loc?.line}: ${f.message}`);
    expect(warnings.some((w) => w.startsWith('18: IF $SIG'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('16: IF $MODEL4') && w.includes('9640'))).toBe(true);
  });

  it('turns the upgrade script into a pinned firmware policy with the image copied', () => {
    expect(plan.files.get('profiles/models/J179.yaml')).toMatch(/firmware:\n\s+policy: pinned\n\s+version: 4\.1\.3\.0\.6/);
    expect(plan.copies.map((c) => c.path)).toContain('firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin');
    expect(plan.findings.some((f) => f.code === 'IMPORT_SKIPPED' && f.loc?.file.endsWith('.bin'))).toBe(false);
  });

  it('reports every parameter it did not import, with file:line and why', () => {
    const dropped = plan.dropped.map((d) => `${path.basename(d.loc.file)}:${d.loc.line} ${d.key}: ${d.reason}`);
    expect(dropped).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^46xxsettings\.txt:13 RINGTONES: ADD/),
        expect.stringMatching(/^46xxsettings\.txt:14 BAD: .*double quote/),
        expect.stringMatching(/^46xxsettings\.txt:25 OLDPHONE: in a block kept/),
        expect.stringMatching(/^46xxsettings\.txt:31 MCIPADD: in a block kept/),
        expect.stringMatching(/^46xxsettings\.txt:35 NEVER_REACHED: no phone reaches/),
      ]),
    );
    // The wrapped value (CRLF, cp1252 file) is imported empty and said so at the wrapped line.
    expect(plan.findings.find((f) => f.code === 'IMPORT_WRAPPED_VALUE')?.loc?.line).toBe(10);
    expect(everyFileAccounted(files, plan)).toEqual([]);
  });

  it('never writes a secret value into YAML; .env.example lists names only', () => {
    const all = [...plan.files.values()].join('\n');
    for (const v of ['27238', 's3cret-1001', 's3cret-1002']) expect(all).not.toContain(v);
    expect(plan.files.get('.env.example')).toMatch(/^ADMIN_PASSWORD=$/m);
  });
});

describe('import: Poly fixtures', () => {
  const { files, plan, verified } = importAndVerify('polycom');

  it('renders every phone and probe back equal (first CONFIG_FILES entry wins)', () => {
    expect(verified.results.map((r) => [r.subject.id, r.status])).toEqual([
      ['0004f2000001', 'equal'],
      ['VVX450 (probe)', 'equal'],
      ['any SPIP335 (probe)', 'equal'],
    ]);
    // features.cfg (BOM, CRLF, <customizations>, no final newline) is listed before sip.cfg: its 0 wins.
    expect(plan.files.get('profiles/global.yaml')).toContain('up.screenSaver.enabled: "0"');
    expect(plan.files.get('profiles/global.yaml')).toContain('up.welcome: Café & bar');
  });

  it('puts what only one model loads in its model file, and null where a device does not load it', () => {
    expect(plan.files.get('profiles/models/VVX450.yaml')).toMatch(/# only the VVX 450s\n\s+up\.backlight\.idleIntensity: "1"/);
    expect(plan.files.get('profiles/devices/0004f2000001.yaml')).toContain('up.backlight.idleIntensity: null');
  });

  it('comments between XML elements travel', () => {
    expect(plan.files.get('profiles/global.yaml')).toMatch(/# Where the phones register\n\s+domain: example\.com/);
  });

  it('reports <mac>-phone.cfg overrides, broken XML and non-configs by file:line, and imports nothing from them', () => {
    const f = (code: string) => plan.findings.filter((x) => x.code === code).map((x) => `${path.basename(x.loc!.file)}:${x.loc!.line}`);
    expect(f('IMPORT_PHONE_OVERRIDES')).toEqual(['0004f2000001-phone.cfg:1']);
    expect(f('IMPORT_BAD_XML')).toEqual(['broken.cfg:3']);
    expect(f('IMPORT_SKIPPED')).toEqual(['README.txt:1']);
    expect(plan.dropped.some((d) => d.key === 'up.backlight.idleIntensity' && d.reason.includes('phone-made override'))).toBe(true);
    expect(everyFileAccounted(files, plan)).toEqual([]);
  });
});

describe('import: Yealink fixtures', () => {
  const { files, plan, verified } = importAndVerify('yealink');

  it('renders every phone back equal; models come from the boot file or the only common file, said in the report', () => {
    expect(verified.results.map((r) => [r.subject.id, r.status, r.subject.model])).toEqual([
      ['805ec0000001', 'equal', 'T46S'],
      ['805ec0000002', 'equal', 'T46S'],
      ['805ec0000003', 'equal', 'T46S'],
    ]);
    expect(verified.results[1]!.subject.modelFrom).toMatch(/805ec0000002\.boot:2$/);
    expect(verified.results[0]!.subject.modelFrom).toMatch(/only common file/);
  });

  it('##-commented keys are comments, not settings; duplicates and junk lines are reported by line', () => {
    const model = plan.files.get('profiles/models/T46S.yaml') ?? '';
    const global = plan.files.get('profiles/global.yaml')!;
    expect(`${model}\n${global}`).toContain('features.dnd.enable = 1');
    const f = plan.findings.map((x) => `${x.code} ${path.basename(x.loc?.file ?? '')}:${x.loc?.line}`);
    expect(f).toEqual(expect.arrayContaining(['IMPORT_DUPLICATE_KEY 805EC0000001.cfg:11', 'IMPORT_NOT_A_SETTING 805EC0000001.cfg:13', 'IMPORT_DROPPED 805EC0000001.cfg:15', 'IMPORT_INCLUDE_MISSING 805ec0000002.boot:4']));
    expect(everyFileAccounted(files, plan)).toEqual([]);
  });

  it('maps accounts to lines with the SIP server, and keeps UTF-8 values', () => {
    // Two of three phones name the server: under --min-share 0.8 it stays on the devices.
    expect(plan.files.get('profiles/global.yaml')).not.toContain('server:');
    expect(plan.files.get('profiles/devices/805ec0000001.yaml')).toMatch(/server: sip\.example\.com[\s\S]*label: Reception[\s\S]*linekey\.1\.label: Café/);
  });
});

describe('import: model unknown', () => {
  it('writes the device without a model and says so; check then asks for it', () => {
    const files = readFolder(path.join(DIR, 'polycom'));
    const plan = planImport({ files, catalog });
    expect(plan.files.get('profiles/devices/0004f2000001.yaml')).toMatch(/^# polycom phone: no input file says its model/);
    expect(plan.findings.some((f) => f.code === 'IMPORT_MODEL_UNKNOWN' && f.message.includes('--model 0004f2000001=MODEL'))).toBe(true);
  });
});

describe('deskset import (CLI, end to end)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'deskset-import-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('--dry-run prints the report and writes nothing', async () => {
    const into = path.join(tmp, 'dry');
    const r = await runCli(['import', path.join(DIR, 'yealink'), '--into', into, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 equal, 0 differ, 0 not checked/);
    expect(r.stdout).toMatch(/lines in \d+ -> lines out \d+/);
    expect(existsSync(into)).toBe(false);
  });

  it('writes a root that `deskset check` passes, with secrets only in the environment', async () => {
    const into = path.join(tmp, 'avaya');
    const r = await runCli(['import', path.join(DIR, 'avaya'), '--into', into, '--model', 'c81fea000001=J179', '--model', 'c81fea000002=J139']);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 equal, 0 differ/);
    const env = Object.fromEntries(readFileSync(path.join(into, '.env.example'), 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=$/.test(l)).map((l) => [l.slice(0, -1), 'x-secret']));
    const check = await runCli(['check', into, '-q'], { env });
    expect(check.stdout).toMatch(/ 0 errors/);
    expect(check.code).toBe(0);
    expect(readdirSync(path.join(into, 'firmware', 'avaya', '4.1.3.0.6')).sort()).toEqual(['FW_S_J179_R4_1_3_0_6.bin', 'release.yaml']);
  });

  it('--models CSV names the models; --json reports every phone; the root passes check', async () => {
    // @ts-expect-error plain JS shared with the bench
    const { writeImportFolder } = await import('../bench/gen-import.js');
    const gen = writeImportFolder(path.join(tmp, 'gen'), 40) as { phones: string; csv: string };
    const into = path.join(tmp, 'gen-root');
    const r = await runCli(['import', gen.phones, '--models', gen.csv, '--into', into, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { written: boolean; devices: Array<{ status: string; modelFrom: string }>; secrets: Array<{ name: string }> };
    expect(report.written).toBe(true);
    expect(report.devices).toHaveLength(40);
    expect(report.devices.every((d) => d.status === 'equal' && /models\.csv:\d+$/.test(d.modelFrom))).toBe(true);
    expect(r.stdout).not.toMatch(/pw-\d{4}/);
    const env = Object.fromEntries(report.secrets.map((s) => [s.name, 'x-secret']));
    const check = await runCli(['check', into, '-q'], { env });
    expect([check.code, check.stdout.trim().split('\n').pop()]).toEqual([0, '40 devices, 50 files rendered and validated: 0 errors, 0 warnings']);
  });

  it('a Poly file named on the command line, with no master config, is read as loaded by every phone', async () => {
    const r = await runCli(['import', path.join(DIR, 'polycom', 'sip.cfg'), '--into', path.join(tmp, 'one'), '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/equal +polycom any \w+ \(probe\): 6 parameters/);
    expect(r.stderr).toMatch(/IMPORT_NO_MASTER/);
  });

  it('--inline-secrets writes the values, and no .env.example', () => {
    const plan = planImport({ files: readFolder(path.join(DIR, 'yealink')), catalog, inlineSecrets: true });
    expect(plan.files.get('profiles/devices/805ec0000001.yaml')).toContain('password: pw3001');
    expect(plan.files.has('.env.example')).toBe(false);
  });

  it('never overwrites a phone the root already has: each is a conflict and nothing is written', async () => {
    const into = path.join(tmp, 'avaya');
    const r = await runCli(['import', path.join(DIR, 'avaya'), '--into', into]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/profiles\/devices\/c81fea000001\.yaml: conflict/);
    expect(r.stderr).toMatch(/nothing written/);
    expect(existsSync(path.join(into, 'profiles/groups/import-1-global.yaml'))).toBe(false);
  });
});
