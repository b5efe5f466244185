// deskset import for Cisco, Grandstream and Snom (our fixtures in test/fixtures/import/, and
// every Cisco/Grandstream/Snom file of ../shared/realworld when it is there), Poly
// APP_FILE_PATH as a firmware policy, and importing into a root that already has profiles.
// Each import runs the real CLI, which renders the result back and compares per phone; the
// written root must then pass `deskset check`.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planImport, verifyRoundTrip } from '../src/import/index.js';
import { runCli } from './helpers/cli.js';
import { readFolder, shippedCatalog, shippedTemplates } from './helpers/import.js';
import { FIXTURES, HAVE_REALWORLD, NEEDS_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('import-vendors.test.ts');
const DIR = path.join(FIXTURES, 'import');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'deskset-import-vendors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Report {
  written: boolean;
  devices: Array<{ id: string; status: string; model: string | null; compared: number; notes: string[] }>;
  secrets: Array<{ name: string }>;
  dropped: Array<{ file: string; line: number; key: string; reason: string }>;
  clashes: string[];
  kept: string[];
  adding: boolean;
}

async function importJson(args: string[]): Promise<{ code: number | null; report: Report; stderr: string }> {
  const r = await runCli(['import', ...args, '--json']);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

/** `deskset check` on a written root, with every secret the import named set. */
async function check(into: string, secrets: Array<{ name: string }>) {
  const env = Object.fromEntries(secrets.map((s) => [s.name, 'x-secret-value']));
  const r = await runCli(['check', into, '-q'], { env });
  return { code: r.code, last: r.stdout.trim().split('\n').pop() };
}

describe('import: Grandstream (cfg<mac>.xml, the text form, messy files)', () => {
  it('imports every phone equal, maps the vocabulary, and the root passes check', async () => {
    const into = path.join(tmp, 'gs');
    const { code, report, stderr } = await importJson([path.join(DIR, 'grandstream'), '--into', into, '--model', '000b82778899=GXP2170']);
    expect(code).toBe(0);
    expect(report.devices.map((d) => [d.id, d.status, d.model])).toEqual([
      ['000b82112233', 'equal', 'GXP2170'],
      ['000b82445566', 'equal', 'GXP2170'],
      ['000b82778899', 'equal', 'GXP2170'],
    ]);
    // Broken XML, a non-P-value element, a duplicate and a README: each reported with file:line.
    expect(stderr).toMatch(/cfg000b82aabbcc\.xml:1:\d+: error IMPORT_BAD_XML/);
    expect(stderr).toMatch(/cfg000b82445566\.xml:18:1: warning IMPORT_DROPPED: Pfoo/);
    expect(stderr).toMatch(/cfg000b82445566\.xml:17:1: warning IMPORT_DUPLICATE_KEY: P8/);
    expect(stderr).toMatch(/README\.txt:1:1: warning IMPORT_SKIPPED/);
    expect(stderr + JSON.stringify(report)).not.toMatch(/pw-200\d|s3cret-admin/);
    const global = readFileSync(path.join(into, 'profiles/global.yaml'), 'utf8');
    expect(global).toMatch(/sip:\n\s+server: pbx\.example\.com\n\s+port: 5060/);
    expect(global).toContain('language: de');
    expect(global).toMatch(/# Admin Password\n\s+admin_password: \$\{env:ADMIN_PASSWORD\}/);
    const dev = readFileSync(path.join(into, 'profiles/devices/000b82445566.yaml'), 'utf8');
    expect(dev).toMatch(/extension: "2002"[\s\S]*display_name: Sales & Marketing\n\s+label: Sales/);
    expect(await check(into, report.secrets)).toEqual({ code: 0, last: expect.stringMatching(/^3 devices, .* 0 errors/) });
  });

  it('a phone no file or folder names the model of is written without one and asks for it', async () => {
    const r = await runCli(['import', path.join(DIR, 'grandstream', 'cfg000b82778899'), '--into', path.join(tmp, 'gs-nomodel'), '--dry-run']);
    expect(r.stderr).toMatch(/000b82778899: no file says which model this phone is; give it with --model/);
    expect(r.stdout).toMatch(/unchecked grandstream 000b82778899/);
  });
});

describe('import: Snom (snom<model>.htm, snom<model>-<MAC>.htm, <setting-files> chains, perm)', () => {
  it('imports both phones equal (perm included), reports what it cannot carry, and the root passes check', async () => {
    const into = path.join(tmp, 'snom');
    const { code, report, stderr } = await importJson([path.join(DIR, 'snom'), '--into', into]);
    expect(code).toBe(0);
    expect(report.devices.map((d) => [d.id, d.status, d.model])).toEqual([
      ['000413a11fa7', 'equal', 'D785'],
      ['000413a11fa8', 'equal', 'D785'],
    ]);
    expect(stderr).toMatch(/snomD785\.htm:12:1: warning IMPORT_DROPPED: <functionKeys> is not imported/);
    expect(stderr).toMatch(/snom-general\.xml:1:1: warning IMPORT_NOT_LOADED/);
    const dev = readFileSync(path.join(into, 'profiles/devices/000413a11fa8.yaml'), 'utf8');
    // The chained <MAC>.xml is the phone's; its RW settings keep their permission.
    expect(dev).toMatch(/# the user picks his own ringer\n\s+ring_sound@RW: Ringer7/);
    expect(dev).toContain('custom_thing@!: x');
    expect(readFileSync(path.join(into, 'profiles/global.yaml'), 'utf8')).toContain('display_method@RW: display_name_number');
    expect(await check(into, report.secrets)).toEqual({ code: 0, last: expect.stringMatching(/^2 devices, .* 0 errors/) });
  });
});

describe('import: Cisco (SEP<MAC>.cnf.xml, XMLDefault, MPP flat profiles)', () => {
  it('imports the enterprise and the MPP phone equal; structure the SEP template cannot write is reported', async () => {
    const into = path.join(tmp, 'cisco');
    const { code, report, stderr } = await importJson([path.join(DIR, 'cisco'), '--into', into]);
    expect(code).toBe(0);
    expect(report.devices.map((d) => [d.id, d.status, d.model])).toEqual([
      ['0017e0aabb01', 'equal', '7961'],
      ['0057d2c0ffee', 'equal', '7841-3PCC'],
    ]);
    expect(report.devices[0]!.compared).toBeGreaterThan(20);
    expect(stderr).toMatch(/SEP0017E0AABB01\.cnf\.xml:5:1: not imported sshUserId: the SEP template/);
    expect(stderr).toMatch(/SEP0017E0AABB01\.cnf\.xml:8:1: not imported devicePool\.dateTimeSetting\.dateTemplate/);
    expect(stderr).toMatch(/0057d2c0ffee\.xml:4:\d+: not imported Line_Enable_1_@ua/);
    expect(stderr).toMatch(/dialplan\.xml:1:1: warning IMPORT_SKIPPED/);
    expect(stderr).toMatch(/notes\.md:1:1: warning IMPORT_SKIPPED/);
    const sep = readFileSync(path.join(into, 'profiles/devices/0017e0aabb01.yaml'), 'utf8');
    expect(sep).toMatch(/# no speakerphone in the lobby\n\s+disableSpeaker: "true"/);
    expect(sep).toMatch(/password: \$\{env:LINE_4001_PASSWORD\}/);
    expect(readFileSync(path.join(into, 'profiles/models/7841-3PCC.yaml'), 'utf8')).toContain('Resync_Periodic: "3600"');
    expect(await check(into, report.secrets)).toEqual({ code: 0, last: expect.stringMatching(/^2 devices, .* 0 errors/) });
  });

  it('an MPP phone in no model folder is not guessed: check error until the model is given', async () => {
    const dir = path.join(tmp, 'cisco-nomodel');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '0057d2c0ffee.xml'), readFileSync(path.join(DIR, 'cisco', '7841-3PCC', '0057d2c0ffee.xml')));
    const { report } = await importJson([dir, '--into', path.join(tmp, 'cisco-nomodel-root')]);
    expect(report.devices.map((d) => [d.id, d.status])).toEqual([['0057d2c0ffee', 'unchecked']]);
    const written = readFileSync(path.join(tmp, 'cisco-nomodel-root', 'profiles/devices/0057d2c0ffee.yaml'), 'utf8');
    expect(written).toMatch(/no input file says its model/);
    const c = await check(path.join(tmp, 'cisco-nomodel-root'), report.secrets);
    expect(c.code).not.toBe(0);
  });
});

describe('import: Cisco MPP phones read their model\'s common profile first', () => {
  it('a parameter one phone lacks stays on the phones that have it (a null could not remove it from $PSN.xml)', () => {
    const files = [1, 2, 3, 4, 5].map((i) => ({ name: `mpp/7841-3PCC/0057d200000${i}.xml`, bytes: new TextEncoder().encode(`<flat-profile><Station_Name>ph${i}</Station_Name>${i < 5 ? '<Text_Logo>ACME</Text_Logo>' : ''}<Time_Format>24hr</Time_Format></flat-profile>`) }));
    const plan = planImport({ files, catalog: shippedCatalog() });
    expect(plan.layers.global.has(['cisco', 'params', 'Text_Logo'].join('\u0000'))).toBe(false);
    expect(plan.layers.global.get(['cisco', 'params', 'Time_Format'].join('\u0000'))?.value).toBe('24hr');
    const verified = verifyRoundTrip({ root: plan.files, shipped: shippedTemplates(), version: 'test', subjects: plan.subjects, env: new Map() });
    expect(verified.results.map((r) => r.status)).toEqual(['equal', 'equal', 'equal', 'equal', 'equal']);
  });
});

describe('import: Poly APP_FILE_PATH becomes the firmware policy', () => {
  it('copies an image that is in the folder with its version, and warns for one that is not', async () => {
    const dir = path.join(tmp, 'poly-fw');
    mkdirSync(path.join(dir, '5.9.5.0614'), { recursive: true });
    writeFileSync(path.join(dir, '5.9.5.0614', 'sip.ld'), Buffer.from([0, 1, 2, 3, 0, 255]));
    writeFileSync(
      path.join(dir, '000000000000.cfg'),
      '<?xml version="1.0"?>\n<APPLICATION APP_FILE_PATH="5.9.5.0614/sip.ld" CONFIG_FILES="site.cfg"\n  APP_FILE_PATH_VVX450="3111-48840-001.sip.ld"/>\n',
    );
    writeFileSync(path.join(dir, 'site.cfg'), '<polycomConfig><tcpIpApp tcpIpApp.sntp.address="ntp.example.com"/></polycomConfig>\n');
    const into = path.join(tmp, 'poly-fw-root');
    const r = await runCli(['import', dir, '--into', into]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('IMPORT_FIRMWARE_NOT_IMPORTED');
    expect(r.stderr).toMatch(/000000000000\.cfg:3:3: warning IMPORT_FIRMWARE_MISSING: VVX450: firmware 3111-48840-001\.sip\.ld is not in the folder/);
    expect(readdirSync(path.join(into, 'firmware/polycom/5.9.5.0614'))).toEqual(['sip.ld']);
    expect(readFileSync(path.join(into, 'profiles/global.yaml'), 'utf8')).toMatch(/firmware:\n\s+policy: pinned\n\s+version: 5\.9\.5\.0614/);
    const fw = await runCli(['firmware', into]);
    expect(fw.stdout).toContain('5.9.5.0614');
    expect(await check(into, [])).toEqual({ code: 0, last: expect.stringMatching(/ 0 errors/) });
  });
});

describe('import into a root that already has profiles', () => {
  const root = path.join(tmp, 'existing');
  it('adds new phones as groups of their own; the root\'s global and model files are not changed', async () => {
    mkdirSync(path.join(root, 'profiles/devices'), { recursive: true });
    mkdirSync(path.join(root, 'profiles/models'), { recursive: true });
    const global = 'description: ours\nsettings:\n  sip:\n    server: old.example.com\n  time:\n    ntp: [ntp.old.example.com]\n  grandstream:\n    pvalues:\n      P1000: "7"\n';
    writeFileSync(path.join(root, 'profiles/global.yaml'), global);
    writeFileSync(path.join(root, 'profiles/models/GXP2170.yaml'), 'settings:\n  grandstream:\n    pvalues:\n      P1001: "8"\n');
    writeFileSync(path.join(root, 'profiles/devices/000b82000001.yaml'), 'model: GXP2170\n');
    writeFileSync(path.join(root, '.env.example'), 'OURS=\n');
    const { code, report } = await importJson([path.join(DIR, 'grandstream', 'GXP2170'), '--into', root]);
    expect(code).toBe(0);
    expect(report.adding).toBe(true);
    expect(report.devices.every((d) => d.status === 'equal')).toBe(true);
    expect(readFileSync(path.join(root, 'profiles/global.yaml'), 'utf8')).toBe(global);
    const group = readFileSync(path.join(root, 'profiles/groups/import-1-global.yaml'), 'utf8');
    // What the root gives every phone and the input did not: removed for the imported phones.
    expect(group).toMatch(/P1000: null/);
    expect(readFileSync(path.join(root, 'profiles/groups/import-1-gxp2170.yaml'), 'utf8')).toMatch(/P1001: null/);
    expect(readFileSync(path.join(root, 'profiles/devices/000b82112233.yaml'), 'utf8')).toMatch(/groups: \[import-1-global, import-1-gxp2170\]/);
    expect(readFileSync(path.join(root, '.env.example'), 'utf8')).toMatch(/^OURS=\n[\s\S]*LINE_2001_PASSWORD=/);
    expect(await check(root, [...report.secrets, { name: 'OURS' }])).toEqual({ code: 0, last: expect.stringMatching(/^3 devices, .* 0 errors/) });
  });

  it('a phone the root already has is a conflict: nothing written; --skip-existing imports the rest', async () => {
    const dir = path.join(tmp, 'gs-again');
    mkdirSync(dir, { recursive: true });
    for (const f of ['cfg000b82112233.xml', 'cfg000b82445566.xml']) writeFileSync(path.join(dir, f), readFileSync(path.join(DIR, 'grandstream', 'GXP2170', f)));
    writeFileSync(path.join(dir, 'cfg000b82000001.xml'), '<gs_provision version="1"><config version="1"><P8>1</P8></config></gs_provision>\n');
    const before = readFileSync(path.join(root, 'profiles/devices/000b82000001.yaml'), 'utf8');
    const r = await runCli(['import', dir, '--into', root, '--model', '000b82000001=GXP2170']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/profiles\/devices\/000b82000001\.yaml: conflict/);
    expect(r.stderr).toMatch(/profiles\/devices\/000b82112233\.yaml: conflict/);
    expect(existsSync(path.join(root, 'profiles/groups/import-2-global.yaml'))).toBe(false);
    const skip = await importJson([dir, '--into', root, '--model', '000b82000001=GXP2170', '--skip-existing']);
    expect(skip.code).toBe(0);
    expect(skip.report.kept.sort()).toEqual(['profiles/devices/000b82000001.yaml', 'profiles/devices/000b82112233.yaml', 'profiles/devices/000b82445566.yaml']);
    expect(skip.report.devices).toEqual([]);
    expect(readFileSync(path.join(root, 'profiles/devices/000b82000001.yaml'), 'utf8')).toBe(before);
  });
});

describe.skipIf(!HAVE_REALWORLD)(`import: every real Cisco, Grandstream and Snom file${NEEDS_REALWORLD}`, () => {
  const catalog = shippedCatalog();
  const shipped = shippedTemplates();
  for (const vendor of ['cisco', 'grandstream', 'snom']) {
    it(`${vendor}: each file is imported or reported with file:line, and nothing crashes`, () => {
      const files = existsSync(path.join(REALWORLD, vendor)) ? readFolder(path.join(REALWORLD, vendor), vendor) : [];
      const plan = planImport({ files, catalog });
      const named = new Set([...plan.findings.map((f) => f.loc?.file), ...plan.dropped.map((d) => d.loc.file), ...plan.read]);
      expect(files.map((f) => f.name).filter((n) => !named.has(n))).toEqual([]);
      for (const f of plan.findings) if (f.loc) expect(f.loc.line).toBeGreaterThan(0);
      const verified = verifyRoundTrip({ root: plan.files, shipped, version: 'test', subjects: plan.subjects, env: new Map(plan.secrets.map((s) => [s.name, s.value])) });
      // Every phone with a model renders back equal; the others ask for their model.
      for (const r of verified.results) expect([r.subject.id, r.status === 'differs' ? r.notes : r.status]).toEqual([r.subject.id, r.subject.model ? 'equal' : 'unchecked']);
    });
  }
});

describe('import: hoisting finds the structure planted in 200 Grandstream phones', () => {
  const dir = path.join(tmp, 'gs-planted');
  const macs: string[] = [];
  const group: string[] = [];
  let other = '';
  for (let i = 0; i < 200; i++) {
    const model = i % 2 ? 'GRP2614' : 'GXP2170';
    const mac = `000b82${i.toString(16).padStart(6, '0')}`;
    macs.push(mac);
    if (i % 16 === 3 && group.length < 12) group.push(mac);
    if (i === 77) other = mac;
    const p: Record<string, string> = {
      P2: 'admin-pw', P271: '1', P270: `Ext ${3000 + i}`, P47: `${i === 77 ? 'pbx2.example.com' : 'pbx.example.com'}:5060`, P35: `${3000 + i}`, P36: `${3000 + i}`,
      P34: `pw-${i}`, P30: 'pool.ntp.org', P8: group.includes(mac) ? '1' : '0', ...(model === 'GRP2614' ? { P330: '1' } : {}),
    };
    mkdirSync(path.join(dir, model), { recursive: true });
    const body = Object.entries(p).map(([k, v]) => `    <${k}>${v}</${k}>`).join('\n');
    writeFileSync(path.join(dir, model, `cfg${mac}.xml`), `<?xml version="1.0"?>\n<gs_provision version="1">\n  <config version="1">\n${body}\n  </config>\n</gs_provision>\n`);
  }
  const plan = planImport({ files: readFolder(dir, 'gs'), catalog: shippedCatalog() });
  const k = (...p: string[]) => p.join('\u0000');

  it('global: server, NTP, admin password and the common P8; the GRP2614 model its own P330; one group of 12', () => {
    const g = plan.layers.global;
    expect(g.get(k('sip', 'server'))?.value).toBe('pbx.example.com');
    expect(g.get(k('time', 'ntp'))?.value).toEqual(['pool.ntp.org']);
    expect(g.get(k('grandstream', 'pvalues', 'P8'))?.value).toBe('0');
    expect([...plan.layers.models].map(([m, doc]) => [m, [...doc.values()].map((e) => `${e.path.join('.')}=${String(e.value)}`)])).toEqual([['GRP2614', ['grandstream.pvalues.P330=1']]]);
    expect([...plan.layers.groups.keys()]).toEqual(['import-group-1']);
    const members = [...plan.layers.devices.values()].filter((d) => d.groups.includes('import-group-1')).map((d) => d.subject.mac).sort();
    expect(members).toEqual(group.sort());
    const extra = [...plan.layers.devices.values()].filter((d) => [...d.doc.keys()].some((x) => x !== 'lines'));
    expect(extra.map((d) => [d.subject.mac, [...d.doc.values()].filter((e) => e.path[0] !== 'lines').map((e) => `${e.path.join('.')}=${String(e.value)}`)])).toEqual([[other, ['sip.server=pbx2.example.com']]]);
  });

  it('every phone renders back equal', () => {
    const verified = verifyRoundTrip({ root: plan.files, shipped: shippedTemplates(), version: 'test', subjects: plan.subjects, env: new Map(plan.secrets.map((s) => [s.name, s.value])) });
    expect(verified.results.filter((r) => r.status !== 'equal').map((r) => [r.subject.id, r.notes])).toEqual([]);
    expect(verified.results).toHaveLength(200);
    expect(verified.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
