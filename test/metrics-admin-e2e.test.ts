// /metrics on the admin listener, end to end: guarded by the admin users (or open with
// `admin.metrics: public`), never on the phones' port, and scraped before and after a small
// boot storm of real phone requests, whose every request it counts exactly once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/security/password.js';
import { startServer, type RunningServer } from '../src/server.js';
import { basic, get, memoryLog } from './helpers/e2e-http.js';
import { makeTmpRoot, type TmpRoot, SAMPLE_DEVICES } from './helpers/tmp-root.js';

const J179_UA = 'Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a)';

/** `name{labels}` -> value, for deskset_ samples. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('deskset_')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
const sum = (s: Map<string, number>, prefix: string) => [...s].filter(([k]) => k === prefix || k.startsWith(`${prefix}{`)).reduce((a, [, v]) => a + v, 0);

/** A copy of samples/ with `adminYaml` appended to deskset.yaml. */
const rootWith = (adminYaml: string) => makeTmpRoot({ 'deskset.yaml': (old) => `${old}\n${adminYaml}` });
const serveWithAdmin = (root: TmpRoot) => startServer({ root: root.dir, host: '127.0.0.1', port: 0, watch: false, admin: { host: '127.0.0.1', port: 0 }, log: memoryLog().log });

describe('/metrics behind the admin users (the default)', () => {
  let root: TmpRoot;
  let server: RunningServer;
  const PROM = basic('prometheus', 'scrape-me-1');
  beforeAll(async () => {
    const hash = await hashPassword('scrape-me-1');
    root = await rootWith(`admin:\n  users:\n    prometheus: {password: "${hash}", role: viewer}\n`);
    server = await serveWithAdmin(root);
  });
  afterAll(async () => {
    await server?.close();
    await root?.cleanup();
  });

  it('refuses a scrape without credentials or with wrong ones, and is not on the phones port', async () => {
    const admin = server.admin!.url;
    expect((await get(admin, '/metrics')).status).toBe(401);
    expect((await get(admin, '/metrics', { headers: basic('prometheus', 'wrong') })).status).toBe(401);
    expect((await get(server.url, '/metrics')).status).toBe(404);
  });

  it('counts every request of a boot storm exactly once, by vendor, kind and status', async () => {
    const admin = server.admin!.url;
    const before = await get(admin, '/metrics', { headers: PROM });
    expect(before.status).toBe(200);
    expect(before.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(before.headers['cache-control']).toBe('no-store');
    const b = samples(before.text);

    // 40 phones of each known kind booting at once, each asking for its boot files.
    const paths: Array<[string, Record<string, string>]> = [];
    for (let i = 0; i < 40; i++) {
      paths.push(['/J100Supgrade.txt', { 'user-agent': J179_UA }], ['/46xxsettings.txt', { 'user-agent': J179_UA }], ['/c81fea83e85a.txt', { 'user-agent': J179_UA }]);
    }
    // Ten phones nobody configured: refused, but fewer than the cool-down needs (one address).
    for (let i = 0; i < 10; i++) paths.push([`/0004f2${String(i).padStart(6, '0')}.cfg`, {}]);
    const statuses = await Promise.all(paths.map(([p, headers]) => get(server.url, p, { headers }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200).length).toBe(120);

    const after = samples((await get(admin, '/metrics', { headers: PROM })).text);
    expect(sum(after, 'deskset_requests_total') - sum(b, 'deskset_requests_total')).toBe(paths.length);
    expect(sum(after, 'deskset_request_duration_seconds_count') - sum(b, 'deskset_request_duration_seconds_count')).toBe(paths.length);
    // The User-Agent names the J179's MAC, so all three of its boot files are its own (device) files.
    expect(after.get('deskset_request_duration_seconds_count{kind="device"}')! - (b.get('deskset_request_duration_seconds_count{kind="device"}') ?? 0)).toBe(120);
    const okAvaya = (s: Map<string, number>) => sum(new Map([...s].filter(([k]) => k.startsWith('deskset_requests_total{vendor="avaya"') && k.endsWith('status="200"}'))), 'deskset_requests_total');
    expect(okAvaya(after) - okAvaya(b)).toBe(120);
    const refused = statuses.filter((s) => s !== 200).length;
    expect(sum(after, 'deskset_requests_total') - okAvaya(after) - (sum(b, 'deskset_requests_total') - okAvaya(b))).toBe(refused);
    expect(after.get('deskset_render_cache_hits_total')! - (b.get('deskset_render_cache_hits_total') ?? 0)).toBeGreaterThanOrEqual(100);
    expect(refused).toBe(10);
    expect(after.get('deskset_enumeration_cooldowns_total')).toBe(0);
    expect(after.get('deskset_snapshot_devices')).toBe(SAMPLE_DEVICES);
    expect(after.get(`deskset_snapshot_info{id="${server.provisioner.current().id}"}`)).toBe(1);
    // Scrapes are not phone requests: the admin listener's own calls are not counted.
    expect([...after.keys()].filter((k) => k.includes('kind="operator"'))).toEqual([]);
  });

  it('shows the inventory once a source is wired', async () => {
    server.metrics.setInventorySource(async () => ({ ok: 5, failing: 2, stale: 0, never: 0, unknown: 0 }));
    const s = samples((await get(server.admin!.url, '/metrics', { headers: PROM })).text);
    expect(s.get('deskset_inventory_devices{result="failing"}')).toBe(2);
    expect(s.get('deskset_inventory_devices{result="ok"}')).toBe(5);
  });
});

describe('/metrics with admin.metrics: public', () => {
  let root: TmpRoot;
  let server: RunningServer;
  beforeAll(async () => {
    root = await rootWith('admin:\n  metrics: public\n');
    server = await serveWithAdmin(root);
  });
  afterAll(async () => {
    await server?.close();
    await root?.cleanup();
  });

  it('answers a scraper without a login, and only /metrics: the API still asks for one', async () => {
    const r = await get(server.admin!.url, '/metrics');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^# TYPE deskset_requests_total counter$/m);
    expect(r.text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect((await get(server.admin!.url, '/api/v1/status')).status).toBe(401);
  });

  it('is refused by the config check when misspelled', async () => {
    const bad = await rootWith('admin:\n  metrics: open\n');
    try {
      await expect(serveWithAdmin(bad)).rejects.toThrow(/metrics/);
    } finally {
      await bad.cleanup();
    }
  });
});
