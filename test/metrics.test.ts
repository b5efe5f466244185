// Prometheus metrics: the bounded label mapping and bucket arithmetic as tables, the exposition
// text of a registry fed by hand, and a real server scraped around real requests: counts move
// where they should, and 1,000 distinct MACs add no series.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketHistogram } from '../src/metrics/accumulators.js';
import { KINDS, kindIndex, statusLabel, statusSlot, vendorLabel } from '../src/metrics/labels.js';
import { Metrics } from '../src/metrics/index.js';
import type { RunningServer } from '../src/server.js';
import { hashPassword } from '../src/security/password.js';
import { parseRootConfig } from '../src/config/root-config.js';
import { serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot, SAMPLE_DEVICES } from './helpers/tmp-root.js';

/** Sample lines (`name{labels} value`) of the deskset_ metrics, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('deskset_')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('labels are bounded', () => {
  it.each([
    ['device', 0],
    ['shared', KINDS.indexOf('shared')],
    ['firmware', KINDS.indexOf('firmware')],
    [undefined, KINDS.indexOf('none')],
    ['constructor', KINDS.indexOf('none')],
    ['../../etc/passwd', KINDS.indexOf('none')],
  ])('kind %j -> index %i', (kind, i) => {
    expect(kindIndex(kind)).toBe(i);
  });

  it.each([
    [200, '200'],
    [429, '429'],
    [599, '599'],
    [100, '100'],
    [99, 'other'],
    [600, 'other'],
    [200.5, 'other'],
    [Number.NaN, 'other'],
  ])('status %d -> %s', (status, label) => {
    expect(statusLabel(statusSlot(status))).toBe(label);
  });

  it('names a vendor nobody could tell "unknown"', () => {
    expect([vendorLabel(undefined), vendorLabel(''), vendorLabel('avaya')]).toEqual(['unknown', 'unknown', 'avaya']);
  });
});

describe('BucketHistogram', () => {
  it('counts each value in the first bucket that holds it, cumulatively, with +Inf, sum and count', () => {
    const h = new BucketHistogram([0.1, 1], 2);
    for (const v of [0.05, 0.1, 0.5, 7]) h.observe(1, v);
    expect(h.values('x', (s) => ({ s }))).toEqual([
      { metricName: 'x_bucket', labels: { s: 1, le: 0.1 }, value: 2 },
      { metricName: 'x_bucket', labels: { s: 1, le: 1 }, value: 3 },
      { metricName: 'x_bucket', labels: { s: 1, le: '+Inf' }, value: 4 },
      { metricName: 'x_sum', labels: { s: 1 }, value: 7.65 },
      { metricName: 'x_count', labels: { s: 1 }, value: 4 },
    ]);
    expect(h.count(0)).toBe(0);
  });
});

describe('Metrics exposition', () => {
  it('writes what was recorded, in Prometheus text format', async () => {
    let now = 1_700_000_000_000;
    const loadedAt = new Date(now - 90_000);
    const m = new Metrics({ process: false, now: () => now });
    m.wire({ snapshot: () => ({ id: 'abc123', loadedAt, devices: 7 }), healthy: () => false, guard: () => ({ coolingDown: 2, locked: 1 }), cachedFiles: () => 5 });
    m.recordRequest('avaya', 'device', 200, 0.7);
    m.recordRequest('avaya', 'device', 200, 3);
    m.recordRequest(undefined, undefined, 404, 0.2);
    m.recordRequest('yealink', 'firmware', 206, 40);
    m.recordCacheHit();
    m.recordRender('polycom', 2, true);
    m.recordRender('polycom', 2, false);
    m.recordReload('rejected', 1200);
    now += 30_000;
    m.recordGuardEvent('mac_enumeration');
    m.recordGuardEvent('auth_failed');
    m.recordGuardEvent('device_locked');
    m.recordBlocked();
    m.recordUpload(201, 1000);
    m.recordUpload(204, 24);
    m.recordUpload(413, undefined);
    m.setInventorySource(async () => ({ ok: 6, auth_failed: 1 }));
    const text = await m.text();
    const s = samples(text);
    expect(text).toContain('# TYPE deskset_requests_total counter');
    expect(text).toContain('# TYPE deskset_request_duration_seconds histogram');
    expect(s.get('deskset_requests_total{vendor="avaya",kind="device",status="200"}')).toBe(2);
    expect(s.get('deskset_requests_total{vendor="unknown",kind="none",status="404"}')).toBe(1);
    expect(s.get('deskset_requests_total{vendor="yealink",kind="firmware",status="206"}')).toBe(1);
    expect(s.get('deskset_request_duration_seconds_bucket{kind="device",le="0.001"}')).toBe(1);
    expect(s.get('deskset_request_duration_seconds_bucket{kind="device",le="0.005"}')).toBe(2);
    expect(s.get('deskset_request_duration_seconds_count{kind="device"}')).toBe(2);
    expect(s.get('deskset_request_duration_seconds_sum{kind="device"}')).toBeCloseTo(0.0037, 6);
    expect(s.get('deskset_render_cache_hits_total')).toBe(1);
    expect(s.get('deskset_render_cache_misses_total')).toBe(2);
    expect(s.get('deskset_render_failures_total')).toBe(1);
    expect(s.get('deskset_render_duration_seconds_count{vendor="polycom"}')).toBe(2);
    expect(s.get('deskset_render_cache_files')).toBe(5);
    expect(s.get('deskset_snapshot_info{id="abc123"}')).toBe(1);
    expect(s.get('deskset_snapshot_devices')).toBe(7);
    expect(s.get('deskset_snapshot_age_seconds')).toBe(120);
    expect(s.get('deskset_snapshot_behind_seconds')).toBe(30);
    expect(s.get('deskset_config_healthy')).toBe(0);
    expect(s.get('deskset_reloads_total{result="rejected"}')).toBe(1);
    expect(s.get('deskset_reloads_total{result="accepted"}')).toBe(0);
    expect(s.get('deskset_reload_duration_seconds_bucket{result="rejected",le="2.5"}')).toBe(1);
    expect(s.get('deskset_reload_duration_seconds_bucket{result="rejected",le="1"}')).toBe(0);
    expect(s.get('deskset_enumeration_cooldowns_total')).toBe(1);
    expect(s.get('deskset_auth_failures_total')).toBe(2);
    expect(s.get('deskset_device_lockouts_total')).toBe(1);
    expect(s.get('deskset_enumeration_blocked_requests_total')).toBe(1);
    expect(s.get('deskset_enumeration_clients_cooling_down')).toBe(2);
    expect(s.get('deskset_devices_locked')).toBe(1);
    expect(s.get('deskset_uploads_total')).toBe(2);
    expect(s.get('deskset_upload_bytes_total')).toBe(1024);
    expect(s.get('deskset_upload_rejections_total{status="413"}')).toBe(1);
    expect(s.get('deskset_inventory_devices{result="ok"}')).toBe(6);
    expect(s.get('deskset_inventory_devices{result="auth_failed"}')).toBe(1);

    // An accepted reload: no longer behind, healthy timestamps move.
    m.recordReload('accepted', 40);
    const after = samples(await m.text());
    expect(after.get('deskset_snapshot_behind_seconds')).toBe(0);
    expect(after.get('deskset_reload_last_success_timestamp_seconds')).toBe(now / 1000);
  });

  it('has no series for what is not wired, and process metrics unless asked not to', async () => {
    const bare = await new Metrics({ process: false }).text();
    expect(bare).not.toMatch(/^deskset_snapshot_info/m);
    expect(bare).not.toMatch(/^deskset_inventory_devices/m);
    expect(bare).not.toMatch(/^process_/m);
    expect(await new Metrics().text()).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('survives an inventory that fails or hangs: no series, an error counted, the rest scraped', async () => {
    const m = new Metrics({ process: false });
    m.setInventorySource(async () => {
      throw new Error('database gone');
    });
    let s = samples(await m.text());
    expect([...s.keys()].some((k) => k.startsWith('deskset_inventory_devices'))).toBe(false);
    expect(s.get('deskset_inventory_errors_total')).toBe(1);
    m.setInventorySource(() => new Promise(() => undefined));
    const started = Date.now();
    s = samples(await m.text());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(s.get('deskset_inventory_errors_total')).toBe(2);
    expect(s.get('deskset_reloads_total{result="accepted"}')).toBe(0);
  });

  it('caps the vendors a hostile manifest set could add', async () => {
    const m = new Metrics({ process: false });
    for (let i = 0; i < 100; i++) m.recordRequest(`v${i}`, 'device', 200, 1);
    const series = [...samples(await m.text()).keys()].filter((k) => k.startsWith('deskset_requests_total'));
    expect(series.length).toBe(33);
    expect(series).toContain('deskset_requests_total{vendor="other",kind="device",status="200"}');
  });
});

describe('a real server, scraped around real requests', () => {
  let root: TmpRoot;
  let server: RunningServer;
  beforeAll(async () => {
    root = await makeTmpRoot();
    server = await serveRoot(root.dir);
  });
  afterAll(async () => {
    await server?.close();
    await root?.cleanup();
  });

  const ask = async (paths: string[], headers: Record<string, string> = {}) => {
    const statuses: number[] = [];
    for (let i = 0; i < paths.length; i += 25) {
      const batch = await Promise.all(paths.slice(i, i + 25).map((p) => fetch(`${server.url}${p}`, { headers }).then(async (r) => (await r.arrayBuffer(), r.status))));
      statuses.push(...batch);
    }
    return statuses;
  };
  const macs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `/0004f2${(from + i).toString(16).padStart(6, '0')}.cfg`);
  const deskset = (text: string) => [...samples(text).keys()];

  it('counts device files, cache hits and renders by vendor and kind', async () => {
    const before = samples(await server.metrics.text());
    const statuses = await ask(['/c81fea83e85a.txt', '/c81fea83e85a.txt', '/c81fea83e85a.txt']);
    expect(statuses).toEqual([200, 200, 200]);
    const after = samples(await server.metrics.text());
    const key = 'deskset_requests_total{vendor="avaya",kind="device",status="200"}';
    expect((after.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(3);
    expect((after.get('deskset_render_cache_hits_total') ?? 0) - (before.get('deskset_render_cache_hits_total') ?? 0)).toBeGreaterThanOrEqual(2);
    expect(after.get('deskset_snapshot_devices')).toBe(SAMPLE_DEVICES);
    expect(after.get('deskset_config_healthy')).toBe(1);
  });

  // Before the MAC scan below: it cools this client down.
  it('counts an accepted upload with its bytes, and a refused one by status', async () => {
    const before = samples(await server.metrics.text());
    const put = (p: string, body: string) => fetch(`${server.url}${p}`, { method: 'PUT', body }).then(async (r) => (await r.arrayBuffer(), r.status));
    expect([201, 204]).toContain(await put('/0004f2a1b2c3-app.log', 'x'.repeat(100)));
    const refused = await put('/0004f2a1b2c3-not-an-upload.bin', 'y');
    expect(refused).toBeGreaterThanOrEqual(400);
    const after = samples(await server.metrics.text());
    const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    expect(d('deskset_uploads_total')).toBe(1);
    expect(d('deskset_upload_bytes_total')).toBe(100);
    expect(d(`deskset_upload_rejections_total{status="${refused}"}`)).toBe(1);
    expect(d('deskset_requests_total{vendor="unknown",kind="upload",status="201"}') + d('deskset_requests_total{vendor="unknown",kind="upload",status="204"}')).toBe(1);
  });

  it('adds no series for 1,000 more distinct MACs, and never names a MAC or a path', async () => {
    // Judging the phones earlier tests fetched renders their boot files (a render series per
    // vendor) whenever the inventory flushes: done before anything is counted.
    await server.inventory?.flush();
    await server.inventory?.flush();
    // The first wave finds every status a scan can meet (404 or 401, then 429 once cooled down).
    await ask(macs(0, 1000));
    const first = await server.metrics.text();
    const series = deskset(first);
    await ask(macs(1000, 1000));
    const second = await server.metrics.text();
    expect(deskset(second)).toEqual(series);
    const s = samples(second);
    expect(s.get('deskset_enumeration_cooldowns_total')).toBeGreaterThanOrEqual(1);
    expect(s.get('deskset_enumeration_blocked_requests_total')).toBeGreaterThanOrEqual(1000);
    expect(s.get('deskset_requests_total{vendor="unknown",kind="none",status="429"}')).toBeGreaterThanOrEqual(1000);
    expect(second).not.toMatch(/0004f2/i);
    expect(second).not.toContain('.cfg');
  });

  it('counts a reload on request', async () => {
    await server.reload();
    const s = samples(await server.metrics.text());
    expect(s.get('deskset_reloads_total{result="accepted"}')).toBe(1);
    expect(s.get('deskset_reload_duration_seconds_count{result="accepted"}')).toBe(1);
    expect(s.get('deskset_snapshot_behind_seconds')).toBe(0);
  });
});

describe('refusals keep the vendor and kind of the file they refused', () => {
  let root: TmpRoot;
  let server: RunningServer;
  beforeAll(async () => {
    const hash = await hashPassword('Metrics-Auth-1');
    root = await makeTmpRoot({ 'profiles/global.yaml': (old) => `${old}\nauth:\n  user: prov\n  password: "${hash}"\n` });
    server = await serveRoot(root.dir);
  });
  afterAll(async () => {
    await server?.close();
    await root?.cleanup();
  });

  it('counts a 401 for a known Avaya phone as avaya/device, so "phones refused" alerts can see it', async () => {
    const r = await fetch(`${server.url}/c81fea83e85a.txt`);
    expect(r.status).toBe(401);
    const ok = await fetch(`${server.url}/c81fea83e85a.txt`, { headers: { authorization: `Basic ${Buffer.from('prov:Metrics-Auth-1').toString('base64')}` } });
    expect(ok.status).toBe(200);
    const s = samples(await server.metrics.text());
    expect(s.get('deskset_requests_total{vendor="avaya",kind="device",status="401"}')).toBe(1);
    expect(s.get('deskset_requests_total{vendor="avaya",kind="device",status="200"}')).toBe(1);
  });
});

describe('admin.metrics in deskset.yaml', () => {
  it.each([
    ['', 'users', []],
    ['admin:\n  metrics: users\n', 'users', []],
    ['admin:\n  metrics: public\n', 'public', []],
    ['admin:\n  listen: 127.0.0.1:9100\n  metrics: public\n', 'public', []],
    ['admin:\n  listen: 0.0.0.0:9090\n  metrics: public\n', 'public', ['deskset.yaml:3:12: warning CONFIG']],
  ])('%j -> %s', (yaml, access, found) => {
    const r = parseRootConfig(yaml);
    expect(r.config.admin.metrics).toBe(access);
    expect(r.diagnostics.map((d) => `${d.loc?.file}:${d.loc?.line}:${d.loc?.col}: ${d.severity} ${d.code}`)).toEqual(found);
  });

  it('refuses anything else at its line', () => {
    const r = parseRootConfig('admin:\n  metrics: open\n');
    expect(r.diagnostics.some((d) => d.severity === 'error' && d.loc?.line === 2 && /metrics/.test(`${d.message}`))).toBe(true);
  });
});
