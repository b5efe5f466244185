// The admin API end to end: a real server with its admin listener, the real SQLite state
// store, raw HTTP over loopback (two source addresses where the lockout needs them).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, VIEWER, call, startAdminHarness, type AdminHarness } from './helpers/admin.js';
import { get } from './helpers/serve-root.js';
import { PROBLEM_TYPE_BASE } from '../src/admin/problem.js';

const POLY = '0004f2a1b2c3';
const LINE_SECRET = 'Vv-45-ab'; // samples/secrets/line-1020

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness();
}, 60_000);
afterAll(() => h?.close());

/** A problem+json answer of this kind, with no stack or server path in it. */
function expectProblem(r: { status: number; headers: Record<string, unknown>; text: string }, status: number, kind: string): Record<string, unknown> {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(r.text) as Record<string, unknown>;
  expect(body.type).toBe(PROBLEM_TYPE_BASE + kind);
  expect(body.status).toBe(status);
  expect(r.text).not.toMatch(/\n\s+at |node_modules|\/src\/|\.ts:\d/);
  return body;
}

describe('the admin listener', () => {
  it('is its own port: the phones’ port does not answer the API, the admin port serves no phone files', async () => {
    expect(h.running.admin!.port).not.toBe(h.running.port);
    expect((await get(h.running, '/api/v1/status')).status).toBe(404);
    const r = await call(h, 'GET', `/${POLY}.cfg`, { auth: ADMIN });
    expectProblem(r, 404, 'not-found');
  });

  it('listens on loopback by default (admin.listen 127.0.0.1:9090 unless configured)', async () => {
    expect(h.running.admin!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('authentication and roles', () => {
  it('asks for credentials with a 401 problem and a challenge for both schemes', async () => {
    const r = await call(h, 'GET', '/api/v1/status');
    expectProblem(r, 401, 'unauthorized');
    expect(r.headers['www-authenticate']).toMatch(/Basic realm="deskset admin", Bearer/);
  });

  it('accepts an scrypt-hashed admin and a viewer whose password comes from ${env:…}', async () => {
    expect((await call(h, 'GET', '/api/v1/status', { auth: ADMIN })).status).toBe(200);
    expect((await call(h, 'GET', '/api/v1/status', { auth: VIEWER })).status).toBe(200);
  });

  it('refuses malformed Authorization headers with 401, not 500', async () => {
    for (const raw of ['Basic', 'Basic !!!notbase64', `Basic ${Buffer.from('nocolon').toString('base64')}`, 'Digest abc', 'Bearer', 'x'.repeat(5000)]) {
      expectProblem(await call(h, 'GET', '/api/v1/status', { auth: { raw } }), 401, 'unauthorized');
    }
  });

  it('a viewer reads, but may not unmask secrets, read the audit log or import', async () => {
    expect((await call(h, 'GET', `/api/v1/devices/${POLY}`, { auth: VIEWER })).status).toBe(200);
    expectProblem(await call(h, 'GET', `/api/v1/devices/${POLY}/files/${POLY}-settings.cfg?secrets=show`, { auth: VIEWER }), 403, 'forbidden');
    expectProblem(await call(h, 'GET', '/api/v1/audit', { auth: VIEWER }), 403, 'forbidden');
    expectProblem(await call(h, 'POST', '/api/v1/devices/import', { auth: VIEWER, body: 'mac_address\n0004f2000001\n', headers: { 'Content-Type': 'text/csv' } }), 403, 'forbidden');
  });

  it('Bearer API tokens: issued hashed in the store, carry their role, stop working when revoked', async () => {
    const { token, info } = await h.store.issueApiToken('viewer', 'ci');
    expect(token).toMatch(/^dsk_/);
    const ok = await call(h, 'GET', '/api/v1/devices?limit=1', { auth: { token } });
    expect(ok.status).toBe(200);
    expectProblem(await call(h, 'GET', '/api/v1/audit', { auth: { token } }), 403, 'forbidden');
    await h.store.revokeApiToken(info.id);
    expectProblem(await call(h, 'GET', '/api/v1/status', { auth: { token } }), 401, 'unauthorized');
    const admin = await h.store.issueApiToken('admin', 'ops');
    expect((await call(h, 'GET', '/api/v1/audit?limit=1', { auth: { token: admin.token } })).status).toBe(200);
  });
});

describe('lockout: 3 failures in 10 minutes per source address AND user', () => {
  it('locks that user from that address (429, even with the right password), not from another address, not another user', async () => {
    const from = '127.0.0.3';
    const wrong = { user: ADMIN.user, password: 'guess' };
    for (let i = 0; i < 3; i++) expectProblem(await call(h, 'GET', '/api/v1/status', { auth: wrong, from }), 401, 'unauthorized');
    const locked = await call(h, 'GET', '/api/v1/status', { auth: ADMIN, from });
    expectProblem(locked, 429, 'locked-out');
    expect(Number(locked.headers['retry-after'])).toBe(600);
    // The real admin, elsewhere, is not locked out by someone guessing from 127.0.0.3.
    expect((await call(h, 'GET', '/api/v1/status', { auth: ADMIN, from: '127.0.0.4' })).status).toBe(200);
    // Another user from the guessing address is not locked either.
    expect((await call(h, 'GET', '/api/v1/status', { auth: VIEWER, from })).status).toBe(200);
    // The counters are the store's: a second server on the same database would see them.
    expect(await h.store.countLoginFailures(from, ADMIN.user, new Date(Date.now() - 600_000).toISOString())).toBe(3);
  });

  it('a success before the third failure clears the count', async () => {
    const from = '127.0.0.5';
    const wrong = { user: VIEWER.user, password: 'nope' };
    for (let i = 0; i < 2; i++) await call(h, 'GET', '/api/v1/status', { auth: wrong, from });
    expect((await call(h, 'GET', '/api/v1/status', { auth: VIEWER, from })).status).toBe(200);
    for (let i = 0; i < 2; i++) await call(h, 'GET', '/api/v1/status', { auth: wrong, from });
    expect((await call(h, 'GET', '/api/v1/status', { auth: VIEWER, from })).status).toBe(200);
  });

  it('bad tokens count too, per source', async () => {
    const from = '127.0.0.6';
    const bogus = { token: `dsk_000000000000_${'A'.repeat(43)}` };
    for (let i = 0; i < 3; i++) expectProblem(await call(h, 'GET', '/api/v1/status', { auth: bogus, from }), 401, 'unauthorized');
    expectProblem(await call(h, 'GET', '/api/v1/status', { auth: bogus, from }), 429, 'locked-out');
  });
});

describe('endpoints', () => {
  it('status and snapshot: id, age, findings with file:line:col', async () => {
    const s = (await call(h, 'GET', '/api/v1/status', { auth: VIEWER })).json();
    expect(s.ok).toBe(true);
    expect(s.snapshot.id).toBe(h.running.provisioner.current().id);
    expect(s.inventory).toBe(true);
    const snap = (await call(h, 'GET', '/api/v1/snapshot', { auth: VIEWER })).json();
    expect(snap.id).toBe(s.snapshot.id);
    expect(snap.devices).toBe(h.running.provisioner.current().profiles.devices.size);
    for (const f of [...snap.errors, ...snap.warnings]) if (f.at !== null) expect(f.at).toMatch(/:\d+:\d+$/);
  });

  it('devices: the root joined with the inventory, searched with the DES operators, paged', async () => {
    const all = (await call(h, 'GET', '/api/v1/devices', { auth: VIEWER })).json();
    const configured = [...h.running.provisioner.current().profiles.devices.keys()].sort();
    expect(all.total).toBe(configured.length);
    expect(all.items.map((d: { mac: string }) => d.mac)).toEqual(configured);
    expect(all.items.every((d: { result: string; configured: boolean }) => d.result === 'never' && d.configured)).toBe(true);

    const poly = (await call(h, 'GET', `/api/v1/devices?where=${encodeURIComponent('vendor=polycom and model^=vvx')}`, { auth: VIEWER })).json();
    expect(poly.items.length).toBeGreaterThan(0);
    expect(poly.items.every((d: { vendor: string; model: string }) => d.vendor === 'polycom' && d.model.startsWith('VVX'))).toBe(true);
    const either = (await call(h, 'GET', `/api/v1/devices?where=${encodeURIComponent('vendor=yealink or vendor=avaya')}`, { auth: VIEWER })).json();
    expect(new Set(either.items.map((d: { vendor: string }) => d.vendor))).toEqual(new Set(['yealink', 'avaya']));

    const p1 = (await call(h, 'GET', '/api/v1/devices?limit=2&offset=0', { auth: VIEWER })).json();
    const p2 = (await call(h, 'GET', '/api/v1/devices?limit=2&offset=2', { auth: VIEWER })).json();
    expect([...p1.items, ...p2.items].map((d: { mac: string }) => d.mac)).toEqual(configured.slice(0, 4));
    expect(p2.total).toBe(configured.length);
  });

  it('devices: phones that asked on the phones’ port show up with firmware and result (ok after the boot sequence); unknown ones too', async () => {
    const ua = { 'User-Agent': 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2945 Type/Application' };
    expect((await get(h.running, `/${POLY}.cfg`, ua)).status).toBe(200);
    await h.running.inventory!.flush();
    const half = (await call(h, 'GET', `/api/v1/devices/${POLY}`, { auth: VIEWER })).json();
    expect(half).toMatchObject({ mac: POLY, configured: true, firmware: '6.4.6.2945', ip: '127.0.0.1', result: 'stale' });
    expect((await get(h.running, `/${POLY}-settings.cfg`, ua)).status).toBe(200);
    expect((await get(h.running, '/0004f2ffffff.cfg', ua)).status).toBe(404);
    await h.running.inventory!.flush();

    const d = (await call(h, 'GET', `/api/v1/devices/${POLY}`, { auth: VIEWER })).json();
    expect(d).toMatchObject({ mac: POLY, result: 'ok', model: 'VVX450', site: 'nyc', groups: ['sales'] });
    expect(d.fetched.map((f: { name: string }) => f.name).sort()).toEqual([`${POLY}-settings.cfg`, `${POLY}.cfg`]);
    // Unfiltered pages are judged after paging; the answer is the same.
    const listed = (await call(h, 'GET', '/api/v1/devices?limit=1000', { auth: VIEWER })).json();
    expect(listed.items.find((x: { mac: string }) => x.mac === POLY)).toMatchObject({ result: 'ok', firmware: '6.4.6.2945' });
    expect(listed.items.find((x: { mac: string }) => x.mac === '0004f2ffffff')).toMatchObject({ result: 'unknown', configured: false });
    expect(listed.total).toBe(h.running.provisioner.current().profiles.devices.size + 1);
    expect(listed.items.map((x: { mac: string }) => x.mac)).toEqual([...listed.items.map((x: { mac: string }) => x.mac)].sort());
    const found = (await call(h, 'GET', `/api/v1/devices?where=${encodeURIComponent('firmware^=6.4 and result=ok')}`, { auth: VIEWER })).json();
    expect(found.items.map((x: { mac: string }) => x.mac)).toEqual([POLY]);
    const unknown = (await call(h, 'GET', '/api/v1/devices?unknown=true', { auth: VIEWER })).json();
    expect(unknown.items).toEqual([expect.objectContaining({ mac: '0004f2ffffff', configured: false, result: 'unknown', firmware: '6.4.6.2945' })]);
    const never = (await call(h, 'GET', '/api/v1/devices?never=true', { auth: VIEWER })).json();
    expect(never.items.map((x: { mac: string }) => x.mac)).not.toContain(POLY);
    expect(never.total).toBe(h.running.provisioner.current().profiles.devices.size - 1);
    const seen = (await call(h, 'GET', '/api/v1/devices/00:04:F2:FF:FF:FF', { auth: VIEWER })).json();
    expect(seen.explain).toBeNull();
  });

  it('devices/{mac}: the explain --json output, secrets masked', async () => {
    const d = (await call(h, 'GET', `/api/v1/devices/00-04-F2-A1-B2-C3`, { auth: ADMIN })).json();
    expect(d.explain.device).toMatchObject({ mac: POLY, model: 'VVX450', site: 'nyc' });
    expect(d.files).toContain(`${POLY}.cfg`);
    const value = (key: string) => d.explain.values.find((v: { key: string }) => v.key === key)?.value;
    expect(value('settings.lines')[0]).toMatchObject({ extension: '1020', password: '••••' });
    expect(value('settings.admin_password')).toBe('••••');
    expect(JSON.stringify(d)).not.toContain(LINE_SECRET);
  });

  it('devices/{mac}/files/{name}: the file as the phone gets it, masked; unmasked only for an admin asking, and audited', async () => {
    const name = `${POLY}-settings.cfg`;
    const masked = await call(h, 'GET', `/api/v1/devices/${POLY}/files/${name}`, { auth: ADMIN });
    expect(masked.status).toBe(200);
    expect(masked.headers['x-deskset-secrets']).toBe('masked');
    expect(masked.text).toContain('••••');
    expect(masked.text).not.toContain(LINE_SECRET);
    const shown = await call(h, 'GET', `/api/v1/devices/${POLY}/files/${name}?secrets=show`, { auth: ADMIN });
    expect(shown.headers['x-deskset-secrets']).toBe('shown');
    expect(shown.text).toContain(LINE_SECRET);
    // Byte for byte what the phone gets on the phones' port.
    const phone = await get(h.running, `/${name}`);
    expect(phone.status).toBe(200);
    expect(shown.text).toBe(phone.text);
    const audit = await h.store.listAudit({ actor: ADMIN.user, action: `GET /api/v1/devices/${POLY}/files/${name}` });
    expect(audit.items[0]).toMatchObject({ actor: ADMIN.user, source: '127.0.0.1', result: 'ok', target: POLY, detail: { secrets: 'shown', status: 200 } });
    // A shared file of the phone's vendor, by its name, and a name the phone never gets.
    expect((await call(h, 'GET', `/api/v1/devices/${POLY}/files/000000000000.cfg`, { auth: VIEWER })).status).toBe(200);
    const none = expectProblem(await call(h, 'GET', `/api/v1/devices/${POLY}/files/46xxsettings.txt`, { auth: VIEWER }), 404, 'not-found');
    expect(String(none.detail)).toContain(`${POLY}.cfg`);
  });

  it('audit: every call (who, from where, what, result), newest first, filtered and paged', async () => {
    await call(h, 'GET', '/api/v1/status', { auth: { user: 'mallory', password: 'x' }, from: '127.0.0.9' });
    const denied = (await call(h, 'GET', '/api/v1/audit?result=denied&limit=1', { auth: ADMIN })).json();
    expect(denied.items[0]).toMatchObject({ actor: '-', source: '127.0.0.9', action: 'GET /api/v1/status', result: 'denied' });
    const mine = (await call(h, 'GET', `/api/v1/audit?actor=${VIEWER.user}&limit=2`, { auth: ADMIN })).json();
    expect(mine.items).toHaveLength(2);
    expect(mine.total).toBeGreaterThan(2);
    expect(mine.items.every((e: { actor: string }) => e.actor === VIEWER.user)).toBe(true);
    expect(mine.items[0].at >= mine.items[1].at).toBe(true);
    const since = (await call(h, 'GET', `/api/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`, { auth: ADMIN })).json();
    expect(since.total).toBe(0);
    // Credentials never reach the audit log.
    const everything = await h.store.listAudit({ limit: 1000 });
    expect(JSON.stringify(everything)).not.toMatch(new RegExp(`${ADMIN.password}|${VIEWER.password}|dsk_[0-9a-f]{12}_`));
  });

  it('devices/import: a dry run by default (diffs, secrets masked, nothing written); dry_run=false writes; bad rows are 422 with body.csv:line', async () => {
    const file = h.root.file('profiles/devices/0004f2000001.yaml');
    const csv = 'mac_address,model,endpoint_name,reg.1.address,reg.1.auth.password\n0004F2000001,VVX450,Desk 1,1050,Sup3rS3cret!\n';
    const dry = await call(h, 'POST', '/api/v1/devices/import', { auth: ADMIN, body: csv, headers: { 'Content-Type': 'text/csv' } });
    expect(dry.status).toBe(200);
    const d = dry.json();
    expect(d).toMatchObject({ ok: true, dryRun: true, mode: 'create', devices: [{ mac: '0004f2000001', line: 2, action: 'create', file: 'profiles/devices/0004f2000001.yaml', plaintextSecrets: ['reg.1.auth.password'] }] });
    expect(d.report).toContain('+model: VVX450');
    expect(d.report).toContain('reg.1.auth.password="••••"'); // the rendered file's diff
    expect(dry.text).not.toContain('Sup3rS3cret!');
    expect(d.summary).toMatch(/dry run, nothing written: would create 1/);
    await expect(import('node:fs/promises').then((f) => f.stat(file))).rejects.toThrow();

    const bad = await call(h, 'POST', '/api/v1/devices/import?dry_run=false', { auth: ADMIN, body: `${csv}nonsense,VVX450,x,1,2\n`, headers: { 'Content-Type': 'text/csv' } });
    expect(bad.status).toBe(422);
    expect(bad.json().ok).toBe(false);
    expect(bad.json().findings[0].at).toMatch(/^body\.csv:3:\d+$/);
    await expect(import('node:fs/promises').then((f) => f.stat(file))).rejects.toThrow(); // all or nothing

    const applied = await call(h, 'POST', '/api/v1/devices/import?dry_run=false', { auth: ADMIN, body: JSON.stringify({ csv }), headers: { 'Content-Type': 'application/json' } });
    expect(applied.status).toBe(200);
    expect(applied.json()).toMatchObject({ ok: true, dryRun: false });
    const fs = await import('node:fs/promises');
    expect(await fs.readFile(file, 'utf8')).toContain('model: VVX450');
    const audit = await h.store.listAudit({ actor: ADMIN.user, action: 'POST /api/v1/devices/import', limit: 1 });
    expect(audit.items[0]!.detail).toMatchObject({ import: 'create', accepted: true, status: 200 });
  });

  it("devices/export.csv: the root's devices as the CSV import reads, secrets as references", async () => {
    const r = await call(h, 'GET', '/api/v1/devices/export.csv', { auth: VIEWER });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = r.text.trim().split(/\r?\n/);
    expect(header!.split(',')[0]).toBe('mac_address');
    expect(rows.some((l) => l.toLowerCase().startsWith(POLY))).toBe(true);
    expect(r.text).not.toContain(LINE_SECRET);
  });
});

describe('bad input: 400 problem saying what was wrong, never a stack trace', () => {
  const cases: Array<[string, string, string, number, string, RegExp]> = [
    ['bad MAC', 'GET', '/api/v1/devices/not-a-mac', 400, 'bad-request', /mac: not a MAC address/],
    ['a MAC with a path in it', 'GET', '/api/v1/devices/..%2F..%2Fetc%2Fpasswd', 400, 'bad-request', /mac/],
    ['a very long MAC', 'GET', `/api/v1/devices/${'a'.repeat(5000)}`, 400, 'bad-request', /mac/],
    ['limit 0', 'GET', '/api/v1/devices?limit=0', 400, 'bad-request', /limit: 0 is out of range 1\.\.1000/],
    ['limit too big', 'GET', '/api/v1/devices?limit=100000', 400, 'bad-request', /limit/],
    ['negative offset', 'GET', '/api/v1/devices?offset=-1', 400, 'bad-request', /offset: expected an integer/],
    ['non-numeric limit', 'GET', '/api/v1/devices?limit=ten', 400, 'bad-request', /limit: expected an integer/],
    ['repeated parameter', 'GET', '/api/v1/devices?limit=1&limit=2', 400, 'bad-request', /limit: given more than once/],
    ['unknown parameter', 'GET', '/api/v1/devices?order=mac', 400, 'bad-request', /order: unknown query parameter/],
    ['bad stale duration', 'GET', '/api/v1/devices?stale=yesterday', 400, 'bad-request', /stale: expected a duration/],
    ['bad unknown flag', 'GET', '/api/v1/devices?unknown=yes', 400, 'bad-request', /unknown: expected true or false/],
    ['bad where column', 'GET', `/api/v1/devices?where=${encodeURIComponent('colour=red')}`, 400, 'bad-request', /where: .*unknown column "colour"/],
    ['where without operator', 'GET', `/api/v1/devices?where=${encodeURIComponent('model VVX')}`, 400, 'bad-request', /where: .*operator/],
    ['bad secrets value', 'GET', `/api/v1/devices/${POLY}/files/${POLY}.cfg?secrets=yes`, 400, 'bad-request', /secrets: expected one of masked, show/],
    ['bad audit time', 'GET', '/api/v1/audit?since=yesterday', 400, 'bad-request', /since: expected an ISO 8601 time/],
    ['bad audit paging', 'GET', '/api/v1/audit?offset=1e3', 400, 'bad-request', /offset/],
    ['unknown route', 'GET', '/api/v1/nothing', 404, 'not-found', /no route GET \/api\/v1\/nothing/],
    ['wrong method', 'DELETE', '/api/v1/devices', 405, 'method-not-allowed', /method/],
    ['a percent-escape that decodes to nothing', 'GET', '/api/v1/devices/%E0%A4%A', 400, 'bad-request', /./],
  ];
  for (const [what, method, target, status, kind, detail] of cases) {
    it(what, async () => {
      const body = expectProblem(await call(h, method, target, { auth: ADMIN }), status, kind);
      expect(String(body.detail)).toMatch(detail);
    });
  }

  it('import: bad JSON, a JSON body of the wrong shape, an unknown mode, a wrong media type, an empty CSV', async () => {
    const post = (body: string, type: string, q = '') => call(h, 'POST', `/api/v1/devices/import${q}`, { auth: ADMIN, body, headers: { 'Content-Type': type } });
    expect(String(expectProblem(await post('{"csv": ', 'application/json'), 400, 'bad-request').detail)).toMatch(/body: not valid JSON/);
    expect(String(expectProblem(await post('[1,2]', 'application/json'), 400, 'bad-request').detail)).toMatch(/body: expected a JSON object/);
    expect(String(expectProblem(await post('{"csv": "a", "x": 1}', 'application/json'), 400, 'bad-request').detail)).toMatch(/unknown key "x"/);
    expect(String(expectProblem(await post('mac_address\n', 'text/csv', '?mode=replace'), 400, 'bad-request').detail)).toMatch(/mode: expected one of create, merge, overwrite/);
    expect(String(expectProblem(await post('mac_address\n', 'text/csv', '?dry_run=maybe'), 400, 'bad-request').detail)).toMatch(/dry_run: expected true or false/);
    expectProblem(await post('<xml/>', 'application/xml'), 415, 'unsupported-media-type');
    expect(String(expectProblem(await post('  \n', 'text/csv'), 400, 'bad-request').detail)).toMatch(/empty/);
  });

  it('a huge body is refused with 413 before it is read (declared) and while it is read (chunked)', async () => {
    const max = h.running.provisioner.current().config.admin.maxBodyBytes;
    const declared = await call(h, 'POST', '/api/v1/devices/import', { auth: ADMIN, headers: { 'Content-Type': 'text/csv', 'Content-Length': String(max + 1) }, body: Buffer.alloc(0) }).catch((e: Error) => e);
    // The server answers 413 at once and closes; the client may see the reply or a reset.
    if (!(declared instanceof Error)) expectProblem(declared, 413, 'payload-too-large');
    const chunked = await call(h, 'POST', '/api/v1/devices/import', { auth: ADMIN, headers: { 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' }, body: Buffer.alloc(max + 1024, 0x61) }).catch((e: Error) => e);
    if (!(chunked instanceof Error)) expectProblem(chunked, 413, 'payload-too-large');
    // Whatever the client saw, the server is fine and answers the next call.
    expect((await call(h, 'GET', '/api/v1/status', { auth: ADMIN })).status).toBe(200);
  });

  it('garbage never reaches the server log as a crash', () => {
    expect(h.logLines.filter((l) => /admin API call failed/.test(l))).toEqual([]);
  });
});
