#!/usr/bin/env node
// Generate a realistic, deterministic config root for benchmarks:
//   node bench/gen-root.js [--devices 10000] [--out DIR] [--seed N]
//
// Mixed fleet (Avaya J179/J189, Poly VVX450/Trio8800, Yealink T46S/T54W), 3 sites with their
// own PBX, transport and time zone, 5 groups, 1–2 lines per phone (one on a J100, whose
// 46xxsettings carries a single account; one on a Trio), some per-device vendor
// parameters. MACs use each vendor's real OUIs (templates/<vendor>/vendor.yaml). A seeded PRNG
// makes the same --devices/--seed produce the same bytes, so runs are comparable.
//
// Besides the root itself it writes DIR/bench-devices.json (mac, vendor, model, site per
// device). deskset never reads it: only deskset.yaml, profiles/ and templates/ are loaded.

import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const MARKER = '.deskset-bench-root';

/** mulberry32: small, fast, good enough for picking test data. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  const weighted = (pairs) => {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let r = next() * total;
    for (const [v, w] of pairs) {
      r -= w;
      if (r < 0) return v;
    }
    return pairs[pairs.length - 1][0];
  };
  const shuffle = (list) => {
    for (let i = list.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  };
  return { next, int, pick, weighted, shuffle };
}

/** The OUI list of a shipped vendor manifest (a one-line YAML flow list, possibly wrapped). */
export function vendorOuis(vendor) {
  const text = readFileSync(path.join(REPO, 'templates', vendor, 'vendor.yaml'), 'utf8');
  const m = /^oui:\s*\[([^\]]*)\]/m.exec(text);
  if (!m) throw new Error(`no oui list in templates/${vendor}/vendor.yaml`);
  return [...m[1].matchAll(/'([0-9a-f]{6})'/g)].map((x) => x[1]);
}

/** Fleet mix: desk phones dominate, conference phones are few. */
export const MODELS = [
  { model: 'J179', vendor: 'avaya', weight: 28 },
  { model: 'J189', vendor: 'avaya', weight: 8 },
  { model: 'VVX450', vendor: 'polycom', weight: 24 },
  { model: 'Trio8800', vendor: 'polycom', weight: 3 },
  { model: 'T46S', vendor: 'yealink', weight: 25 },
  { model: 'T54W', vendor: 'yealink', weight: 12 },
];

export const SITES = [
  { id: 'nyc', weight: 45, digit: 1, text: `description: New York head office
settings:
  sip:
    server: pbx-nyc.contoso.example
    port: 5061
    transport: tls
  time:
    zone: America/New_York
` },
  { id: 'lon', weight: 35, digit: 2, text: `description: London office, own PBX, UDP inside the office LAN
settings:
  sip:
    server: pbx-lon.contoso.example
    port: 5060
    transport: udp
  time:
    zone: Europe/London
    ntp: [uk.pool.ntp.org, 0.uk.pool.ntp.org]
  language: en-GB
` },
  { id: 'sgp', weight: 20, digit: 3, text: `description: Singapore office, TCP to the regional SBC
settings:
  sip:
    server: sbc-sgp.contoso.example
    port: 5060
    transport: tcp
    outbound_proxy: sbc-sgp.contoso.example
  time:
    zone: Asia/Singapore
    ntp: [sg.pool.ntp.org]
` },
];

const GROUPS = {
  sales: `description: Sales floor, presence and call completion
settings:
  avaya:
    settings:
      ENABLE_PRESENCE: 1
  polycom:
    params:
      "call.autoAnswer.SIP": "0"
  yealink:
    params:
      "features.call_completion_enable": 1
`,
  support: `description: Support desk answers on the headset automatically
settings:
  avaya:
    settings:
      ENABLE_AUTO_ANSWER_SUPPORT: 1
  polycom:
    params:
      "call.autoAnswer.SIP": "1"
  yealink:
    params:
      "features.auto_answer_delay": 1
      "account.1.auto_answer": 1
`,
  engineering: `description: Engineering, quiet phones
settings:
  avaya:
    settings:
      SCREENSAVERON: 240
  polycom:
    params:
      "up.screenSaver.enabled": "1"
  yealink:
    params:
      "phone_setting.backlight_time": 30
`,
  finance: `description: Finance, locked phones and short register timer
settings:
  sip:
    register_expires: 600
  polycom:
    params:
      "phoneLock.enabled": "1"
  yealink:
    params:
      "phone_setting.phone_lock.enable": 1
`,
  reception: `description: Reception and front desks, busy lamp fields
settings:
  avaya:
    settings:
      PHNNUMOFSA: 6
  yealink:
    params:
      "features.pickup.direct_pickup_enable": 1
`,
};
const GROUP_WEIGHTS = [['sales', 30], ['support', 25], ['engineering', 25], ['finance', 12], ['reception', 8]];

const GLOBAL = `# Company-wide defaults. Every phone starts from here.
description: Contoso defaults
settings:
  sip:
    server: pbx.contoso.example
    port: 5061
    transport: tls
    domain: contoso.example
    register_expires: 3600
  time:
    zone: America/New_York
    ntp: [0.pool.ntp.org, 1.pool.ntp.org]
  language: en
  admin_password: "Cx-Adm1n-2025"
  avaya:
    settings:
      ENABLE_IPOFFICE: 0
      DIALPLAN: "911|[2-9]XXXXXXXXX|1XXXXXXXXXX|XXXX"
  polycom:
    params:
      "dialplan.digitmap": "[2-9]xxxxxxxxx|1xxxxxxxxxx|xxxx"
      "feature.enhancedFeatureKeys.enabled": "1"
  yealink:
    params:
      "features.pickup.direct_pickup_enable": 0
      "phone_setting.backlight_time": 60
`;

const MODEL_FILES = {
  J179: `description: J179 desk phone
settings:
  avaya:
    settings:
      PHNNUMOFSA: 3
`,
  J189: `description: J189 has a colour screen and two line-key pages
settings:
  avaya:
    settings:
      PHNNUMOFSA: 4
`,
  VVX450: `description: VVX 450 desk phone
settings:
  polycom:
    params:
      "up.backlight.idleIntensity": "1"
`,
  Trio8800: `description: Conference phones answer nothing automatically and stay unlocked
settings:
  polycom:
    params:
      "phoneLock.enabled": "0"
      "up.screenSaver.enabled": "0"
`,
  T46S: `description: T46S desk phone
settings:
  yealink:
    params:
      "features.headset_prior": 1
`,
  T54W: `description: T54W has Bluetooth and Wi-Fi; keep them off on desks
settings:
  yealink:
    params:
      "features.bluetooth_enable": 0
      "static.wifi.enable": 0
`,
};

const FIRST = ['Ann', 'Bob', 'Chris', 'Dana', 'Eve', 'Farid', 'Grace', 'Hiro', 'Ines', 'João', 'Kai', 'Lena', 'Mia', 'Noah', 'Olga',
  'Priya', 'Quentin', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Victor', 'Wei', 'Xavier', 'Yara', 'Zoë', 'Siobhán', 'René', 'Ølaf', 'Mei'];
const LAST = ['Lee', "O'Neil", 'Silva', 'Nguyen', 'Smith', 'Müller', 'Rossi', 'Tan', 'García', 'Kowalski', 'Ahmed', 'Cohen', 'Sato',
  'Dubois', 'Jansen', 'Novak', 'Brown', 'Khan', 'Lim', 'Fernández', 'Andersson', 'Walsh', 'Okafor', 'Chen', 'Patel'];
const SHARED_NAMES = ['Sales Hunt Group', 'Support Queue', 'Front Desk', 'Boardroom', 'Helpdesk & IT', 'Night Service', 'Shared Line'];
const PW_CHARS = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_';

/** YAML double-quoted scalar. */
const q = (s) => JSON.stringify(s);

/**
 * The fleet, in generation order. Pure: same (n, seed), same list.
 * @returns {{mac: string, vendor: string, model: string, site: string, groups: string[], lines: {extension: string, password: string, display_name: string, auth_user?: string, label?: string}[], params: Record<string, string|number>}[]}
 */
export function generateFleet(n, seed = 1) {
  const r = prng(seed);
  const ouis = { avaya: vendorOuis('avaya'), polycom: vendorOuis('polycom'), yealink: vendorOuis('yealink') };
  // Real fleets come in a few OUIs per vendor, not all of them at once.
  const fleetOuis = Object.fromEntries(Object.entries(ouis).map(([v, list]) => [v, r.shuffle([...list]).slice(0, Math.min(3, list.length))]));
  const used = new Set();
  const counters = Object.fromEntries(SITES.map((s) => [s.id, 0]));
  const width = Math.max(4, String(Math.ceil(n / 2)).length + 1);
  const out = [];
  for (let i = 0; i < n; i++) {
    const m = r.weighted(MODELS.map((x) => [x, x.weight]));
    let mac;
    do {
      mac = r.pick(fleetOuis[m.vendor]) + r.int(0x1000000).toString(16).padStart(6, '0');
    } while (used.has(mac));
    used.add(mac);
    const site = r.weighted(SITES.map((s) => [s, s.weight]));
    const groupCount = r.weighted([[0, 10], [1, 75], [2, 15]]);
    const groups = [];
    while (groups.length < groupCount) {
      const g = r.weighted(GROUP_WEIGHTS);
      if (!groups.includes(g)) groups.push(g);
    }
    const conference = m.model === 'Trio8800';
    // J100s are provisioned with one SIP account (FORCE_SIP_EXTENSION); Trios are rooms.
    const lineCount = conference || m.vendor === 'avaya' ? 1 : r.weighted([[1, 75], [2, 25]]);
    const person = `${r.pick(FIRST)} ${r.pick(LAST)}`;
    const lines = [];
    for (let l = 0; l < lineCount; l++) {
      counters[site.id]++;
      const extension = `${site.digit}${String(counters[site.id]).padStart(width, '0')}`;
      let password = '';
      for (let k = 0; k < 12; k++) password += PW_CHARS[r.int(PW_CHARS.length)];
      const display_name = conference ? `Room ${site.id.toUpperCase()}-${String(i % 500).padStart(3, '0')}` : l === 0 ? person : r.pick(SHARED_NAMES);
      const line = { extension, password, display_name };
      if (r.next() < 0.4) line.auth_user = `${site.id}-${extension}`;
      if (l === 0 && r.next() < 0.2) line.label = person.split(' ')[0];
      lines.push(line);
    }
    const params = {};
    if (r.next() < 0.3) {
      if (m.vendor === 'avaya') Object.assign(params, r.pick([{ BAKLIGHTOFF: 120 }, { SCREENSAVERON: 600 }, { ENABLE_OPUS: 1 }, { PHNNUMOFSA: 2 }]));
      if (m.vendor === 'polycom') Object.assign(params, r.pick([{ 'up.screenSaver.enabled': '1' }, { 'reg.1.ringType': 'ringer3' }, { 'up.headsetMode': '1' }, { 'call.callWaiting.enable': '0' }]));
      if (m.vendor === 'yealink') Object.assign(params, r.pick([{ 'features.bluetooth_enable': 1 }, { 'phone_setting.backlight_time': 120 }, { 'features.dnd.enable': 1 }, { 'account.1.auto_answer': 1 }]));
    }
    out.push({ mac, vendor: m.vendor, model: m.model, site: site.id, groups, lines, params });
  }
  return out;
}

export function deviceYaml(d) {
  const lines = [`model: ${d.model}`, `site: ${d.site}`];
  if (d.groups.length) lines.push(`groups: [${d.groups.join(', ')}]`);
  lines.push('settings:', '  lines:');
  for (const l of d.lines) {
    const parts = [`extension: ${q(l.extension)}`];
    if (l.auth_user) parts.push(`auth_user: ${q(l.auth_user)}`);
    parts.push(`password: ${q(l.password)}`, `display_name: ${q(l.display_name)}`);
    if (l.label) parts.push(`label: ${q(l.label)}`);
    lines.push(`    - {${parts.join(', ')}}`);
  }
  const keys = Object.keys(d.params);
  if (keys.length) {
    const [section, field] = d.vendor === 'avaya' ? ['avaya', 'settings'] : [d.vendor, 'params'];
    lines.push(`  ${section}:`, `    ${field}:`);
    for (const k of keys) lines.push(`      ${q(k)}: ${typeof d.params[k] === 'string' ? q(d.params[k]) : d.params[k]}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Write a root to `out`. Refuses a non-empty directory it did not create itself. */
export async function writeRoot(out, n, seed = 1) {
  const dir = path.resolve(out);
  const existing = await fs.readdir(dir).catch(() => undefined);
  if (existing && existing.length && !existing.includes(MARKER)) throw new Error(`${dir} is not empty and was not made by gen-root.js; refusing to overwrite`);
  if (existing) await fs.rm(path.join(dir, 'profiles'), { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'profiles', 'devices'), { recursive: true });
  for (const sub of ['models', 'groups', 'sites']) await fs.mkdir(path.join(dir, 'profiles', sub), { recursive: true });
  await fs.writeFile(path.join(dir, MARKER), `generated by bench/gen-root.js --devices ${n} --seed ${seed}\n`);
  await fs.writeFile(path.join(dir, 'deskset.yaml'), `# Generated by bench/gen-root.js: ${n} devices, seed ${seed}.\nlisten:\n  host: 127.0.0.1\n  port: 8080\nunknown_devices: reject\n`);
  await fs.writeFile(path.join(dir, 'profiles', 'global.yaml'), GLOBAL);
  for (const [m, text] of Object.entries(MODEL_FILES)) await fs.writeFile(path.join(dir, 'profiles', 'models', `${m}.yaml`), text);
  for (const [g, text] of Object.entries(GROUPS)) await fs.writeFile(path.join(dir, 'profiles', 'groups', `${g}.yaml`), text);
  for (const s of SITES) await fs.writeFile(path.join(dir, 'profiles', 'sites', `${s.id}.yaml`), s.text);
  const fleet = generateFleet(n, seed);
  const devDir = path.join(dir, 'profiles', 'devices');
  // Bounded parallelism: fast on a cold disk, no EMFILE at 100,000 files.
  let next = 0;
  const worker = async () => {
    while (next < fleet.length) {
      const d = fleet[next++];
      await fs.writeFile(path.join(devDir, `${d.mac}.yaml`), deviceYaml(d));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await fs.writeFile(path.join(dir, 'bench-devices.json'), JSON.stringify(fleet.map(({ mac, vendor, model, site }) => ({ mac, vendor, model, site }))));
  return { dir, fleet };
}

async function cli() {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '10000' }, out: { type: 'string' }, seed: { type: 'string', default: '1' } } });
  const n = Number(values.devices);
  const seed = Number(values.seed);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bad --devices ${values.devices}`);
  if (!Number.isInteger(seed)) throw new Error(`bad --seed ${values.seed}`);
  const out = values.out ?? `bench-root-${n}`;
  const started = performance.now();
  const { dir, fleet } = await writeRoot(out, n, seed);
  const mix = {};
  for (const d of fleet) mix[d.model] = (mix[d.model] ?? 0) + 1;
  process.stdout.write(`wrote ${n} devices to ${dir} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${Object.entries(mix).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli().catch((e) => {
    process.stderr.write(`gen-root: ${e.message}\n`);
    process.exitCode = 2;
  });
}
