// `deskset firmware` and the files a phone fetches must agree (issue 15, items 2 and 3). For
// every device of samples/ and of a root with firmware policies on every layer, a real server
// is asked for the files that device fetches, in the order it fetches them, with its
// User-Agent; the directives in them are followed the way the phone follows them (Avaya's
// upgrade script run as a script, Poly's master config, Yealink's common file then its own
// file, last value wins), and the version the phone would install is compared with the one
// `deskset firmware --json` (the real CLI) reports. The image named must be served, too.
//
// Needs dist/ (the CLI): run `npx tsc -p tsconfig.json` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { get, serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, SAMPLES, type TmpRoot } from './helpers/tmp-root.js';

const append = (extra: string) => (old: string) => `${old.replace(/\n*$/, '\n')}${extra}`;

const IMAGES = [
  'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin',
  'firmware/avaya/4.1.13.0.1/FW_S_J179_R4_1_13_0_1.bin',
  'firmware/avaya/4.1.13.0.1/FW_S_J189A_R4_1_13_0_1.bin',
  'firmware/polycom/6.4.6.2945/3111-48840-001.sip.ld',
  'firmware/polycom/6.4.7.100/3111-48840-001.sip.ld',
  'firmware/polycom/5.9.0.100/3111-65290-001.sip.ld',
  'firmware/polycom/5.9.1.200/3111-65290-001.sip.ld',
  'firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom',
  'firmware/yealink/66.86.0.20/T46S-66.86.0.20.rom',
  'firmware/yealink/96.86.0.45/T54W-96.86.0.45.rom',
  'firmware/yealink/96.86.0.70/T54W-96.86.0.70.rom',
];

/** Policies on every layer; the comment says what each device should end up with. */
const POLICIES = {
  'deskset.yaml': append('public_url: http://prov.example:8080/\n'),
  // Everyone: latest.
  'profiles/global.yaml': append('firmware:\n  policy: latest\n'),
  // Every T54W: pinned (model layer beats global).
  'profiles/models/T54W.yaml': append('firmware:\n  policy: pinned\n  version: 96.86.0.45\n'),
  // Sales VVX450s: off, per model, in a group.
  'profiles/groups/sales.yaml': append('firmware:\n  models:\n    VVX450: {policy: "off"}\n'),
  // Support Trios: pinned to the older release.
  'profiles/groups/support.yaml': append('firmware:\n  models:\n    Trio8800: {policy: pinned, version: 5.9.0.100}\n'),
  // Lisbon J179s: pinned, per model, at the site...
  'profiles/sites/lisbon.yaml': append('firmware:\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n'),
  // ...but this one says off at the device layer, and the device wins (item 3).
  'profiles/devices/2cf4c5001122.yaml': append('firmware:\n  policy: "off"\n'),
  // A T46S pinned on its own.
  'profiles/devices/805ec0123456.yaml': append('firmware:\n  policy: pinned\n  version: 66.86.0.15\n'),
  // A T46S whose own policy is off, while the model's other phones upgrade (item 2).
  'profiles/devices/805ec0000046.yaml': 'model: T46S\nsite: nyc\nfirmware:\n  policy: "off"\nsettings:\n  lines:\n    - {extension: "1046", password: "not-a-real-secret-1046"}\n',
  // A VVX450 outside sales: latest.
  'profiles/devices/0004f2000450.yaml': 'model: VVX450\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "2450", password: "not-a-real-secret-2450"}\n',
};

/** What the generated root must give, so a bug that breaks both sides the same way still fails. */
const EXPECTED: Record<string, string | null> = {
  c81fea83e85a: '4.1.13.0.1',
  '2cf4c5001122': null,
  c81fea9102aa: '4.1.13.0.1',
  '0004f2a1b2c3': null,
  '0004f2000450': '6.4.7.100',
  '64167f0a8800': '5.9.0.100',
  '805ec0123456': '66.86.0.15',
  '805ec0000046': null,
  '805ec0abcdef': '96.86.0.45',
};

interface Report {
  model: string;
  vendor: string;
  devices: Array<{ mac: string; version: string | null; image: string | null }>;
}

const colons = (mac: string) => mac.match(/../g)!.join(':');
const USER_AGENTS: Record<string, (model: string, mac: string) => string> = {
  avaya: (model, mac) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/${model}-4.1.3.0.6 (MAC:${mac})`,
  polycom: (model) => (model.startsWith('Trio') ? `FileTransport PolycomRealPresenceTrio-Trio_${model.slice(4)}-UA/5.9.0.100 Type/Application` : `FileTransport PolycomVVX-VVX_${model.slice(3)}-UA/6.4.6.2945 Type/Application`),
  yealink: (model, mac) => `Yealink SIP-${model} 66.86.0.10 ${colons(mac)}`,
};

/** `firmware/<vendor>/<version>/<image>` (a path, or the path of a URL) -> the version. */
function versionOf(ref: string): { version: string; path: string } {
  const p = ref.startsWith('http') ? decodeURIComponent(new URL(ref).pathname).slice(1) : ref;
  const m = /^firmware\/[^/]+\/([^/]+)\/[^/]+$/.exec(p);
  expect(m, `"${ref}" does not name an image under firmware/<vendor>/<version>/`).not.toBeNull();
  return { version: m![1]!, path: p };
}

type Fetch = (path: string) => Promise<{ status: number; text: string }>;

/** Run a J100 upgrade script as the phone does: IF $MODEL4 SEQ … GOTO, GOTO, SET, GET. */
async function avayaInstalls(fetch: Fetch, first: string, model4: string): Promise<string | undefined> {
  let appname: string | undefined;
  const dir = first.includes('/') ? first.slice(0, first.lastIndexOf('/') + 1) : '';
  const run = async (name: string, depth: number): Promise<void> => {
    const r = await fetch(name);
    if (r.status !== 200 || depth > 3) return;
    const lines = r.text.split('\n').map((l) => l.trim());
    for (let i = 0, steps = 0; i < lines.length && steps < 10_000; i++, steps++) {
      const l = lines[i]!;
      const jump = /^IF \$MODEL4 SEQ (\S+) GOTO (\S+)$/.exec(l);
      const go = /^GOTO (\S+)$/.exec(l);
      const label = (jump && jump[1] === model4 ? jump[2] : go?.[1]) ?? undefined;
      if (label) {
        i = lines.indexOf(`# ${label}`);
        expect(i, `label ${label} in ${name}`).toBeGreaterThanOrEqual(0);
        continue;
      }
      const set = /^SET APPNAME (.+)$/.exec(l);
      if (set) appname = set[1]!.replace(/^"(.*)"$/, '$1');
      const getFile = /^GET (\S+)$/.exec(l);
      if (getFile) await run(dir + getFile[1]!, depth + 1);
    }
  };
  await run(first, 0);
  return appname;
}

/** Poly: <mac>.cfg, or 000000000000.cfg when there is none; a per-model APP_FILE_PATH_<MODEL> beats APP_FILE_PATH. */
async function polyInstalls(fetch: Fetch, mac: string, model: string): Promise<string | undefined> {
  let r = await fetch(`${mac}.cfg`);
  if (r.status === 404) r = await fetch('000000000000.cfg');
  expect(r.status).toBe(200);
  const own = new RegExp(`APP_FILE_PATH_${model}="([^"]*)"`).exec(r.text)?.[1];
  const general = /<APPLICATION\b[^>]*\sAPP_FILE_PATH="([^"]*)"/.exec(r.text)?.[1];
  return own || general || undefined;
}

/** Yealink: y<cfg_id>.cfg then <mac>.cfg; the last firmware URL read wins. */
async function yealinkInstalls(fetch: Fetch, mac: string, cfgId: string): Promise<string | undefined> {
  let url: string | undefined;
  for (const name of [`y${cfgId}.cfg`, `${mac}.cfg`]) {
    const r = await fetch(name);
    expect(r.status, name).toBe(200);
    for (const m of r.text.matchAll(/^(?:static\.)?firmware\.url = (.+)$/gm)) url = m[1]!;
  }
  return url;
}

const YEALINK_CFG_ID: Record<string, string> = { T46S: '000000000066', T54W: '000000000096' };

async function agreement(rootDir: string): Promise<{ checked: string[]; installs: Record<string, string | null> }> {
  const res = await runCli(['firmware', rootDir, '--json']);
  expect(res.code, res.stderr).toBe(0);
  const report = JSON.parse(res.stdout) as Report[];
  const server: RunningServer = await serveRoot(rootDir);
  const checked: string[] = [];
  const installs: Record<string, string | null> = {};
  try {
    for (const m of report) {
      // The vendors whose files this test reads; Cisco's firmware directives have their own test (cisco.test.ts).
      if (!Object.hasOwn(USER_AGENTS, m.vendor)) continue;
      for (const d of m.devices) {
        const ua = USER_AGENTS[m.vendor]!(m.model, d.mac);
        const fetch: Fetch = async (p) => {
          const r = await get(server, `/${p}`, { 'User-Agent': ua });
          return { status: r.status, text: r.text };
        };
        const refs: Array<string | undefined> = [];
        if (m.vendor === 'avaya') {
          // The plain name (phone identified by its User-Agent) and the DES form must agree.
          refs.push(await avayaInstalls(fetch, 'J100Supgrade.txt', m.model));
          refs.push(await avayaInstalls(fetch, `${m.model}/${d.mac}/J100Supgrade.txt`, m.model));
          expect(refs[1], `${d.mac}: DES path and plain path disagree`).toBe(refs[0]);
        } else if (m.vendor === 'polycom') refs.push(await polyInstalls(fetch, d.mac, m.model));
        else refs.push(await yealinkInstalls(fetch, d.mac, YEALINK_CFG_ID[m.model]!));
        const ref = refs[0];
        const installed = ref ? versionOf(ref) : undefined;
        expect(installed?.version ?? null, `${m.model} ${d.mac}: the files install ${ref ?? 'nothing'}, deskset firmware says ${d.version ?? 'no upgrade'}`).toBe(d.version);
        if (installed) {
          expect(installed.path).toBe(d.image);
          // The phone can fetch what it was told to install.
          expect((await get(server, `/${installed.path.split('/').map(encodeURIComponent).join('/')}`)).status, installed.path).toBe(200);
        }
        installs[d.mac] = installed?.version ?? null;
        checked.push(d.mac);
      }
    }
  } finally {
    await server.close();
  }
  return { checked, installs };
}

describe('deskset firmware agrees with the files each device fetches', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot({ ...Object.fromEntries(IMAGES.map((p) => [p, `fake image ${p}\n`])), ...POLICIES }, 'deskset-fw-agree-');
  });
  afterAll(() => root.cleanup());

  it('samples/: no policy anywhere, so no device is told to install anything', async () => {
    const { checked, installs } = await agreement(SAMPLES);
    // The samples' Avaya, Poly and Yealink phones.
    expect(checked.length).toBe(7);
    expect(Object.values(installs).every((v) => v === null)).toBe(true);
  });

  it('a root with policies on the global, model, group, site and device layers', async () => {
    const { checked, installs } = await agreement(root.dir);
    expect(checked.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(installs).toEqual(EXPECTED);
  });

  it("Yealink: the model's shared y0000000000NN.cfg names no firmware, so a device's policy off holds", async () => {
    const r = await makeTmpRoot({ ...Object.fromEntries(IMAGES.map((p) => [p, 'x\n'])), 'deskset.yaml': POLICIES['deskset.yaml'], 'profiles/global.yaml': POLICIES['profiles/global.yaml'], 'profiles/devices/805ec0abcdef.yaml': append('firmware:\n  policy: "off"\n') }, 'deskset-fw-agree-');
    try {
      const server = await serveRoot(r.dir);
      try {
        const common = await get(server, '/y000000000096.cfg');
        expect(common.status).toBe(200);
        expect(common.text).not.toMatch(/firmware\.url/);
        expect((await get(server, '/805ec0abcdef.cfg')).text).not.toMatch(/firmware\.url/);
      } finally {
        await server.close();
      }
    } finally {
      await r.cleanup();
    }
  });

  it('explain shows the decision and the raw firmware values with file:line (device off beats site pin)', async () => {
    const res = await runCli(['explain', '.', '2cf4c5001122'], { cwd: root.dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Firmware: no upgrade, policy off from firmware\.policy {2}\(profiles\/devices\/2cf4c5001122\.yaml:\d+:\d+\)$/m);
    expect(res.stdout).toMatch(/^firmware\.policy = "off"\n {4}set by {4}device 2cf4c5001122 +profiles\/devices\/2cf4c5001122\.yaml:\d+:\d+\n {4}overrode  global +profiles\/global\.yaml:\d+:\d+  was "latest"$/m);
    expect(res.stdout).toMatch(/^firmware\.models\.J179\.policy = "pinned"\n {4}set by {4}site lisbon +profiles\/sites\/lisbon\.yaml:\d+:\d+$/m);
    const json = JSON.parse((await runCli(['explain', '.', '2cf4c5001122', '--json'], { cwd: root.dir })).stdout) as { firmware: { policy: string; version: string | null; setAt: string[] } };
    expect(json.firmware).toMatchObject({ policy: 'off', version: null });
    expect(json.firmware.setAt[0]).toMatch(/^profiles\/devices\/2cf4c5001122\.yaml:\d+:\d+$/);
    const nyc = await runCli(['explain', '.', 'c81fea83e85a'], { cwd: root.dir });
    expect(nyc.stdout).toMatch(/^Firmware: 4\.1\.13\.0\.1 \(firmware\/avaya\/4\.1\.13\.0\.1\/FW_S_J179_R4_1_13_0_1\.bin\), policy latest from firmware\.policy: 4\.1\.13\.0\.1 {2}\(profiles\/global\.yaml:\d+:\d+\)$/m);
  });
});
