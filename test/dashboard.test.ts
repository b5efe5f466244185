// The dashboard over real HTTP: a real server with its admin listener and SQLite store, phones
// fetching real files first, hostile profile values that must come out as text, the same
// users, lockout and audit as the API, and `state: off` pages that say what they lack.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, VIEWER, call, startAdminHarness, type AdminHarness } from './helpers/admin.js';
import { get } from './helpers/serve-root.js';
import { REPO } from './helpers/cli.js';
import { countBy, firmwarePage, fleetPage, pageLinks, showValue } from '../src/admin/ui/pages.js';
import { whereEquals } from '../src/admin/ui/render.js';
import { parseWhere, matches } from '../src/store/where.js';

const POLY = '0004f2a1b2c3';
const YEALINK = '805ec0123456';
const SECRETS = ['Vv-45-ab', 'T54-mm3k', 'Nw-Adm1n-2024', 'rc9-Tq2m', 'sL4-xx91', 'T46-pq7z']; // samples/secrets/*
const HOSTILE_DESC = `<script>alert("desc")</script><img src=x onerror=alert(1)>`;
const HOSTILE_NAME = `"><svg onload=alert(2)>&amp;`;

/** The Poly device with markup in its description and a display name; both must arrive as text. */
const hostileEdits: Record<string, string | ((old: string) => string)> = {
  'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin': 'old image',
  'firmware/avaya/4.1.13.0.1/FW_S_J179_R4_1_13_0_1.bin': 'new image',
  'profiles/global.yaml': (old: string) => `${old}\nfirmware:\n  policy: latest\n`,
  [`profiles/devices/${POLY}.yaml`]: (old: string) =>
    old.replace('model: VVX450', `model: VVX450\ndescription: '${HOSTILE_DESC}'`).replace(`display_name: "Bob O'Neil & Co"`, `display_name: '${HOSTILE_NAME}'`),
};

function html(r: { status: number; headers: Record<string, unknown>; text: string }): string {
  expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(r.headers['content-security-policy']).toContain("script-src 'self'");
  return r.text;
}

describe('dashboard with the state store', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await startAdminHarness({ edits: hostileEdits });
    // Two phones fetch their files, so the inventory has something to show.
    expect((await get(h.running, `/${POLY}.cfg`, { 'User-Agent': 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2945 Type/Application' })).status).toBe(200);
    expect((await get(h.running, `/${YEALINK}.cfg`, { 'User-Agent': 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56' })).status).toBe(200);
    await h.running.inventory!.flush();
  }, 60_000);
  afterAll(() => h?.close());

  it('asks for credentials (Basic), and counts a wrong password toward the lockout', async () => {
    const r = await call(h, 'GET', '/');
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const wrong = await call(h, 'GET', '/', { auth: { user: VIEWER.user, password: 'nope' }, from: '127.0.0.7' });
    expect(wrong.status).toBe(401);
    const audit = await h.store.listAudit({ action: 'GET /', result: 'denied' });
    expect(audit.items.some((a) => a.source === '127.0.0.7')).toBe(true);
  });

  it('the fleet page counts by vendor, model and site, and a viewer may read it', async () => {
    const page = html(await call(h, 'GET', '/', { auth: VIEWER }));
    expect(page).toContain('<h1>Fleet</h1>');
    expect(page).toMatch(/By vendor[\s\S]*polycom[\s\S]*By model[\s\S]*VVX450/);
    expect(page).toContain(`href="/devices?where=${encodeURIComponent("model='VVX450'").replace(/'/g, '&#x27;')}"`);
    expect(page).toContain('victor (viewer)');
  });

  it('the device list searches with the --where operators, and a bad expression is a message, not a crash', async () => {
    const page = html(await call(h, 'GET', `/devices?where=${encodeURIComponent('vendor=yealink and site^=lis')}`, { auth: ADMIN }));
    expect(page).toContain(`/devices/${YEALINK}`);
    expect(page).not.toContain(`/devices/${POLY}`);
    const bad = await call(h, 'GET', `/devices?where=${encodeURIComponent('colour=red')}`, { auth: ADMIN });
    expect(bad.status).toBe(400);
    expect(html(bad)).toMatch(/role="alert">[^<]*colour/);
  });

  it('pages the device list, keeping the search', async () => {
    const page = html(await call(h, 'GET', '/devices?limit=2', { auth: ADMIN }));
    expect(page).toMatch(/Devices 1–2 of \d+/);
    expect(page).toContain('href="/devices?offset&#x3D;2&amp;limit&#x3D;2"');
    const second = html(await call(h, 'GET', '/devices?limit=2&offset=2', { auth: ADMIN }));
    expect(second).toMatch(/Devices 3–4 of/);
  });

  it('one device: layers in order with file:line, file previews and the fetch history, no secret and no markup injected', async () => {
    const r = await call(h, 'GET', `/devices/${POLY}`, { auth: VIEWER });
    const page = html(r);
    expect(page).toMatch(/<strong>global<\/strong>[\s\S]*<strong>group<\/strong> sales[\s\S]*<strong>site<\/strong> nyc[\s\S]*<strong>device<\/strong>/);
    // Every value with the root-relative file:line:col that set it, not the server's own paths.
    expect(page).toMatch(/<code class="at">profiles\/sites\/nyc\.yaml:\d+:\d+<\/code>/);
    expect(page).toMatch(new RegExp(`<code class="at">profiles/devices/${POLY}\\.yaml:\\d+:\\d+</code>`));
    expect(page).not.toContain(h.root.dir);
    expect(page).toContain(`<code>${POLY}.cfg</code>`); // a file it gets, previewed
    expect(page).toContain('••••');
    for (const s of SECRETS) expect(page).not.toContain(s);
    // The hostile values are there, as text only.
    expect(page).not.toMatch(/<script>alert|<img src=x|<svg onload/i);
    expect(page).toContain('&lt;script&gt;alert(&quot;desc&quot;)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;svg onload&#x3D;alert(2)&gt;&amp;amp;');
    expect(page).toMatch(/File fetched[\s\S]*<code>0004f2a1b2c3\.cfg<\/code><\/td><td>200</);
    const audit = await h.store.listAudit({ action: `GET /devices/${POLY}` });
    expect(audit.items[0]).toMatchObject({ actor: VIEWER.user, result: 'ok', target: POLY });
  });

  it('an unknown or malformed MAC is an HTML 404', async () => {
    expect((await call(h, 'GET', '/devices/001122334455', { auth: ADMIN })).status).toBe(404);
    const bad = await call(h, 'GET', `/devices/${encodeURIComponent('<b>x</b>')}`, { auth: ADMIN });
    expect(bad.status).toBe(404);
    expect(html(bad)).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('the snapshot page lists findings and the reload history; firmware shows per model who gets what', async () => {
    const snap = html(await call(h, 'GET', '/snapshot', { auth: ADMIN }));
    expect(snap).toContain(h.running.provisioner.current().id);
    expect(snap).toContain('Reload history');
    const fw = html(await call(h, 'GET', '/firmware', { auth: ADMIN }));
    // J179: both releases on disk, newest first; both J179s get the newest, decided in global.yaml.
    expect(fw).toMatch(/avaya J179<\/h2>\s*<p>On disk: <code title="[^"]*">4\.1\.13\.0\.1<\/code>, <code title="[^"]*">4\.1\.3\.0\.6<\/code>/);
    expect(fw).toMatch(/avaya J179<\/h2>[\s\S]*?Who gets what: 4\.1\.13\.0\.1 × 2</);
    expect(fw).toMatch(/<td>latest<\/td><td>4\.1\.13\.0\.1<\/td><td>[^<]*<code class="at">profiles\/global\.yaml:\d+:3<\/code>/);
  });

  it('serves its script and stylesheet, unaudited, and still behind the users', async () => {
    expect((await call(h, 'GET', '/ui/app.js')).status).toBe(401);
    const js = await call(h, 'GET', '/ui/app.js', { auth: ADMIN });
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await h.store.listAudit({ action: 'GET /ui/app.js', result: 'ok' })).total).toBe(0);
  });
});

describe('dashboard with state: off', () => {
  let h: AdminHarness;
  beforeAll(async () => {
    h = await startAdminHarness({ extraYaml: 'state: "off"\n' });
  }, 60_000);
  afterAll(() => h?.close());

  it('says what needs the store, and the rest works', async () => {
    const fleet = html(await call(h, 'GET', '/', { auth: ADMIN }));
    expect(fleet).toContain('No state store');
    expect(fleet).toMatch(/By model[\s\S]*VVX450/);
    const dev = html(await call(h, 'GET', `/devices/${POLY}`, { auth: ADMIN }));
    expect(dev).toMatch(/Inventory<\/h2>\s*<p class="muted">Needs the state store/);
    expect(dev).toMatch(/<strong>device<\/strong>/);
    expect((await call(h, 'GET', '/firmware', { auth: ADMIN })).status).toBe(200);
    expect((await call(h, 'GET', '/snapshot', { auth: ADMIN })).status).toBe(200);
  });

  it('the snapshot page shows a rejected reload with file:line and the reload history, newest first', async () => {
    const site = h.root.file('profiles/sites/nyc.yaml');
    const good = await fs.readFile(site, 'utf8');
    await fs.writeFile(site, `${good}\nbroken: [unclosed\n`);
    expect((await h.running.reloader.reload(['profiles/sites/nyc.yaml'])).ok).toBe(false);
    const bad = html(await call(h, 'GET', '/snapshot', { auth: ADMIN }));
    expect(bad).toContain('the last reload was rejected');
    expect(bad).toMatch(/Why the last reload was rejected[\s\S]*<code class="at">profiles\/sites\/nyc\.yaml:\d+:\d+<\/code>/);
    await fs.writeFile(site, good);
    expect((await h.running.reloader.reload(['profiles/sites/nyc.yaml'])).ok).toBe(true);
    const fixed = html(await call(h, 'GET', '/snapshot', { auth: ADMIN }));
    expect(fixed).not.toContain('the last reload was rejected');
    expect(fixed).toMatch(/swapped in<\/span><\/td><td class="num">\d+<\/td><td>profiles\/sites\/nyc\.yaml<\/td>[\s\S]*rejected<\/span>/);
  });
});

describe('dashboard views (pure)', () => {
  const row = (mac: string, result: string, model = 'VVX450') => ({ mac, result, model, vendor: 'polycom', site: '', firmware: '', hardware: '', ip: '', first_seen: '', last_seen: '', configured: true, files: [] }) as never;

  it('puts failing, then stale, unknown and never devices first; flags nothing without an inventory', () => {
    const rows = [row('a', 'ok'), row('b', 'never'), row('c', 'failing'), row('d', 'stale')];
    expect(fleetPage(rows, true).attention.map((r) => r.mac)).toEqual(['c', 'd', 'b']);
    expect(fleetPage(rows, false).attention).toEqual([]);
    expect(fleetPage(rows, true, 1).attentionMore).toBe(2);
  });

  it('counts, most first, with (none) for a missing value', () => {
    expect(countBy([row('a', 'ok', 'X'), row('b', 'ok', ''), row('c', 'ok', 'X')], (r: { model: string }) => r.model)).toEqual([
      { name: 'X', count: 2 },
      { name: '(none)', count: 1 },
    ]);
  });

  it('firmware lists problems first and caps each model’s devices, counting all of them', () => {
    const d = (mac: string, problem: string | null) => ({ mac, policy: 'latest', version: problem ? null : '1.0', image: null, why: '', setAt: [], problem });
    const [m] = firmwarePage([{ model: 'J179', vendor: 'avaya', releases: [], devices: [d('a', null), d('b', null), d('c', 'pinned 9 is not on disk')] }], 2);
    expect(m!.devices.map((x) => x.mac)).toEqual(['c', 'a']);
    expect(m).toMatchObject({ deviceCount: 3, more: 1, problems: 1, outcome: [{ name: '1.0', count: 2 }, { name: 'error', count: 1 }] });
  });

  it('page links keep the search and the limit', () => {
    expect(pageLinks('/devices', { where: 'a=b' }, 0, 50, 120)).toEqual({ from: 1, to: 50, total: 120, prev: null, next: '/devices?where=a%3Db&offset=50' });
    expect(pageLinks('/devices', {}, 100, 50, 120)).toMatchObject({ from: 101, to: 120, prev: '/devices?offset=50', next: null });
    expect(pageLinks('/devices', {}, 0, 50, 0)).toMatchObject({ from: 0, to: 0, prev: null, next: null });
  });

  it('a count link selects exactly its value, quotes and all', () => {
    for (const v of ["O'Brien and co", 'a b', 'x=y']) expect(matches(parseWhere(whereEquals('site', v)), { site: v } as never)).toBe(true);
    expect(matches(parseWhere(whereEquals('site', '(none)')), { site: '' } as never)).toBe(true);
    expect(showValue({ a: 1 })).toBe('{"a":1}');
  });

  it('the templates never bypass escaping ({{{ }}} or a SafeString)', async () => {
    const dir = path.join(REPO, 'src', 'admin', 'ui');
    for (const f of await fs.readdir(path.join(dir, 'templates'))) expect(await fs.readFile(path.join(dir, 'templates', f), 'utf8'), f).not.toMatch(/\{\{\{|\{\{&/);
    for (const f of ['render.ts', 'router.ts', 'pages.ts']) expect(await fs.readFile(path.join(dir, f), 'utf8'), f).not.toMatch(/SafeString|noEscape: true/);
  });
});
