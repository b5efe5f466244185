// The admin listener's wiring: HTTPS when the server has a certificate, the mount() seam for
// /metrics and a dashboard, off unless asked, and `state: off` (no store: audit to the log).

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Router } from '@koa/router';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdminAppState } from '../src/admin/app.js';
import { ADMIN, VIEWER, call, startAdminHarness, type AdminHarness } from './helpers/admin.js';
import { serveRoot } from './helpers/serve-root.js';
import { SAMPLES } from './helpers/tmp-root.js';

const open: AdminHarness[] = [];
afterAll(async () => {
  for (const h of open) await h.close();
});

describe('admin listener', () => {
  it('is not started by startServer unless asked (tests and embedders do not all bind 9090)', async () => {
    const running = await serveRoot(SAMPLES);
    try {
      expect(running.admin).toBeUndefined();
    } finally {
      await running.close();
    }
  });

  it('serves HTTPS with the server certificate when TLS is on', async () => {
    const h = await startAdminHarness({ devTls: true });
    open.push(h);
    expect(h.running.admin!.url).toMatch(/^https:\/\/localhost:\d+$/);
    const ca = readFileSync(h.running.https!.devCertPath!);
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', servername: 'localhost', port: h.running.admin!.port, path: '/api/v1/status', ca, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).ok).toBe(true);
    // Plain HTTP on the admin port gets no answer from the API.
    await expect(call(h, 'GET', '/api/v1/status', { auth: ADMIN })).rejects.toThrow();
  });

  it('mount(): routes beside /api/v1, public or behind a role, audited unless asked not to be', async () => {
    const h = await startAdminHarness();
    open.push(h);
    const probe = new Router<AdminAppState>();
    probe.get('/probe', (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = 'deskset_up 1\n';
    });
    h.running.admin!.mount(probe, { access: 'public', audit: false });
    const dash = new Router<AdminAppState>();
    dash.get('/dashboard', (ctx) => {
      ctx.body = { hello: ctx.state.principal?.name };
    });
    h.running.admin!.mount(dash, { access: 'admin' });

    const m = await call(h, 'GET', '/probe');
    expect(m.status).toBe(200);
    expect(m.text).toBe('deskset_up 1\n');
    expect((await call(h, 'GET', '/dashboard')).status).toBe(401);
    expect((await call(h, 'GET', '/dashboard', { auth: VIEWER })).status).toBe(403);
    const d = await call(h, 'GET', '/dashboard', { auth: ADMIN });
    expect(d.json()).toEqual({ hello: ADMIN.user });
    const audit = await h.store.listAudit({ limit: 100 });
    const actions = audit.items.map((e) => `${e.actor} ${e.action} ${e.result}`);
    expect(actions).toContain(`${ADMIN.user} GET /dashboard ok`);
    expect(actions.filter((a) => a.includes('/probe'))).toEqual([]);
  });

  it('state: off: Basic users still work, the lockout still holds, audit lines go to the server log', async () => {
    const h = await startAdminHarness({ extraYaml: 'state: "off"\n' });
    open.push(h);
    expect((await call(h, 'GET', '/api/v1/status', { auth: VIEWER })).json().inventory).toBe(false);
    const none = await call(h, 'GET', '/api/v1/audit', { auth: ADMIN });
    expect(none.status).toBe(501);
    const from = '127.0.0.7';
    for (let i = 0; i < 3; i++) await call(h, 'GET', '/api/v1/status', { auth: { user: VIEWER.user, password: 'no' }, from });
    expect((await call(h, 'GET', '/api/v1/status', { auth: VIEWER, from })).status).toBe(429);
    const lines = h.logLines.filter((l) => l.includes('"event":"admin_audit"')).map((l) => JSON.parse(l));
    expect(lines.some((l) => l.actor === VIEWER.user && l.action === 'GET /api/v1/status' && l.result === 'ok')).toBe(true);
    expect(lines.some((l) => l.source === from && l.result === 'denied')).toBe(true);
  });
});
