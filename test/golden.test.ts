// Golden files: `deskset render samples` (the real CLI, as a child process) must write exactly
// the files under test/golden/samples/, byte for byte. After an intended change, regenerate:
//   UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts
// then READ the diff (git diff test/golden) before committing it.
//
// Beyond bytes, the rendered files are checked for what they mean: escaping, quoting, the
// Yealink header, no duplicate keys, UTF-8, null removals, well-formed XML, and Poly
// attributes that say what the YAML said.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, type CliResult } from './helpers/cli.js';
import { resolveSampleValue, sampleSecrets } from './helpers/tmp-root.js';

const GOLDEN = path.join(REPO, 'test', 'golden', 'samples');
const SAMPLES = path.join(REPO, 'samples');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else if (e.isFile()) out.set(r, await fs.readFile(path.join(abs, e.name)));
    }
  };
  await walk(dir, '');
  return out;
}

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-golden-'));
  tmpDirs.push(d);
  return d;
}

let render: CliResult;
/** `render samples --out DIR`: the preview (secrets masked), compared with the golden files. */
let produced: Map<string, Buffer>;
/** `render samples --out DIR --show-secrets`: the deployable files, what phones get. */
let deployable: Map<string, Buffer>;
let golden: Map<string, Buffer>;

beforeAll(async () => {
  const out = await tmpDir();
  const deployDir = await tmpDir();
  let deploy: CliResult;
  [render, deploy] = await Promise.all([runCli(['render', 'samples', '--out', out]), runCli(['render', 'samples', '--out', deployDir, '--show-secrets'])]);
  expect(deploy.code, deploy.stderr).toBe(0);
  produced = await readTree(out);
  deployable = await readTree(deployDir);
  if (UPDATE && render.code === 0 && produced.size > 0) {
    await fs.rm(GOLDEN, { recursive: true, force: true });
    for (const [rel, bytes] of produced) {
      await fs.mkdir(path.dirname(path.join(GOLDEN, rel)), { recursive: true });
      await fs.writeFile(path.join(GOLDEN, rel), bytes);
    }
  }
  golden = await readTree(GOLDEN);
});

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

const text = (rel: string): string => {
  const b = produced.get(rel);
  expect(b, `render did not write ${rel}`).toBeDefined();
  return b!.toString('utf8');
};
const deployed = (rel: string): string => {
  const b = deployable.get(rel);
  expect(b, `render --show-secrets did not write ${rel}`).toBeDefined();
  return b!.toString('utf8');
};

describe('render samples vs test/golden/samples', () => {
  it('render exits 0 and says how many files it wrote', () => {
    expect(render.stderr).not.toMatch(/error/i);
    expect(render.code).toBe(0);
    expect(render.stdout).toContain(`rendered ${produced.size} files`);
    expect(produced.size).toBeGreaterThan(0);
  });

  it('writes exactly the golden file names', () => {
    expect(golden.size, 'test/golden/samples is empty: run UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts').toBeGreaterThan(0);
    expect([...produced.keys()].sort()).toEqual([...golden.keys()].sort());
  });

  it('every file is byte-for-byte the golden one', () => {
    const diffs: string[] = [];
    for (const [rel, want] of golden) {
      const got = produced.get(rel);
      if (!got || got.equals(want)) continue;
      const a = want.toString('utf8').split('\n');
      const b = got.toString('utf8').split('\n');
      const i = a.findIndex((line, n) => line !== b[n]);
      const at = i < 0 ? a.length : i;
      diffs.push(`${rel}:${at + 1}\n  golden:   ${JSON.stringify(a[at])}\n  rendered: ${JSON.stringify(b[at])}`);
    }
    expect(diffs, 'if the change is intended: UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts, then review git diff test/golden').toEqual([]);
  });

  it('the golden set covers every vendor and every sample device', async () => {
    const names = [...golden.keys()];
    for (const mac of (await fs.readdir(path.join(SAMPLES, 'profiles', 'devices'))).map((f) => f.replace(/\.ya?ml$/, ''))) {
      expect(names.some((n) => n.toLowerCase().includes(mac)), mac).toBe(true);
    }
    for (const n of ['J100Supgrade.txt', '000000000000.cfg', 'c81fea83e85a.txt', '0004f2a1b2c3.cfg', '0004f2a1b2c3-settings.cfg', '805ec0123456.cfg', 'y000000000066.cfg']) {
      expect(names).toContain(n);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// What the files say
// ---------------------------------------------------------------------------------------------

const isXml = (rel: string) => produced.get(rel)!.subarray(0, 5).toString() === '<?xml';
const isYealink = (rel: string) => produced.get(rel)!.toString('utf8').startsWith('#!') || /^y\d{12}\.cfg$/.test(rel) || /^805ec0/.test(rel);
const isAvaya = (rel: string) => rel.endsWith('.txt');

describe('escaping and quoting', () => {
  it('Poly: XML attribute escaping of apostrophe, ampersand and angle brackets', () => {
    const t = text('0004f2a1b2c3-settings.cfg');
    expect(t).toContain(`reg.1.displayName="Bob O&apos;Neil &amp; Co"`);
    expect(t).toContain(`reg.1.label="Bob &lt;sales&gt;"`);
    expect(t).not.toContain("O'Neil");
    expect(t).not.toContain('<sales>');
  });

  it('Avaya: a value with a space is double-quoted, a value without is not', () => {
    const t = text('c81fea83e85a.txt');
    expect(t.split('\n')).toContain('SET DISPLAY_NAME "Reception NYC"');
    expect(t.split('\n')).toContain('SET FORCE_SIP_EXTENSION 1001');
    expect(text('c81fea9102aa.txt').split('\n')).toContain('SET DISPLAY_NAME "Ann Lee"');
    expect(text('2cf4c5001122.txt').split('\n')).toContain('SET DISPLAY_NAME "Hot desk 1"');
  });

  it('Avaya: every statement line is a comment, SET, IF, GOTO, GET or a # label', () => {
    for (const rel of [...produced.keys()].filter(isAvaya)) {
      for (const line of text(rel).split('\n')) {
        if (line === '') continue;
        expect(line, `${rel}: ${line}`).toMatch(/^(##|# [A-Z0-9_]+$|SET [A-Z][A-Z0-9_]* |IF \$|GOTO |GET )/);
      }
    }
  });

  it('Yealink: first line is exactly #!version:1.0.0.1, every other line a comment or key = value', () => {
    const files = [...produced.keys()].filter(isYealink);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const rel of files) {
      const lines = text(rel).split('\n');
      expect(lines[0], rel).toBe('#!version:1.0.0.1');
      for (const line of lines.slice(1)) {
        if (line === '' || line.startsWith('#')) continue;
        expect(line, `${rel}: ${line}`).toMatch(/^[A-Za-z0-9_.%-]+ = [^\r\n]*$/);
      }
    }
  });

  it('every file ends with exactly one newline and has no CR or BOM', () => {
    for (const [rel, b] of produced) {
      const t = b.toString('utf8');
      expect(t.endsWith('\n'), rel).toBe(true);
      expect(t.endsWith('\n\n'), rel).toBe(false);
      expect(t.includes('\r'), rel).toBe(false);
      expect(t.charCodeAt(0), rel).not.toBe(0xfeff);
    }
  });

  it('UTF-8 survives: Sala de Reuniões and João Silva', () => {
    const trio = produced.get('64167f0a8800-settings.cfg')!;
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(trio)).not.toThrow();
    expect(trio.includes(Buffer.from('Sala de Reuniões', 'utf8'))).toBe(true);
    expect(trio.includes(Buffer.from([0xc3, 0xb5]))).toBe(true); // õ
    expect(text('805ec0123456.cfg')).toContain('account.1.display_name = João Silva');
    expect(text('0004f2a1b2c3-settings.cfg').startsWith('<?xml version="1.0" encoding="UTF-8"')).toBe(true);
  });
});

describe('no duplicate keys', () => {
  const dupes = (keys: string[]) => keys.filter((k, i) => keys.indexOf(k) !== i);

  it('Yealink: no key twice', () => {
    for (const rel of [...produced.keys()].filter(isYealink)) {
      const keys = text(rel)
        .split('\n')
        .filter((l) => /^[^#\s].* = /.test(l))
        .map((l) => l.split(' = ')[0]!);
      expect(keys.length, rel).toBeGreaterThan(0);
      expect(dupes(keys), rel).toEqual([]);
    }
  });

  it('Avaya: no SET twice in a settings file', () => {
    for (const rel of [...produced.keys()].filter((r) => /^[0-9a-f]{12}\.txt$/.test(r))) {
      const names = text(rel)
        .split('\n')
        .filter((l) => l.startsWith('SET '))
        .map((l) => l.split(' ')[1]!);
      expect(names.length, rel).toBeGreaterThan(0);
      expect(dupes(names), rel).toEqual([]);
    }
  });

  it('Poly: no attribute twice on an element', () => {
    for (const rel of [...produced.keys()].filter(isXml)) {
      const tags = text(rel).match(/<[A-Za-z_][^>]*>/g) ?? [];
      for (const tag of tags) {
        const names = [...tag.matchAll(/\s([A-Za-z_][A-Za-z0-9_.:-]*)="/g)].map((m) => m[1]!);
        expect(dupes(names), `${rel}: ${tag.slice(0, 40)}`).toEqual([]);
      }
    }
  });
});

describe('layers as the samples mean them', () => {
  it('the Trio removes call.autoAnswer.SIP with null (its support group sets it)', () => {
    expect(text('64167f0a8800-settings.cfg')).not.toContain('call.autoAnswer.SIP');
    // …while the VVX450 in sales keeps its group's value.
    expect(text('0004f2a1b2c3-settings.cfg')).toContain('call.autoAnswer.SIP="0"');
  });

  it('the J179 in Lisbon has no SNTPSRVR (its device file sets time.ntp: null); the NYC one has', () => {
    expect(text('2cf4c5001122.txt')).not.toContain('SNTPSRVR');
    expect(text('c81fea83e85a.txt').split('\n')).toContain('SET SNTPSRVR 0.pool.ntp.org,1.pool.ntp.org');
  });

  it('site and model layers: Lisbon PBX over UDP, NYC PBX over TLS, T54W model params under the device override', () => {
    expect(text('2cf4c5001122.txt').split('\n')).toContain('SET SIP_CONTROLLER_LIST pbx-lis.northwind.example:5060;transport=udp');
    expect(text('c81fea83e85a.txt').split('\n')).toContain('SET SIP_CONTROLLER_LIST pbx-nyc.northwind.example:5061;transport=tls');
    const t54 = text('805ec0abcdef.cfg').split('\n');
    expect(t54).toContain('features.bluetooth_enable = 1');
    expect(t54).toContain('static.wifi.enable = 0');
    expect(t54).toContain('account.2.user_name = 1031');
  });

  it('Poly 000000000000.cfg keeps [PHONE_MAC_ADDRESS] for the phone to fill in', () => {
    expect(text('000000000000.cfg')).toContain('CONFIG_FILES="[PHONE_MAC_ADDRESS]-settings.cfg"');
  });

  it('model-wide Yealink files carry no account (line) settings and no line passwords', () => {
    for (const rel of [...produced.keys()].filter((r) => /^y\d{12}\.cfg$/.test(r))) {
      expect(text(rel), rel).not.toMatch(/^account\./m);
    }
  });
});

// Phones do not know IANA zones: each vendor applies its own *default* DST dates (US rules)
// unless the file gives them. A phone in Lisbon (EU rules: last Sunday of March to last
// Sunday of October) therefore needs its DST dates written out, or its clock is an hour off
// for weeks every spring and autumn.
describe('time zones reach the phone with their DST rules', () => {
  it('Avaya J179 in Lisbon: DSTSTART/DSTSTOP are written (J100 ignores TIMEZONE; defaults are 2SunMar2L/1SunNov2L)', () => {
    const lines = text('2cf4c5001122.txt').split('\n');
    expect(lines).toContain('SET DSTOFFSET 1');
    const start = lines.find((l) => l.startsWith('SET DSTSTART '));
    const stop = lines.find((l) => l.startsWith('SET DSTSTOP '));
    expect(start, 'no DSTSTART: the phone will use US DST dates').toMatch(/Mar/);
    expect(stop, 'no DSTSTOP: the phone will use US DST dates').toMatch(/Oct/);
  });

  it('Yealink: DST is never "enabled" (summer_time = 1) without its start and end dates', () => {
    for (const rel of [...produced.keys()].filter(isYealink)) {
      const t = text(rel);
      if (!/^local_time\.summer_time = 1$/m.test(t)) continue;
      expect(t, `${rel}: summer_time = 1 with the default start/end dates`).toMatch(/^local_time\.start_time = /m);
      expect(t, `${rel}: summer_time = 1 with the default start/end dates`).toMatch(/^local_time\.end_time = /m);
    }
  });

  it('Poly Trio in Lisbon: DST start and stop are written (Poly defaults are the US dates)', () => {
    const t = text('64167f0a8800-settings.cfg');
    expect(t).toContain('tcpIpApp.sntp.daylightSavings.enable="1"');
    expect(t).toMatch(/tcpIpApp\.sntp\.daylightSavings\.start\.month="3"/);
    expect(t).toMatch(/tcpIpApp\.sntp\.daylightSavings\.stop\.month="10"/);
  });
});

describe('XML', () => {
  it('every XML output is well-formed (fast-xml-parser XMLValidator)', () => {
    const xml = [...produced.keys()].filter(isXml);
    // Poly's files, and every other vendor's XML (Cisco's .cnf.xml and flat profiles, Grandstream's cfg<mac>.xml and cfg<mac>, Snom's .htm) alike.
    const snom = [...produced.keys()].filter((k) => /^snom[A-Z0-9]+(?:-[0-9A-F]{12})?\.htm$/.test(k)).sort();
    expect(snom).toContain('snomD785.htm');
    expect(snom).toContain('snomD785-000413A1B2C3.htm');
    expect(xml.sort()).toEqual(expect.arrayContaining(['000000000000.cfg', '0004f2a1b2c3-settings.cfg', '0004f2a1b2c3.cfg', '64167f0a8800-settings.cfg', '64167f0a8800.cfg', 'cfgc074ad0a1b2c', 'cfgc074ad0a1b2c.xml', ...snom]));
    for (const rel of xml) expect(XMLValidator.validate(text(rel)), rel).toBe(true);
  });

  // An independent oracle: read the sample YAML, merge it here (maps deep, scalars and lists
  // replace, null removes), and say which attributes settings.cfg.hbs must write.
  type Tree = Record<string, unknown>;
  const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
  function merge(a: Tree, b: Tree): Tree {
    const out: Tree = { ...a };
    for (const [k, v] of Object.entries(b)) {
      if (v === null) delete out[k];
      else if (isMap(v) && isMap(out[k])) out[k] = merge(out[k] as Tree, v);
      else out[k] = v;
    }
    return out;
  }
  async function yamlOf(rel: string): Promise<Tree> {
    try {
      return (parseYaml(await fs.readFile(path.join(SAMPLES, rel), 'utf8')) ?? {}) as Tree;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
  }
  // Standard offsets (seconds) and DST for the zones the samples use.
  const ZONES: Record<string, [number, string]> = { 'America/New_York': [-18000, '1'], 'Europe/Lisbon': [0, '1'] };

  async function expectedPolySettings(mac: string): Promise<Record<string, string>> {
    const device = await yamlOf(`profiles/devices/${mac}.yaml`);
    const layers = [await yamlOf('profiles/global.yaml'), await yamlOf(`profiles/models/${String(device.model)}.yaml`)];
    for (const g of (device.groups as string[] | undefined) ?? []) layers.push(await yamlOf(`profiles/groups/${g}.yaml`));
    if (device.site) layers.push(await yamlOf(`profiles/sites/${String(device.site)}.yaml`));
    layers.push(device);
    const s = layers.reduce<Tree>((acc, l) => merge(acc, ((l.settings as Tree | undefined) ?? {}) as Tree), {});
    const vendor = parseYaml(await fs.readFile(path.join(REPO, 'templates/polycom/vendor.yaml'), 'utf8')) as { data: { transports: Record<string, string>; languages: Record<string, string> } };
    const sip = (s.sip ?? {}) as Tree;
    const time = (s.time ?? {}) as Tree;
    const want: Record<string, string> = {};
    for (const [i, line] of ((s.lines as Tree[] | undefined) ?? []).entries()) {
      const n = i + 1;
      want[`reg.${n}.address`] = String(line.extension);
      want[`reg.${n}.auth.userId`] = String(line.auth_user ?? line.extension);
      want[`reg.${n}.auth.password`] = await resolveSampleValue(String(line.password));
      want[`reg.${n}.displayName`] = String(line.display_name);
      want[`reg.${n}.label`] = String(line.label ?? line.display_name);
      want[`reg.${n}.server.1.address`] = String(sip.server);
      want[`reg.${n}.server.1.port`] = String(sip.port);
      want[`reg.${n}.server.1.transport`] = vendor.data.transports[String(sip.transport)]!;
    }
    want['voIpProt.SIP.domain'] = String(sip.domain);
    if (Array.isArray(time.ntp)) want['tcpIpApp.sntp.address'] = String(time.ntp[0]);
    const zone = ZONES[String(time.zone)];
    expect(zone, `add ${String(time.zone)} to ZONES`).toBeDefined();
    want['tcpIpApp.sntp.gmtOffset'] = String(zone![0]);
    want['tcpIpApp.sntp.daylightSavings.enable'] = zone![1];
    want['lcl.ml.lang'] = vendor.data.languages[String(s.language)]!;
    if (s.admin_password) {
      want['device.set'] = '1';
      want['device.auth.localAdminPassword'] = await resolveSampleValue(String(s.admin_password));
      want['device.auth.localAdminPassword.set'] = '1';
    }
    for (const [k, v] of Object.entries(((s.polycom as Tree | undefined)?.params as Tree | undefined) ?? {})) want[k] = String(v);
    return want;
  }

  function attributesOf(xml: string, element: string): Record<string, string> {
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, allowBooleanAttributes: false }).parse(xml) as Record<string, unknown>;
    const el = parsed[element];
    expect(isMap(el), `no <${element}> element`).toBe(true);
    return Object.fromEntries(Object.entries(el as Tree).map(([k, v]) => [k, String(v)]));
  }

  it.each(['0004f2a1b2c3', '64167f0a8800'])('Poly %s-settings.cfg attributes are what the YAML says, no more, no less', async (mac) => {
    // DST start/stop dates are checked on their own (above).
    const got = Object.fromEntries(Object.entries(attributesOf(deployed(`${mac}-settings.cfg`), 'polycomConfig')).filter(([k]) => !/^tcpIpApp\.sntp\.daylightSavings\.(start|stop|fixedDayEnable)/.test(k)));
    expect(got).toEqual(await expectedPolySettings(mac));
  });

  it('the XML parser reads back the escaped values as the YAML wrote them', () => {
    const got = attributesOf(text('0004f2a1b2c3-settings.cfg'), 'polycomConfig');
    expect(got['reg.1.displayName']).toBe("Bob O'Neil & Co");
    expect(got['reg.1.label']).toBe('Bob <sales>');
    expect(attributesOf(text('64167f0a8800-settings.cfg'), 'polycomConfig')['reg.1.displayName']).toBe('Sala de Reuniões');
  });

  it('Poly master config names its own settings file', () => {
    for (const mac of ['0004f2a1b2c3', '64167f0a8800']) {
      expect(attributesOf(text(`${mac}.cfg`), 'APPLICATION').CONFIG_FILES).toBe(`${mac}-settings.cfg`);
    }
  });
});

describe('secrets in previews', () => {
  it('the preview (committed as golden) carries no secret; the deployable files do', async () => {
    const secrets = await sampleSecrets();
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const all = (m: Map<string, Buffer>) => [...m.values()].map((b) => b.toString('utf8')).join('\n');
    for (const s of secrets) expect(all(produced), s.slice(0, 2)).not.toContain(s);
    const used = secrets.filter((s) => all(deployable).includes(s));
    expect(used).toEqual(expect.arrayContaining(['rc9-Tq2m', 'Vv-45-ab', 'T46-pq7z', 'Nw-Adm1n-2024']));
    expect(text('c81fea83e85a.txt')).toMatch(/^SET FORCE_SIP_PASSWORD \S+$/m);
    expect(deployed('c81fea83e85a.txt')).toContain(`SET FORCE_SIP_PASSWORD ${await resolveSampleValue('${file:secrets/line-1001}')}`);
  });

  it('the preview differs from the deployable files only on the lines that carry a secret', async () => {
    const secrets = await sampleSecrets();
    expect([...deployable.keys()].sort()).toEqual([...produced.keys()].sort());
    for (const [rel, d] of deployable) {
      const a = d.toString('utf8').split('\n');
      const b = produced.get(rel)!.toString('utf8').split('\n');
      expect(b.length, rel).toBe(a.length);
      a.forEach((line, i) => {
        if (line !== b[i]) expect(secrets.some((s) => line.includes(s)), `${rel}:${i + 1} differs without a secret: ${b[i]}`).toBe(true);
      });
    }
  });
});

describe('check and render --device', () => {
  it('deskset check samples exits 0 with no errors', async () => {
    const r = await runCli(['check', 'samples']);
    expect(r.stdout + r.stderr).not.toMatch(/\berror [A-Z_]+:/);
    expect(r.stdout).toMatch(/0 errors/);
    expect(r.code).toBe(0);
  });

  it.each([
    ['c81fea83e85a', 'C8:1F:EA:83:E8:5A'],
    ['0004f2a1b2c3', '0004F2A1B2C3'],
    ['805ec0abcdef', '80-5e-c0-ab-cd-ef'],
  ])('render --device %s (written %s) writes only that device’s files, the same bytes', async (mac, written) => {
    const out = await tmpDir();
    const r = await runCli(['render', 'samples', '--out', out, '--device', written]);
    expect(r.code).toBe(0);
    const only = await readTree(out);
    const expected = [...produced.keys()].filter((rel) => rel.includes(mac)).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect([...only.keys()].sort()).toEqual(expected);
    for (const [rel, b] of only) expect(b.equals(produced.get(rel)!), rel).toBe(true);
  });

  it('render --device for a MAC with no device file writes nothing and fails', async () => {
    const out = await tmpDir();
    const r = await runCli(['render', 'samples', '--out', out, '--device', 'aabbccddeeff']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('aabbccddeeff');
    expect((await readTree(out)).size).toBe(0);
  });

  it('render --device with something that is not a MAC is a usage error (exit 2)', async () => {
    const out = await tmpDir();
    const r = await runCli(['render', 'samples', '--out', out, '--device', 'reception']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('reception');
  });
});
