// `deskset codes issue --csv` as an admin runs it: the real CLI on a copy of samples/. A good
// Cisco BAT style CSV writes a placeholder per row and prints one code each, once; every kind
// of bad row is told at its line and leaves no file written and no code issued; the codes
// then bind real phones at a real server's 401 prompt.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { memoryLog } from './helpers/e2e-http.js';
import { avayaUa, ENROLLMENT_ON, phoneGet, polyUa, typed } from './helpers/phone.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { startServer, type RunningServer } from '../src/server.js';

const CODE = /\b\d{4}-\d{4}-\d{4}-\d{4}\b/g;
const GOOD = [
  'name,model,site,endpoint_group,lines.1.extension,lines.1.display_name,reg.1.label',
  'BAT-reception,J179,nyc,sales,4801,Reception,',
  'BAT-conference,VVX450,lisbon,,4802,Conference,"Conf, room"',
  'BAT-lobby,T46S,,support,4803,Lobby,',
].join('\n');

let tmp: string;
const csvFile = async (name: string, text: string): Promise<string> => {
  const p = path.join(tmp, name);
  await fs.writeFile(p, text);
  return p;
};

/** Every file of the root's profiles, as a digest of paths and bytes. */
async function profilesDigest(root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const e of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else h.update(`${path.relative(root, abs)}\0`).update(await fs.readFile(abs));
    }
  };
  await walk(path.join(root, 'profiles'));
  return h.digest('hex');
}

async function codesOf(root: string): Promise<Array<{ id: string; placeholder: string | null; mac: string | null; used: number; kind: string }>> {
  const r = await runCli(['codes', 'list', root, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-codes-csv-'));
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

describe('a good CSV: three placeholders of three vendors, three codes printed once, redeemed at the prompt', () => {
  let root: TmpRoot;
  let out: string;
  let srv: RunningServer | undefined;
  const codes = new Map<string, string>();

  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': ENROLLMENT_ON });
    const r = await runCli(['codes', 'issue', root.dir, '--csv', await csvFile('good.csv', GOOD)]);
    expect(r.code, r.stderr).toBe(0);
    out = r.stdout;
    for (const line of out.split('\n')) {
      const m = /^(BAT-\w+)\s+(\S+)\s+(\d{4}-\d{4}-\d{4}-\d{4})$/.exec(line);
      if (m) codes.set(m[1]!, m[3]!);
    }
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    await root.cleanup();
  });

  it('prints a table of name, model and code, each code once', () => {
    expect(out.split('\n')[0]).toMatch(/^NAME\s+MODEL\s+CODE$/);
    expect([...codes.keys()].sort()).toEqual(['BAT-conference', 'BAT-lobby', 'BAT-reception']);
    expect(out.match(CODE)).toHaveLength(3);
    expect(new Set(codes.values()).size).toBe(3);
    expect(out).toMatch(/^BAT-conference\s+VVX450\s/m);
    expect(out).toContain('shown only now');
  });

  it('writes each placeholder as devices import would write the device', async () => {
    const read = async (name: string) => parseYaml(await fs.readFile(root.file(`profiles/devices/placeholders/${name}.yaml`), 'utf8'));
    expect(await read('BAT-reception')).toEqual({ model: 'J179', site: 'nyc', groups: ['sales'], settings: { lines: [{ extension: '4801', display_name: 'Reception' }] } });
    expect(await read('BAT-conference')).toEqual({ model: 'VVX450', site: 'lisbon', settings: { lines: [{ extension: '4802', display_name: 'Conference' }], polycom: { params: { 'reg.1.label': 'Conf, room' } } } });
    expect(await read('BAT-lobby')).toMatchObject({ model: 'T46S', groups: ['support'] });
  });

  it('codes list shows the three codes, never a code; check passes', async () => {
    const list = await codesOf(root.dir);
    expect(list.map((c) => [c.placeholder, c.kind, c.used]).sort()).toEqual([
      ['BAT-conference', 'activation', 0],
      ['BAT-lobby', 'activation', 0],
      ['BAT-reception', 'activation', 0],
    ]);
    const listed = (await runCli(['codes', 'list', root.dir])).stdout + (await runCli(['codes', 'export', root.dir, '--csv'])).stdout;
    for (const c of codes.values()) {
      expect(listed).not.toContain(c);
      expect(listed).not.toContain(c.replaceAll('-', ''));
    }
    const check = await runCli(['check', root.dir]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('a code from the CSV binds a phone at the 401 prompt; the wrong model is refused', async () => {
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    const reception = codes.get('BAT-reception')!;
    const wrong = await phoneGet(srv.port, '/46xxsettings.txt', { 'User-Agent': avayaUa('c81fea0c5002', 'J189'), ...typed(reception) });
    expect(wrong.status).toBe(401);
    const asked = await phoneGet(srv.port, '/46xxsettings.txt', { 'User-Agent': avayaUa('c81fea0c5001') });
    expect(asked.status).toBe(401);
    const bound = await phoneGet(srv.port, '/46xxsettings.txt', { 'User-Agent': avayaUa('c81fea0c5001'), ...typed(reception) });
    expect(bound.status).toBe(200);
    expect(bound.body.toString()).toContain('SET FORCE_SIP_EXTENSION 4801');
    const poly = await phoneGet(srv.port, '/0004f2c5c5c5-settings.cfg', { 'User-Agent': polyUa, ...typed(codes.get('BAT-conference')!.replaceAll('-', '')) });
    expect(poly.status).toBe(200);
    expect(poly.body.toString()).toContain('Conf, room');
    const list = await codesOf(root.dir);
    expect(list.find((c) => c.placeholder === 'BAT-reception')?.used).toBe(1);
  });
});

describe('separators, a pinned MAC, --json and --out', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot();
  });
  afterAll(() => root.cleanup());

  it.each([
    ['semicolon', ';'],
    ['tab', '\t'],
  ])('a %s-separated file', async (label, sep) => {
    const text = [['Name', 'MODEL', 'lines.1.extension'], [`BAT-${label}`, 'T46S', '4900']].map((r) => r.join(sep)).join('\r\n') + '\r\n';
    const r = await runCli(['codes', 'issue', root.dir, '--csv', await csvFile(`${label}.csv`, text), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const issued = JSON.parse(r.stdout) as Array<{ name: string; model: string; code: string; id: string; placeholder: string }>;
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({ name: `BAT-${label}`, model: 'T46S', placeholder: `BAT-${label}` });
    expect(issued[0]!.code).toMatch(/^\d{16}$/);
    expect(parseYaml(await fs.readFile(root.file(`profiles/devices/placeholders/BAT-${label}.yaml`), 'utf8'))).toEqual({ model: 'T46S', settings: { lines: [{ extension: '4900' }] } });
  });

  it('a mac column pins the code; --out writes name,model,code to a new 0600 file and prints no code', async () => {
    const codesFile = path.join(tmp, 'handout.csv');
    const r = await runCli(['codes', 'issue', root.dir, '--csv', await csvFile('pinned.csv', 'name,model,mac\nBAT-pinned,VVX450,00:04:F2:AB:CD:EF\nBAT-free,VVX450,\n'), '--out', codesFile, '--ttl', '24']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(CODE);
    expect(r.stdout).toMatch(/^NAME\s+MODEL\s+ID$/m);
    expect((await fs.stat(codesFile)).mode & 0o777).toBe(0o600);
    const handout = await fs.readFile(codesFile, 'utf8');
    expect(handout).toMatch(/^name,model,code\nBAT-pinned,VVX450,\d{4}-\d{4}-\d{4}-\d{4}\nBAT-free,VVX450,\d{4}-\d{4}-\d{4}-\d{4}\n$/);
    const list = await codesOf(root.dir);
    expect(list.find((c) => c.placeholder === 'BAT-pinned')?.mac).toBe('0004f2abcdef');
    expect(list.find((c) => c.placeholder === 'BAT-free')?.mac).toBeNull();
    // A second run to the same file is refused before anything is done: codes are never overwritten.
    const again = await runCli(['codes', 'issue', root.dir, '--csv', await csvFile('again.csv', 'name,model\nBAT-again,VVX450\n'), '--out', codesFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists');
    await expect(fs.stat(root.file('profiles/devices/placeholders/BAT-again.yaml'))).rejects.toThrow();
  });

  it('--csv takes no --placeholder or --site; --out goes only with --csv', async () => {
    const file = await csvFile('x.csv', 'name,model\nBAT-x,VVX450\n');
    for (const extra of [['--placeholder', 'BAT-x'], ['--site', 'nyc'], ['--mac', '0004f2000001']]) {
      const r = await runCli(['codes', 'issue', root.dir, '--csv', file, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
    }
    expect((await runCli(['codes', 'issue', root.dir, '--site', 'nyc', '--out', path.join(tmp, 'nope.csv')])).code).toBe(2);
  });
});

describe('bad rows: told at their line, no file written, no code issued', () => {
  let root: TmpRoot;
  let digest: string;
  beforeAll(async () => {
    root = await makeTmpRoot({ 'profiles/devices/placeholders/BAT-taken.yaml': 'model: J179\n' });
    digest = await profilesDigest(root.dir);
  });
  afterAll(() => root.cleanup());

  const cases: Array<[string, string, string[]]> = [
    ['a bad name', 'name,model\nBAT-ok,J179\nBAT reception!,J179\n', [':3:1: error CSV_NAME']],
    ['an empty name', 'name,model\n,J179\n', [':2:1: error CSV_NAME', 'empty']],
    ['an unknown model', 'name,model\nBAT-a,J179\nBAT-b,J1799\n', [':3:1: error CSV_MODEL', 'J179']],
    ['no model in a row', 'name,model\nBAT-a,\n', [':2:1: error CSV_MODEL', 'required']],
    ['no model column', 'name,site\nBAT-a,nyc\n', [':1:1: error CSV_HEADER', 'model']],
    ['no name column', 'model\nJ179\n', [':1:1: error CSV_HEADER', 'name']],
    ['an unknown site', 'name,model,site\nBAT-a,J179,paris\n', [':2:1: error CSV_SITE']],
    ['an unknown group', 'name,model,endpoint_group\nBAT-a,J179,sales|nope\n', [':2:1: error CSV_GROUP', 'nope']],
    ['a duplicate name, in another case', 'name,model\nBAT-a,J179\nbat-A,J179\n', [':3:1: error CSV_DUPLICATE_NAME', 'line 2']],
    ['an existing placeholder', 'name,model\nBAT-new,J179\nbat-taken,J179\n', [':3:1: error CSV_PLACEHOLDER_EXISTS', '--overwrite']],
    ['a bad MAC', 'name,model,mac\nBAT-a,J179,00:04:zz\n', [':2:1: error CSV_MAC']],
    ['a MAC with a device file', 'name,model,mac\nBAT-a,VVX450,0004F2A1B2C3\n', [':2:1: error CSV_MAC', 'device file']],
    ['one MAC pinned twice', 'name,model,mac\nBAT-a,J179,c81fea000001\nBAT-b,J179,c8-1f-ea-00-00-01\n', [':3:1: error CSV_DUPLICATE_MAC']],
    ['a value the schema refuses', 'name,model,sip.port\nBAT-a,J179,70000\n', [':2:1: error CSV_VALUE', 'outside 1..65535']],
    ['a row that would not pass check', 'name,model,account.1.label\nBAT-ok,T46S,fine\nBAT-bad,T46S,"two\nlines"\n', [':3:1: error RENDER', 'placeholder BAT-bad', 'line break']],
    ['a wrong field count', 'name,model\nBAT-a,J179,extra\n', [':2:1: error CSV_COLUMNS']],
    ['an empty file', '', [':1:1: error CSV_EMPTY', 'name and model']],
    ['a bad --ttl', 'name,model\nBAT-a,J179\n', ['--ttl']],
  ];
  it.each(cases)('%s', async (label, text, want) => {
    const file = await csvFile(`${label.replace(/\W+/g, '-')}.csv`, text);
    const r = await runCli(['codes', 'issue', root.dir, '--csv', file, ...(label === 'a bad --ttl' ? ['--ttl', '0'] : [])]);
    expect(r.code, r.stderr).toBe(1);
    for (const w of want) expect(r.stderr).toContain(w.startsWith(':') ? `${file}${w}` : w);
    expect(r.stderr).toContain('nothing written, no code issued');
    expect(r.stdout).toBe('');
    expect(await profilesDigest(root.dir)).toBe(digest);
    expect(await codesOf(root.dir)).toEqual([]);
  });

  it('--overwrite replaces an existing placeholder', async () => {
    const r = await runCli(['codes', 'issue', root.dir, '--csv', await csvFile('overwrite.csv', 'name,model,site\nBAT-taken,T46S,nyc\n'), '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    expect(await fs.readFile(root.file('profiles/devices/placeholders/BAT-taken.yaml'), 'utf8')).toBe('model: T46S\nsite: nyc\n');
    expect(await codesOf(root.dir)).toHaveLength(1);
  });
});
