// `render --out` is a static mirror (issue 15 item 4): nginx serving the rendered tree answers
// every phone as deskset does, path for path, byte for byte. The root is samples/ plus firmware
// images and resources (shared, per-device fallbacks, names and text with device tokens, a
// binary file). Every route deskset's route table knows (every vendor file under every name,
// DES forms included, the common file of every catalog model), every resource and firmware
// path, and misses, are asked of a real deskset server and of nginx, without a User-Agent and
// then with each device's own; status and bytes must be the same. What a mirror cannot do
// (docs/cli.md) is checked to be as documented.
//
// nginx is started as bench/servers.js starts it; without an nginx binary the file is skipped
// with one line (.ci/run installs nginx-light). Needs dist/: `npx tsc -p tsconfig.json`.

import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx } from '../bench/servers.js';
import { loadRoot } from '../src/io/load-root.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import type { RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { get, serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, SAMPLES, type TmpRoot } from './helpers/tmp-root.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'].find((p) => existsSync(p));
if (!NGINX) console.warn('static-mirror.test.ts: skipped, no nginx binary (apt-get install -y nginx-light)');

const BINARY = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 31 + 7) % 256));
const EXTRAS: Record<string, string> = {
  'deskset.yaml': '# mirror test\nunknown_devices: reject\npublic_url: http://prov.example:8080/\nlisten: {host: 127.0.0.1, port: 0}\n',
  'profiles/global.yaml': '', // replaced below: samples' global plus a firmware policy
  'firmware/avaya/4.1.13.0.1/FW_S_J179_R4_1_13_0_1.bin': 'fake J179 image\n',
  'firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld': 'fake VVX450 image\n',
  'firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom': 'fake T46S image\n',
  'resources/000000000000-directory.xml': '<directory><item><ln>Shared</ln></item></directory>\n',
  'resources/0004f2a1b2c3-directory.xml': '<directory><item><ln>Bob only</ln></item></directory>\n',
  'resources/{{model}}-wallpaper.txt': 'wallpaper for {{model}} ({{mac}})\n',
  'resources/contacts/{{mac}}-contacts.csv': 'name,number\nreception,{{mac}}\n',
  'resources/ringtones/ring1.wav': '', // binary, written below
  'resources/46xxspecials.txt': '## specials\nSET ENABLE_AVAYA_ENVIRONMENT 0\nGET $MACADDR.txt\n',
};

let root: TmpRoot;
let out: string;
let snap: Snapshot;
let deskset: RunningServer;
let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
let work: string;

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const found: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => [])) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) found.push(...(await filesUnder(dir, r)));
    else found.push(r);
  }
  return found;
}

/** Every path deskset's route table and disk know, worked out here from the vendor manifests and the root. */
function knownPaths(): string[] {
  const paths = new Set<string>();
  const devices = [...snap.profiles.devices.values()];
  for (const v of snap.vendors) {
    for (const f of v.files) {
      for (const p of f.paths) {
        const fields = (m: { fields: Record<string, unknown> }, s: string) => s.replace(/\{(\w+)\}/g, (all, k: string) => (m.fields[k] === undefined ? all : String(m.fields[k])));
        if (p.includes('{mac}')) {
          for (const d of devices.filter((x) => x.model.vendor === v.vendor)) paths.add(fields(d.model, p.replace(/^\*\*\//, '').replace('{mac}', d.mac).replace('{MAC}', d.mac.toUpperCase()).replace('{model}', String(d.model.fields.model4 ?? d.model.name))));
        } else if (/\{\w+\}/.test(p)) for (const m of v.models) paths.add(fields(m, p));
        else paths.add(p);
      }
    }
  }
  return [...paths];
}

async function diskPaths(): Promise<string[]> {
  const devices = [...snap.profiles.devices.values()];
  const paths: string[] = (await filesUnder(root.dir, 'firmware')).filter((p) => !p.endsWith('release.yaml'));
  for (const r of await filesUnder(path.join(root.dir, 'resources'))) {
    if (/\{\{(mac|model)\}\}/.test(r)) for (const d of devices) paths.push(r.replace('{{mac}}', d.mac).replace('{{model}}', d.model.name));
    else paths.push(r);
    if (r.startsWith('000000000000-')) for (const d of devices) paths.push(`${d.mac}${r.slice(12)}`);
  }
  return paths;
}

const MISSES = ['nonexistent.cfg', '0004f2999999.cfg', '805ec0999999.cfg', 'J179/c81fea999999/46xxsettings.txt', 'J189/c81fea83e85a/46xxsettings.txt', 'firmware/avaya/9.9/none.bin', 'resources/ringtones/ring1.wav'];

const UA: Record<string, (model: string, mac: string) => string> = {
  avaya: (model, mac) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/${model}-4.1.3.0.6 (MAC:${mac})`,
  polycom: (model) => (model.startsWith('Trio') ? `FileTransport PolycomRealPresenceTrio-Trio_${model.slice(4)}-UA/5.9.0.1 Type/Application` : `FileTransport PolycomVVX-VVX_${model.slice(3)}-UA/6.4.6.2945 Type/Application`),
  yealink: (model, mac) => `Yealink SIP-${model} 66.86.0.10 ${mac.match(/../g)!.join(':')}`,
  // MPP form; enterprise firmware fetches over TFTP and sends none, and the name decides anyway.
  cisco: (model, mac) => `Cisco-CP-${model}/12.0.1 (${mac})`,
  grandstream: (model, mac) => `Grandstream Model HW ${model} SW 1.0.11.3 DevId ${mac}`,
  snom: (model, mac) => `Mozilla/4.0 (compatible; snom${model}-SIP 10.1.46.16 2010.12-00004-g9ba52f5 ${mac.toUpperCase()})`,
};

/** The files a device asks for by a name a mirror can hold (its MAC, or the DES path, in the name). */
function bootFiles(d: Snapshot['profiles']['devices'] extends Map<string, infer D> ? D : never): string[] {
  if (d.model.vendor === 'avaya') return [`${d.model.name}/${d.mac}/J100Supgrade.txt`, `${d.model.name}/${d.mac}/46xxsettings.txt`];
  if (d.model.vendor === 'polycom') return [`${d.mac}.cfg`, `${d.mac}-settings.cfg`, `${d.mac}-directory.xml`];
  // SEP<MAC> as enterprise phones ask, upper case: nginx, unlike deskset, minds the case.
  if (d.model.vendor === 'cisco') return [`SEP${d.mac.toUpperCase()}.cnf.xml`, `${d.mac}.xml`, `${String(d.model.fields.psn)}.xml`, `spa${String(d.model.fields.psn)}.cfg`];
  if (d.model.vendor === 'grandstream') return [`cfg${d.mac}`, `cfg${d.mac}.xml`];
  if (d.model.vendor === 'snom') return [`${String(d.model.fields.htm)}.htm`, `snom${d.model.name}-${d.mac.toUpperCase()}.htm`];
  return [`y${String(d.model.fields.cfg_id)}.cfg`, `${d.mac}.cfg`];
}

async function both(p: string, headers: Record<string, string> = {}) {
  const target = `/${p.split('/').map(encodeURIComponent).join('/')}`;
  const [a, b] = await Promise.all([get(deskset, target, headers), fetch(`${nginx!.base}${target}`, { headers })]);
  return { deskset: a, nginx: { status: b.status, body: Buffer.from(await b.arrayBuffer()) } };
}

async function differences(paths: string[], headers: (p: string) => Record<string, string> = () => ({})): Promise<string[]> {
  const diffs: string[] = [];
  for (const p of paths) {
    const r = await both(p, headers(p));
    if (r.deskset.status !== r.nginx.status) diffs.push(`${p}: deskset ${r.deskset.status}, nginx ${r.nginx.status}`);
    else if (r.deskset.status === 200 && !r.deskset.body.equals(r.nginx.body)) diffs.push(`${p}: bytes differ`);
  }
  return diffs;
}

describe.skipIf(!NGINX)('render --out served by nginx answers as deskset does', () => {
  beforeAll(async () => {
    const samplesGlobal = await fs.readFile(path.join(SAMPLES, 'profiles', 'global.yaml'), 'utf8');
    root = await makeTmpRoot({ ...EXTRAS, 'profiles/global.yaml': `${samplesGlobal.replace(/\n*$/, '\n')}firmware:\n  policy: latest\n` }, 'deskset-mirror-');
    await fs.writeFile(root.file('resources/ringtones/ring1.wav'), BINARY);
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-mirror-out-'));
    // nginx started as root serves as nobody: the tree must be world-readable, as a real docroot is.
    await fs.chmod(work, 0o755);
    out = path.join(work, 'www');
    const r = await runCli(['render', root.dir, '--out', out, '--show-secrets']);
    expect(r.code, r.stderr).toBe(0);
    snap = await loadRoot(root.dir);
    deskset = await serveRoot(root.dir);
    nginx = await startNginx(NGINX!, out, { label: 'mirror', workDir: work });
  }, 60_000);
  afterAll(async () => {
    await nginx?.stop();
    await deskset?.close();
    await root?.cleanup();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('every route the route table knows, without a User-Agent: same status, same bytes', async () => {
    const paths = knownPaths();
    expect(paths.length).toBeGreaterThanOrEqual(60);
    expect(paths).toContain('J179/c81fea83e85a/46xxsettings.txt');
    expect(await differences(paths)).toEqual([]);
    // Not vacuous: most of them are files.
    let served = 0;
    for (const p of paths) if ((await get(deskset, `/${p}`)).status === 200) served++;
    expect(served).toBeGreaterThan(55);
  });

  it('firmware and resources (shared, per-device fallbacks, device tokens in names and text, binary): same status, same bytes', async () => {
    const paths = await diskPaths();
    expect(paths).toEqual(expect.arrayContaining(['ringtones/ring1.wav', '64167f0a8800-directory.xml', 'J179-wallpaper.txt', 'contacts/c81fea83e85a-contacts.csv']));
    expect(await differences(paths)).toEqual([]);
    const wall = await both('VVX450-wallpaper.txt');
    expect(wall.nginx.status).toBe(200);
    // No MAC in the name and no User-Agent: the token stays, on both.
    expect(wall.nginx.body.toString()).toBe('wallpaper for VVX450 ({{mac}})\n');
    expect((await both('contacts/0004f2a1b2c3-contacts.csv')).nginx.body.toString()).toBe('name,number\nreception,0004f2a1b2c3\n');
  });

  it('misses are misses on both', async () => {
    const r = await Promise.all(MISSES.map((p) => both(p)));
    expect(r.map((x) => [x.deskset.status, x.nginx.status])).toEqual(MISSES.map(() => [404, 404]));
  });

  it("each device's boot files, asked with its own User-Agent: same status, same bytes", async () => {
    const devices = [...snap.profiles.devices.values()];
    const owner = new Map(devices.flatMap((d) => bootFiles(d).map((p) => [p, d] as const)));
    const diffs = await differences([...owner.keys()], (p) => ({ 'user-agent': UA[owner.get(p)!.model.vendor]!(owner.get(p)!.model.name, owner.get(p)!.mac) }));
    expect(diffs).toEqual([]);
    // The DES path a J179 follows to its settings is there: J100Supgrade.txt ends with GET 46xxsettings.txt.
    const script = await both('J179/c81fea83e85a/J100Supgrade.txt');
    expect(script.nginx.body.toString()).toMatch(/^GET 46xxsettings\.txt$/m);
    expect((await both('J179/c81fea83e85a/46xxsettings.txt')).nginx.body.toString()).toContain('for c81fea83e85a (J179)');
  });

  it('what a static mirror cannot do, as docs/cli.md says: files chosen by the User-Agent', async () => {
    const ua = { 'user-agent': UA.avaya!('J179', 'c81fea83e85a') };
    // 46xxsettings.txt names no device: deskset answers the asking phone by its User-Agent; a mirror cannot.
    const settings = await both('46xxsettings.txt', ua);
    expect([settings.deskset.status, settings.nginx.status]).toEqual([200, 404]);
    // J100Supgrade.txt: deskset gives the phone its own script; the mirror has the shared one.
    const script = await both('J100Supgrade.txt', ua);
    expect(script.nginx.status).toBe(200);
    expect(script.deskset.text).toContain('for c81fea83e85a (J179)');
    expect(script.nginx.body.toString()).not.toContain('c81fea83e85a');
    // A text resource whose name carries no MAC gets the asking phone's MAC from deskset only.
    const wall = await both('J179-wallpaper.txt', ua);
    expect(wall.deskset.text).toBe('wallpaper for J179 (c81fea83e85a)\n');
    expect(wall.nginx.body.toString()).toBe('wallpaper for J179 ({{mac}})\n');
  });
});
