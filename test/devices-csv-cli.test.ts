// `deskset devices import` and `devices export` as an admin runs them: the real CLI on real
// files. Hostile CSVs change no byte of the root; good ones write what they say; the seed's
// PDMS-E examples import; export → import --merge changes nothing; 10,000 rows in seconds.

import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from './helpers/cli.js';
import { exportCsv } from '../src/cli/devices-export.js';
import { makeTmpRoot, SAMPLE_DEVICES, type TmpRoot } from './helpers/tmp-root.js';

const FIX = path.join(REPO, 'test', 'fixtures', 'csv');
const SEEDS = path.resolve(REPO, '..', 'shared', 'seeds');
const SEED = existsSync(SEEDS) ? readdirSync(SEEDS).find((f) => f.startsWith('002_')) : undefined;
if (!SEED) console.warn(`devices-csv-cli.test.ts: ${SEEDS}/002_*.txt is absent: the seed comparison is skipped; the fixtures in test/fixtures/csv/ still run`);

/** Every file under dir, with its bytes. */
async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, (await fs.readFile(path.join(abs, e.name))).toString('base64'));
    }
  };
  await walk(dir, '');
  return out;
}

let tmp: string;
const csvFile = async (name: string, content: string | Buffer): Promise<string> => {
  const p = path.join(tmp, name);
  await fs.writeFile(p, content);
  return p;
};
const withGroups = { 'profiles/groups/EPGroup1.yaml': 'description: PDMS-E group 1\n', 'profiles/groups/EPGroup2.yaml': 'description: PDMS-E group 2\n' };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-csv-'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

describe('hostile CSVs: every problem reported with its line, nothing written', () => {
  let root: TmpRoot;
  let before: Map<string, string>;
  beforeAll(async () => {
    root = await makeTmpRoot(withGroups);
    before = await tree(root.dir);
  });
  afterAll(() => root.cleanup());

  const cases: Array<[string, string | Buffer, string[], string[]?]> = [
    ['bad MAC', 'mac_address,model\n0004f2000001,VVX450\n0004f20000zz,VVX450\n', [':3:1: error CSV_MAC']],
    ['unknown model', 'mac_address,model\n0004f2000001,VVX451\n', [':2:1: error CSV_MODEL', 'VVX450']],
    ['unknown group', 'mac_address,model,endpoint_group\n0004f2000001,VVX450,EPGroup1|EPGroup3\n', [':2:1: error CSV_GROUP', 'EPGroup3']],
    ['unknown site', 'mac_address,model,site\n0004f2000001,VVX450,paris\n', [':2:1: error CSV_SITE']],
    ['duplicate MAC in two notations', 'mac_address,model\n0004f2000001,VVX450\n00:04:F2:00:00:01,VVX450\n', [':3:1: error CSV_DUPLICATE_MAC', 'line 2']],
    ['wrong column count', 'mac_address,model,site\n0004f2000001,VVX450\n0004f2000002,VVX450,nyc,x\n', [':2:1: error CSV_COLUMNS', ':3:1: error CSV_COLUMNS']],
    ['a value the schema refuses', 'mac_address,model,sip.port,sip.transport,time.zone\n0004f2000001,VVX450,70000,sctp,Mars/Base\n', [':2:', 'CSV_VALUE', 'outside 1..65535', 'not one of udp, tcp, tls', 'unknown time zone']],
    ['a row that would not pass check (render)', 'mac_address,model,account.1.label\n805ec0000099,T46S,"two\nlines"\n', [':2:1: error RENDER', 'device 805ec0000099', 'line break']],
    ['a row that would not pass check (secret reference)', 'mac_address,model,lines.1.extension,lines.1.password\n0004f2000099,VVX450,1,${file:../../etc/passwd}\n', [':2:1: error SECRET_REF_ESCAPES', 'device 0004f2000099']],
    ['a new device without a model (PDMS-E file, no --model)', readFileSync(path.join(FIX, 'pdms-one-line.csv')), [':2:1: error CSV_MODEL', '--model']],
    ['a masked secret for a new device', 'mac_address,model,lines.1.password\n0004f2000001,VVX450,••••\n', [':2:', 'CSV_MASKED_SECRET']],
    ['an unclosed quote', 'mac_address,model\n0004f2000001,"VVX450\n0004f2000002,VVX450\n', [':2:1: error CSV_SYNTAX']],
    ['two separators equally often', 'mac_address;model,site\n1;2,3\n', [':1:1: error CSV_SEPARATOR']],
    ['Windows-1252 bytes', Buffer.concat([Buffer.from('mac_address,model,endpoint_name\n0004f2000001,VVX450,Jo'), Buffer.from([0xe3]), Buffer.from('o\n')]), [':2:', 'CSV_NOT_UTF8', 'UTF-8']],
    ['no mac_address column', 'mac,model\n0004f2000001,VVX450\n', [':1:1: error CSV_HEADER', 'mac_address']],
    ['an empty file', '', [':1:1: error CSV_EMPTY']],
    ['a bad --secrets-as-env prefix', 'mac_address,model\n0004f2000001,VVX450\n', ['CSV_ENV_PREFIX'], ['--secrets-as-env', 'my-prefix']],
    ['good rows and many bad ones together', 'mac_address,model,endpoint_group\n0004f2000001,VVX450,EPGroup1\nxx,VVX450,\n0004f2000003,NOPE,\n0004f2000004,VVX450,Nope\n', [':3:1: error CSV_MAC', ':4:1: error CSV_MODEL', ':5:1: error CSV_GROUP', '3 errors']],
  ];
  it.each(cases)('%s', async (name, content, want, extra = []) => {
    const file = await csvFile(`${name.replace(/\W+/g, '-')}.csv`, content);
    for (const mode of [[], ['--merge'], ['--overwrite']]) {
      const r = await runCli(['devices', 'import', file, root.dir, ...mode, ...extra]);
      expect(r.code, r.stderr).toBe(1);
      for (const w of want) expect(r.stderr).toContain(w.startsWith(':') ? `${file}${w}` : w);
      expect(r.stderr).toMatch(/nothing written/);
    }
    expect(await tree(root.dir)).toEqual(before);
  });
});

describe('good CSVs', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot(withGroups);
  });
  afterAll(() => root.cleanup());

  it('an Excel-style file (BOM, CRLF, semicolons, quoted separators and newlines) imports', async () => {
    const text = '\ufeffMAC_Address;Model;Endpoint_Name;Endpoint_Group;Site;Lines.1.Extension;lines.1.display_name;reg.1.label\r\n' + '00-04-F2-00-00-01;vvx450;"Desk; 1\r\nsecond floor";EPGroup1|EPGroup2;nyc;1001;"Ann ""A"" Lee";Ann\r\n' + '\r\n' + '805EC0000001;T46S;Desk 2;;lisbon;1002;Bo;\r\n';
    const file = await csvFile('excel.csv', text);
    const r = await runCli(['devices', 'import', file, root.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created 2, updated 0, unchanged 0, skipped 0 \(2 rows\)/);
    const a = parseYaml(await fs.readFile(root.file('profiles/devices/0004f2000001.yaml'), 'utf8'));
    expect(a).toEqual({ model: 'VVX450', site: 'nyc', groups: ['EPGroup1', 'EPGroup2'], description: 'Desk; 1\nsecond floor', settings: { lines: [{ extension: '1001', display_name: 'Ann "A" Lee' }], polycom: { params: { 'reg.1.label': 'Ann' } } } });
    const b = parseYaml(await fs.readFile(root.file('profiles/devices/805ec0000001.yaml'), 'utf8'));
    expect(b).toEqual({ model: 'T46S', site: 'lisbon', description: 'Desk 2', settings: { lines: [{ extension: '1002', display_name: 'Bo' }] } });
    const check = await runCli(['check', root.dir, '-q']);
    expect(check.code, check.stdout).toBe(0);
  });

  it('--merge edits the file in place: comments and other keys stay', async () => {
    const rel = 'profiles/devices/0004f2a1b2c3.yaml';
    const old = await fs.readFile(root.file(rel), 'utf8');
    const file = await csvFile('merge.csv', 'mac_address,endpoint_name,lines.1.display_name\n0004F2A1B2C3,Bob at the window,Bob O.\n');
    const r = await runCli(['devices', 'import', file, root.dir, '--merge']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/updated 1/);
    const now = await fs.readFile(root.file(rel), 'utf8');
    expect(now.startsWith('# Poly VVX 450 on the New York sales floor\n')).toBe(true);
    expect(now).toContain('description: Bob at the window');
    expect(now).toContain('display_name: "Bob O."');
    // Every line of the old file but the one changed is still there.
    const kept = old.split('\n').filter((l) => !l.includes('display_name'));
    for (const l of kept) expect(now.split('\n')).toContain(l);
  });

  it('without --merge or --overwrite an existing device is left alone, and says so', async () => {
    const rel = 'profiles/devices/0004f2a1b2c3.yaml';
    const old = await fs.readFile(root.file(rel));
    const file = await csvFile('skip.csv', 'mac_address,endpoint_name\n0004F2A1B2C3,Someone else\n');
    const r = await runCli(['devices', 'import', file, root.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 devices exist and were left as they are/);
    expect(await fs.readFile(root.file(rel))).toEqual(old);
  });

  it('--dry-run prints the YAML diff and the rendered-file diff, secrets masked, and writes nothing', async () => {
    const before = await tree(root.dir);
    const file = await csvFile('dry.csv', 'mac_address,lines.1.display_name,lines.1.password\n0004F2A1B2C3,Robert,n3w-Secret-9\n');
    const r = await runCli(['devices', 'import', file, root.dir, '--merge', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('--- a/profiles/devices/0004f2a1b2c3.yaml');
    expect(r.stdout).toMatch(/^\+.*display_name: "Robert"/m);
    expect(r.stdout).toContain('+++ b/0004f2a1b2c3-settings.cfg');
    expect(r.stdout).toMatch(/^-\s+reg\.1\.displayName="Bob[^"]*"\n\+\s+reg\.1\.displayName="Robert"$/m);
    expect(r.stdout).toMatch(/^\+.*password: "••••"/m);
    expect(r.stdout).toMatch(/dry run, nothing written: would create 0, would update 1/);
    expect(r.stdout + r.stderr).not.toContain('n3w-Secret-9');
    expect(r.stderr).toMatch(/would hold plaintext secrets \(lines\.1\.password\)/);
    expect(await tree(root.dir)).toEqual(before);
  });

  it('--overwrite replaces the file with what the row says', async () => {
    const file = await csvFile('over.csv', 'mac_address,site,lines.1.extension\n805EC0000001,nyc,2002\n');
    const r = await runCli(['devices', 'import', file, root.dir, '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    expect(await fs.readFile(root.file('profiles/devices/805ec0000001.yaml'), 'utf8')).toBe('model: T46S\nsite: nyc\nsettings:\n  lines:\n    - extension: "2002"\n');
  });

  it('--secrets-as-env writes references and names the variables, never the values', async () => {
    const file = await csvFile('env.csv', 'mac_address,model,lines.1.extension,lines.1.password\n0004f2000077,VVX450,1077,Pa55-w0rd-77\n');
    const r = await runCli(['devices', 'import', file, root.dir, '--secrets-as-env', 'DESKSET']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('DESKSET_0004F2000077_LINES_1_PASSWORD');
    expect(r.stdout + r.stderr).not.toContain('Pa55-w0rd-77');
    const text = await fs.readFile(root.file('profiles/devices/0004f2000077.yaml'), 'utf8');
    expect(text).toContain('password: "${env:DESKSET_0004F2000077_LINES_1_PASSWORD}"');
    expect(text).not.toContain('Pa55-w0rd-77');
    // With the variable set, the root checks clean and the phone gets the password.
    const check = await runCli(['check', root.dir, '-q'], { env: { DESKSET_0004F2000077_LINES_1_PASSWORD: 'Pa55-w0rd-77' } });
    expect(check.code, check.stdout).toBe(0);
    await fs.rm(root.file('profiles/devices/0004f2000077.yaml'));
  });

  it('export → import --merge changes no file, byte for byte (secrets masked on the way)', async () => {
    await fs.writeFile(root.file('profiles/devices/0004f2000055.yaml'), '# plaintext on purpose\nmodel: VVX450\nsettings:\n  lines:\n    - {extension: "55", password: "Plain-55-secret"}\n');
    const before = await tree(root.dir);
    const out = path.join(tmp, 'export.csv');
    const e = await runCli(['devices', 'export', root.dir, '--csv', '--out', out]);
    expect(e.code, e.stderr).toBe(0);
    const csv = await fs.readFile(out, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^mac_address,model,endpoint_name,endpoint_group,site,/);
    expect(csv).not.toContain('Plain-55-secret');
    expect(csv).toContain('••••');
    const stdout = await runCli(['devices', 'export', root.dir, '--csv']);
    expect(stdout.stdout).toBe(csv);
    const i = await runCli(['devices', 'import', out, root.dir, '--merge']);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/created 0, updated 0, unchanged \d+, skipped 0/);
    expect(await tree(root.dir)).toEqual(before);
  });
});

describe('export with an inventory', () => {
  let root: TmpRoot;
  afterAll(() => root?.cleanup());
  it('adds last_seen, firmware and provision_result from the lookup; import skips them, changing nothing', async () => {
    root = await makeTmpRoot();
    const seen = new Map([['c81fea83e85a', { last_seen: new Date('2026-12-01T08:30:00Z'), firmware: '4.1.3.0.6', provision_result: 'stale' }]]);
    const r = await exportCsv(root.dir, { inventory: (mac) => seen.get(mac) });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const lines = r.csv.trim().split('\n');
    expect(lines[0]).toMatch(/,last_seen,firmware,provision_result$/);
    expect(lines.find((l) => l.startsWith('C81FEA83E85A,'))).toMatch(/,2026-12-01T08:30:00\.000Z,4\.1\.3\.0\.6,stale$/);
    expect(lines.find((l) => l.startsWith('0004F2A1B2C3,'))).toMatch(/,,,$/);
    const before = await tree(root.dir);
    const file = await csvFile('inventory.csv', r.csv);
    const i = await runCli(['devices', 'import', file, root.dir, '--merge']);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stderr).toMatch(/column "last_seen" not imported: it comes from the inventory/);
    expect(await tree(root.dir)).toEqual(before);
  });
});

describe('the seed’s PDMS-E examples', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot(withGroups);
  });
  afterAll(() => root.cleanup());

  it.skipIf(!SEED)('the fixtures are the seed’s examples with the wrapped lines joined', () => {
    const seed = readFileSync(path.join(SEEDS, SEED!), 'utf8');
    const blocks = seed.slice(seed.indexOf('## CSV File Examples'), seed.indexOf('## Import Multiple Devices')).split('```').filter((_, i) => i % 2 === 1);
    const squash = (s: string) => s.replace(/\s+/g, '');
    expect(blocks.map(squash)).toEqual(['pdms-two-lines.csv', 'pdms-one-line.csv', 'pdms-hostname.csv', 'pdms-studio.csv'].map((f) => squash(readFileSync(path.join(FIX, f), 'utf8'))));
  });

  it('import with --model, one after another with --merge, then export → import is a no-op', async () => {
    const run = (f: string, ...extra: string[]) => runCli(['devices', 'import', path.join(FIX, f), root.dir, '--model', 'VVX450', '--merge', ...extra]);
    const two = await run('pdms-two-lines.csv');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/plaintext secrets \(reg\.1\.auth\.password, reg\.2\.auth\.password\)/);
    const one = await run('pdms-one-line.csv');
    expect(one.code, one.stderr).toBe(0);
    const host = await run('pdms-hostname.csv');
    expect(host.code, host.stderr).toBe(0);
    expect(host.stdout).toMatch(/created 0, updated 2/);
    const studio = await run('pdms-studio.csv');
    expect(studio.code, studio.stderr).toBe(0);
    expect(studio.stderr).toMatch(/column "serial_number" not imported/);
    expect(studio.stderr).toMatch(/column "endpoint_type" not imported/);
    const a = parseYaml(await fs.readFile(root.file('profiles/devices/0004f23ea4e1.yaml'), 'utf8'));
    expect(a).toEqual({
      model: 'VVX450',
      groups: ['EPGroup1', 'EPGroup2'],
      description: 'SoundPoint-EA4E1',
      settings: { polycom: { params: { 'reg.1.address': '1000', 'reg.1.displayname': 'Jon Smith', 'reg.1.auth.userId': '1000', 'reg.1.auth.password': '1000', 'reg.2.address': '1001', 'reg.2.displayname': 'Jon Smith1', 'reg.2.auth.userId': '1001', 'reg.2.auth.password': '1001', 'device.hostname': 'SoundPointA4E1' } } },
    });
    const b = parseYaml(await fs.readFile(root.file('profiles/devices/0004f24fd08e.yaml'), 'utf8'));
    expect(b).toEqual({ model: 'VVX450', settings: { polycom: { params: { 'reg.1.address': '1001', 'device.hostname': 'SoundPointD08E' } } } });
    expect(parseYaml(await fs.readFile(root.file('profiles/devices/00e0db4c20cc.yaml'), 'utf8'))).toEqual({ model: 'VVX450', groups: ['EPGroup1', 'EPGroup2'], description: 'Jsmith_Studio' });

    const before = await tree(root.dir);
    const out = path.join(tmp, 'pdms-export.csv');
    expect((await runCli(['devices', 'export', root.dir, '--csv', '--out', out, '--show-secrets'])).code).toBe(0);
    const again = await runCli(['devices', 'import', out, root.dir, '--merge']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/updated 0/);
    expect(await tree(root.dir)).toEqual(before);
  });
});

describe('10,000 rows', () => {
  let root: TmpRoot;
  afterAll(() => root?.cleanup());
  it('import in seconds, and a no-op re-import after export', async () => {
    root = await makeTmpRoot();
    const rows = ['mac_address,model,endpoint_name,endpoint_group,site,lines.1.extension,lines.1.display_name,reg.1.label'];
    for (let i = 0; i < 10_000; i++) rows.push(`${(0x0004f2100000 + i).toString(16).padStart(12, '0')},VVX450,Desk ${i},sales,nyc,${20000 + i},User ${i},Key ${i}`);
    const file = await csvFile('10k.csv', `${rows.join('\n')}\n`);
    const t0 = Date.now();
    const r = await runCli(['devices', 'import', file, root.dir], { killAfterMs: 280_000 });
    const ms = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created 10000/);
    console.log(`devices import: 10,000 rows in ${(ms / 1000).toFixed(1)} s (wall, this machine, load ${os.loadavg()[0]!.toFixed(1)})`);
    const devices = (await fs.readdir(root.file('profiles/devices'))).filter((f) => f.endsWith('.yaml'));
    expect(devices).toHaveLength(10_000 + SAMPLE_DEVICES);
    expect(parseYaml(await fs.readFile(root.file('profiles/devices/0004f2100fff.yaml'), 'utf8'))).toMatchObject({ description: 'Desk 4095', settings: { lines: [{ extension: '24095' }] } });
    const out = path.join(tmp, '10k-export.csv');
    expect((await runCli(['devices', 'export', root.dir, '--out', out], { killAfterMs: 280_000 })).code).toBe(0);
    const again = await runCli(['devices', 'import', out, root.dir, '--merge'], { killAfterMs: 280_000 });
    expect(again.stdout).toMatch(new RegExp(`unchanged ${10_000 + SAMPLE_DEVICES}`));
  }, 600_000);
});
