// The OpenAPI document at /api/v1/openapi.json against the real API: every documented route is
// called on a real server, and every answer (successes and problems) must match the status,
// media type and schema the document gives for it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI } from '../src/admin/openapi.js';
import { ADMIN, VIEWER, call, startAdminHarness, type AdminHarness, type Auth } from './helpers/admin.js';
import { validate } from './helpers/json-schema.js';

const POLY = '0004f2a1b2c3';
type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>> };

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness();
  // One phone the inventory has seen, so device answers carry inventory fields and files.
  const at = new Date().toISOString();
  await h.store.recordObservations([{ mac: POLY, at, configured: true, vendor: 'polycom', model: 'VVX450', firmware: '6.4.3', ip: '10.0.0.7', file: { name: `${POLY}.cfg`, fileId: 'master', status: 200, bytes: 400, etag: '"x"', at } }, { mac: '0004f2eeeeee', at, configured: false, vendor: 'polycom' }], { judge: () => 'ok', maxUnknown: 10 });
}, 60_000);
afterAll(() => h?.close());

// [documented path, method, request target, auth, body?, content type?, expected status]
const CALLS: Array<[string, string, string, Auth, string | undefined, string | undefined, number]> = [
  ['/openapi.json', 'get', '/api/v1/openapi.json', undefined, undefined, undefined, 200],
  ['/status', 'get', '/api/v1/status', VIEWER, undefined, undefined, 200],
  ['/status', 'get', '/api/v1/status', undefined, undefined, undefined, 401],
  ['/status', 'get', '/api/v1/status?x=1', VIEWER, undefined, undefined, 400],
  ['/snapshot', 'get', '/api/v1/snapshot', VIEWER, undefined, undefined, 200],
  ['/devices', 'get', '/api/v1/devices', VIEWER, undefined, undefined, 200],
  ['/devices', 'get', `/api/v1/devices?where=${encodeURIComponent('vendor=polycom or model*=T4')}&limit=3&offset=1`, VIEWER, undefined, undefined, 200],
  ['/devices', 'get', '/api/v1/devices?stale=3d&unknown=true&never=false', VIEWER, undefined, undefined, 200],
  ['/devices', 'get', '/api/v1/devices?where=bogus', VIEWER, undefined, undefined, 400],
  ['/devices/{mac}', 'get', `/api/v1/devices/${POLY}`, VIEWER, undefined, undefined, 200],
  ['/devices/{mac}', 'get', '/api/v1/devices/0004f2eeeeee', VIEWER, undefined, undefined, 200],
  ['/devices/{mac}', 'get', '/api/v1/devices/0004f2000000', VIEWER, undefined, undefined, 404],
  ['/devices/{mac}', 'get', '/api/v1/devices/zz', VIEWER, undefined, undefined, 400],
  ['/devices/{mac}/files/{name}', 'get', `/api/v1/devices/${POLY}/files/${POLY}.cfg`, VIEWER, undefined, undefined, 200],
  ['/devices/{mac}/files/{name}', 'get', `/api/v1/devices/${POLY}/files/${POLY}-settings.cfg?secrets=show`, ADMIN, undefined, undefined, 200],
  ['/devices/{mac}/files/{name}', 'get', `/api/v1/devices/${POLY}/files/${POLY}-settings.cfg?secrets=show`, VIEWER, undefined, undefined, 403],
  ['/devices/{mac}/files/{name}', 'get', `/api/v1/devices/${POLY}/files/nope.cfg`, VIEWER, undefined, undefined, 404],
  ['/audit', 'get', '/api/v1/audit?limit=5', ADMIN, undefined, undefined, 200],
  ['/audit', 'get', '/api/v1/audit', VIEWER, undefined, undefined, 403],
  ['/devices/import', 'post', '/api/v1/devices/import', ADMIN, 'mac_address,model\n0004f2000001,VVX450\n', 'text/csv', 200],
  ['/devices/import', 'post', '/api/v1/devices/import', ADMIN, 'mac_address,model\nnot-a-mac,VVX450\n', 'text/csv', 422],
  ['/devices/import', 'post', '/api/v1/devices/import', ADMIN, '{bad', 'application/json', 400],
  ['/devices/import', 'post', '/api/v1/devices/import', ADMIN, 'x', 'application/xml', 415],
  ['/devices/import', 'post', '/api/v1/devices/import', VIEWER, 'x', 'text/csv', 403],
  ['/devices/export.csv', 'get', '/api/v1/devices/export.csv', VIEWER, undefined, undefined, 200],
  // Enrollment is off on this server; test/enroll-api.test.ts checks 201, 403 and 429 against the document.
  ['/enroll', 'post', '/api/v1/enroll', undefined, JSON.stringify({ code: '12345678', mac: POLY, model: 'VVX450' }), 'application/json', 404],
  ['/enroll', 'post', '/api/v1/enroll', undefined, '{bad', 'application/json', 400],
  ['/enroll', 'post', '/api/v1/enroll', undefined, 'code=1', 'text/plain', 415],
];

describe('OpenAPI 3.1 document', () => {
  it('is served without credentials and is the document in src/admin/openapi.ts', async () => {
    const r = await call(h, 'GET', '/api/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual(JSON.parse(JSON.stringify(OPENAPI)));
    expect(r.json().openapi).toBe('3.1.0');
  });

  it('every documented route and method is exercised below', () => {
    const documented = Object.entries((OPENAPI as unknown as Doc).paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    const called = new Set(CALLS.map(([p, m]) => `${m} ${p}`));
    expect(documented.filter((d) => !called.has(d))).toEqual([]);
  });

  for (const [path, method, target, auth, body, type, status] of CALLS) {
    it(`${method.toUpperCase()} ${target.slice(0, 90)} → ${status}, as documented`, async () => {
      const r = await call(h, method.toUpperCase(), target, { auth, body, headers: type ? { 'Content-Type': type } : {} });
      expect(r.status).toBe(status);
      const op = (OPENAPI as unknown as Doc).paths[path]![method]!;
      const documented = op.responses[String(status)];
      expect(documented, `status ${status} is not documented for ${method} ${path}`).toBeDefined();
      const mediaType = String(r.headers['content-type']).split(';')[0]!;
      const content = documented!.content ?? {};
      const entry = content[mediaType] ?? content['*/*'];
      expect(entry, `${mediaType} is not documented for ${status} of ${method} ${path} (documented: ${Object.keys(content).join(', ')})`).toBeDefined();
      if (mediaType.endsWith('json')) {
        const errors = validate(r.json(), entry!.schema, OPENAPI as unknown as Record<string, unknown>);
        expect(errors).toEqual([]);
      }
    });
  }
});

describe('the schema checker itself can fail', () => {
  const root = OPENAPI as unknown as Record<string, unknown>;
  it('finds a missing field, a wrong type, an unexpected property and a bad enum', () => {
    const ref = { $ref: '#/components/schemas/Problem' };
    expect(validate({ type: 'x', title: 't', status: 400 }, ref, root).join('\n')).toMatch(/missing required "detail"[\s\S]*is not one of/);
    expect(validate({ type: 'https://deskset.dev/problems/internal', title: 't', status: '500', detail: 'd' }, ref, root).join()).toMatch(/expected integer/);
    expect(validate({ type: 'https://deskset.dev/problems/internal', title: 't', status: 500, detail: 'd', stack: 'at x' }, ref, root).join()).toMatch(/unexpected property "stack"/);
    expect(validate({ total: 1, limit: 1, offset: 0, items: [{ mac: 'XYZ' }] }, { $ref: '#/components/schemas/DevicePage' }, root).join()).toMatch(/does not match/);
  });
});
