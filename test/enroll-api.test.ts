// Enrollment for phones that cannot type a code (issue 17): POST /api/v1/enroll and the /enroll
// form on a real admin listener, against codes issued by the real CLI. Then what an admin sees:
// the lifecycle states in `deskset devices` and the API, the lock from wrong codes, and the
// `check` warning when a device file shadows a binding.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI } from '../src/admin/openapi.js';
import { call, ADMIN, startAdminHarness, type AdminHarness, type Reply } from './helpers/admin.js';
import { runCli } from './helpers/cli.js';
import { parseResponse, type RawResponse } from './helpers/e2e-http.js';
import { validate } from './helpers/json-schema.js';

const PLACEHOLDERS = {
  'profiles/devices/placeholders/BAT-desk1.yaml': 'model: J179\nsite: nyc\nsettings:\n  lines:\n    - extension: "4801"\n',
  'profiles/devices/placeholders/BAT-desk2.yaml': 'model: J179\nsettings:\n  lines:\n    - extension: "4802"\n',
  'profiles/devices/placeholders/BAT-idle.yaml': 'model: VVX450\n',
  'profiles/devices/placeholders/BAT-form.yaml': 'model: T46S\nsettings:\n  lines:\n    - extension: "4803"\n',
};
const ROOT_SCHEMA = OPENAPI as unknown as Record<string, unknown>;
const avayaUa = (mac: string) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${mac})`;

let h: AdminHarness;
const codes: Record<string, string> = {};

async function issue(...args: string[]): Promise<string> {
  const r = await runCli(['codes', 'issue', h.root.dir, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { code: string }).code;
}

const enrollJson = (body: unknown, from?: string): Promise<Reply> => call(h, 'POST', '/api/v1/enroll', { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, from });
const enrollForm = (fields: Record<string, string>): Promise<Reply> => call(h, 'POST', '/enroll', { body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });

function phoneGet(target: string, headers: Record<string, string>): Promise<RawResponse> {
  const req = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port: h.running.port, host: '127.0.0.1' }, () => s.write(req));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
  });
}

function documented(status: number, r: Reply): string[] {
  const op = (OPENAPI as unknown as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>> }).paths['/enroll']!.post!;
  const entry = op.responses[String(status)]?.content[String(r.headers['content-type']).split(';')[0]!];
  if (!entry) return [`status ${status} with ${r.headers['content-type']} is not documented`];
  return validate(r.json(), entry.schema as Record<string, unknown>, ROOT_SCHEMA);
}

beforeAll(async () => {
  h = await startAdminHarness({ extraYaml: 'enrollment:\n  enabled: true\n', edits: PLACEHOLDERS });
  codes.desk1 = await issue('--placeholder', 'BAT-desk1');
  codes.desk2 = await issue('--placeholder', 'BAT-desk2');
  codes.form = await issue('--placeholder', 'BAT-form');
  codes.site = await issue('--site', 'nyc', '--max-devices', '2');
}, 90_000);
afterAll(() => h?.close());

describe('POST /api/v1/enroll', () => {
  it('binds a phone by code, MAC and model without credentials, as the OpenAPI document says', async () => {
    const r = await enrollJson({ code: codes.desk1, mac: 'C8:1F:EA:00:00:01', model: 'J179' });
    expect(r.status, r.text).toBe(201);
    expect(documented(201, r)).toEqual([]);
    expect(r.json()).toMatchObject({ mac: 'c81fea000001', model: 'J179', placeholder: 'BAT-desk1', site: 'nyc', code: `activation code …${codes.desk1.slice(-4)}` });
    // The phone is now served its placeholder's file under its own MAC (the binding is its credential).
    const served = await phoneGet('/46xxsettings.txt', { 'User-Agent': avayaUa('c81fea000001'), Authorization: `Basic ${Buffer.from(`x:${codes.desk1}`).toString('base64')}` });
    expect(served.status).toBe(200);
    expect(served.body.toString()).toContain('SET FORCE_SIP_EXTENSION 4801');
  });

  it('takes the model from the inventory when the phone has asked once, and refuses when nobody knows it', async () => {
    const none = await enrollJson({ code: codes.site, mac: 'c81fea000002' });
    expect(none.status).toBe(400);
    expect(documented(400, none)).toEqual([]);
    expect(none.json().detail).toMatch(/^model: which model/);
    // The phone asks (and is challenged); the inventory records its User-Agent's model.
    expect((await phoneGet('/46xxsettings.txt', { 'User-Agent': avayaUa('c81fea000002') })).status).toBe(401);
    await h.running.inventory?.flush();
    const r = await enrollJson({ code: codes.site, mac: 'c81fea000002' });
    expect(r.status, r.text).toBe(201);
    expect(r.json()).toMatchObject({ model: 'J179', site: 'nyc', placeholder: null });
  });

  it('refuses a wrong model, a used code and an unknown code with one and the same answer', async () => {
    const answers = [
      await enrollJson({ code: codes.desk2, mac: 'c81fea000003', model: 'J189' }),
      await enrollJson({ code: codes.desk1, mac: 'c81fea000004', model: 'J179' }),
      await enrollJson({ code: '1234567812345678', mac: 'c81fea000005', model: 'J179' }),
    ];
    for (const r of answers) {
      expect(r.status).toBe(403);
      expect(documented(403, r)).toEqual([]);
    }
    expect(new Set(answers.map((r) => r.json().detail)).size).toBe(1);
    // The wrong model did not spend the code.
    expect((await enrollJson({ code: codes.desk2, mac: 'c81fea000003', model: 'J179' })).status).toBe(201);
    // A phone with its own device file is not enrolled over it: refused the same way, audited with why.
    const configured = await enrollJson({ code: codes.site, mac: '0004f2a1b2c3', model: 'VVX450' });
    expect(configured.status).toBe(403);
    expect(configured.json().detail).toBe(answers[0]!.json().detail);
    const audit = (await call(h, 'GET', '/api/v1/audit?limit=1000', { auth: ADMIN })).json().items as Array<{ action: string; target?: string; detail?: { reason?: string } }>;
    expect(audit.some((e) => e.action === 'code.redeem' && e.target === '0004f2a1b2c3' && e.detail?.reason === 'has a device file')).toBe(true);
  });

  it('three wrong codes lock that MAC for that address only; the right code still works from another', async () => {
    const victim = 'c81fea0000aa';
    const fresh = await issue('--placeholder', 'BAT-idle');
    for (let i = 0; i < 3; i++) expect((await enrollJson({ code: '99999999', mac: victim, model: 'VVX450' }, '127.0.0.2')).status).toBe(403);
    const locked = await enrollJson({ code: fresh, mac: victim, model: 'VVX450' }, '127.0.0.2');
    expect(locked.status).toBe(429);
    expect(documented(429, locked)).toEqual([]);
    // Seen by an admin as locked while the lock lasts, from the audit log every replica shares.
    const listed = await runCli(['devices', h.root.dir, '--json', '--where', `mac=${victim}`]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ state: string }>)[0]?.state).toBe('locked');
    expect((await enrollJson({ code: fresh, mac: victim, model: 'VVX450' }, '127.0.0.1')).status).toBe(201);
  });

  it('rejects malformed bodies with problem details, never a stack trace', async () => {
    const cases: Array<[string, string, number]> = [
      ['{bad', 'application/json', 400],
      ['[]', 'application/json', 400],
      [JSON.stringify({ code: 1, mac: 'c81fea000009' }), 'application/json', 400],
      [JSON.stringify({ code: '1', mac: 'c81fea000009', extra: 1 }), 'application/json', 400],
      [JSON.stringify({ code: '1', mac: 'not a mac' }), 'application/json', 400],
      [JSON.stringify({ code: '1'.repeat(100), mac: 'c81fea000009' }), 'application/json', 400],
      [JSON.stringify({ code: '1', mac: 'c81fea000009', model: '<script>' }), 'application/json', 400],
      ['code=1', 'text/plain', 415],
    ];
    for (const [body, type, status] of cases) {
      const r = await call(h, 'POST', '/api/v1/enroll', { body, headers: { 'Content-Type': type } });
      expect(r.status, body).toBe(status);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.text).not.toMatch(/at .*\.(js|ts):\d+/);
    }
  });
});

describe('the /enroll form', () => {
  it('is a page of its own: no admin navigation, no login, strict CSP', async () => {
    const r = await call(h, 'GET', '/enroll');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.text).toContain('<form method="post" action="/enroll"');
    expect(r.text).toContain('<option value="J179">');
    expect(r.text).not.toContain('aria-label="Main"');
  });

  it('binds a phone, and echoes a refused MAC escaped but never the code', async () => {
    const bad = await enrollForm({ code: '0000000000000000', mac: '"><script>alert(1)</script>', model: 'T46S' });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('<script>alert(1)');
    expect(bad.text).toContain('&lt;script&gt;');
    const wrong = await enrollForm({ code: '0000000000000000', mac: '805ec0000010', model: 'T46S' });
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain('0000000000000000');
    const ok = await enrollForm({ code: codes.form, mac: '80:5e:c0:00:00:10', model: 'T46S' });
    expect(ok.status).toBe(201);
    expect(ok.text).toContain('Bound <code>805ec0000010</code>');
    expect(ok.text).not.toContain(codes.form);
  });
});

describe('what an admin sees afterwards', () => {
  it('deskset devices: a STATE column with the lifecycle, placeholders no phone holds as rows', async () => {
    const r = await runCli(['devices', h.root.dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ mac: string; state: string; placeholder?: string; configured: boolean }>;
    const by = (mac: string) => rows.find((x) => x.mac === mac);
    expect(by('c81fea000001')).toMatchObject({ state: 'enrolled', configured: true });
    expect(by('c81fea000002')).toMatchObject({ state: 'enrolled', configured: true });
    // The four placeholders are all bound now but none is adopted: no placeholder rows, no code out.
    expect(rows.filter((x) => x.placeholder !== undefined)).toEqual([]);
    const table = await runCli(['devices', h.root.dir, '--where', 'state=enrolled']);
    expect(table.stdout).toMatch(/^MAC +RESULT +STATE +MODEL/);
    expect(table.stdout.split('\n').filter((l) => / enrolled /.test(l)).length).toBeGreaterThanOrEqual(4);
  });

  it('a placeholder with a code out reads code-issued, one without placeholder, in the CLI and the API', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(h.root.file('profiles/devices/placeholders/BAT-later.yaml'), 'model: J179\n');
    await writeFile(h.root.file('profiles/devices/placeholders/BAT-spare.yaml'), 'model: J179\n');
    await issue('--placeholder', 'BAT-later');
    const r = await runCli(['devices', h.root.dir, '--json']);
    const rows = JSON.parse(r.stdout) as Array<{ state: string; placeholder?: string }>;
    expect(rows.filter((x) => x.placeholder).map((x) => [x.placeholder, x.state])).toEqual([
      ['BAT-later', 'code-issued'],
      ['BAT-spare', 'placeholder'],
    ]);
    await h.running.reload();
    const api = await call(h, 'GET', '/api/v1/devices?limit=1000', { auth: ADMIN });
    expect(api.status).toBe(200);
    const items = api.json().items as Array<{ mac: string | null; state: string | null; placeholder?: string }>;
    expect(items.find((x) => x.placeholder === 'BAT-later')).toMatchObject({ mac: null, state: 'code-issued' });
    expect(items.find((x) => x.mac === 'c81fea000001')?.state).toBe('enrolled');
    const one = await call(h, 'GET', '/api/v1/devices/c81fea000001', { auth: ADMIN });
    expect(one.json().state).toBe('enrolled');
  });

  it('check warns, with the file, when a device file shadows a binding', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(h.root.file('profiles/devices/c81fea000002.yaml'), 'model: J179\n');
    const r = await runCli(['check', h.root.dir]);
    expect(r.stdout).toMatch(/profiles\/devices\/c81fea000002\.yaml:1:1: warning BINDING_SHADOWED|BINDING_SHADOWED[\s\S]*c81fea000002\.yaml/);
  });

  it('no code reaches the audit log, the server log or the CLI output', async () => {
    const audit = await call(h, 'GET', '/api/v1/audit?limit=1000', { auth: ADMIN });
    const text = [audit.text, h.logLines.join('\n'), (await runCli(['devices', h.root.dir, '--json'])).stdout].join('\n');
    expect(audit.json().items.some((e: { action: string; result: string }) => e.action === 'code.redeem' && e.result === 'refused')).toBe(true);
    expect(audit.json().items.some((e: { action: string }) => e.action === 'code.lock')).toBe(true);
    for (const c of Object.values(codes)) expect(text).not.toContain(c);
  });
});
