// The behaviour every StateStore must have, written once and run against each store by
// test/store-<kind>.test.ts (the way Hono runs one router suite over each router). Not
// named *.test.ts so vitest does not run it on its own.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceRow, StoreError, type DeviceRecord, type Judge, type Observation, type StateStore } from '../src/store/contract.js';
import { LATEST_VERSION } from '../src/store/migrations/index.js';
import { matches, parseWhere } from '../src/store/where.js';

export interface FreshStore {
  store: StateStore;
  /** Open the same database again (runs migrations again). */
  reopen: () => Promise<StateStore>;
  /** Raw SQL on the same database, for tests that tamper with it. */
  exec: (sql: string) => Promise<void>;
}

/** An empty database each call; `stateDir` for the file-import migration. */
export type OpenFresh = (opts?: { stateDir?: string }) => Promise<FreshStore>;

const T0 = Date.parse('2026-12-01T08:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const MAC = (i: number) => `0004f2${i.toString(16).padStart(6, '0')}`;

/** A judge that says `ok` once both files were fetched with 200, `failing` on any 4xx/5xx. */
const judge: Judge = (d) => {
  if (!d.configured) return 'unknown';
  if (d.files.some((f) => f.status >= 400)) return 'failing';
  const names = new Set(d.files.filter((f) => f.status < 400).map((f) => f.fileId));
  return names.has('master') && names.has('settings') ? 'ok' : 'stale';
};
const rec = { judge, maxUnknown: 100 };

function fetchOf(mac: string, s: number, file: string, extra: Partial<Observation> = {}, status = 200): Observation {
  return { mac, at: at(s), configured: true, vendor: 'polycom', model: 'VVX450', firmware: '6.4.6', ip: '10.0.0.1', file: { name: `${mac}${file === 'master' ? '' : '-settings'}.cfg`, fileId: file, status, bytes: 100, etag: `"e-${file}"`, at: at(s) }, ...extra };
}

export function runStoreContract(name: string, openFresh: OpenFresh | undefined, skipWhy = ''): void {
  describe.skipIf(!openFresh)(`StateStore contract: ${name}${skipWhy}`, () => {
    const open = openFresh!;
    const closing: StateStore[] = [];
    const dirs: string[] = [];
    const fresh = async (o?: { stateDir?: string }) => {
      const f = await open(o);
      closing.push(f.store);
      return f;
    };
    afterAll(async () => {
      for (const s of closing) await s.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const tmp = () => {
      const d = mkdtempSync(path.join(os.tmpdir(), 'deskset-store-'));
      dirs.push(d);
      return d;
    };

    describe('migrations', () => {
      it('brings a new database to the latest version, and a second open changes nothing', async () => {
        const f = await fresh();
        expect(await f.store.schemaVersion()).toBe(LATEST_VERSION);
        const again = await f.reopen();
        closing.push(again);
        expect(await again.schemaVersion()).toBe(LATEST_VERSION);
      });

      it('refuses a database migrated by a newer deskset, with a message that says so', async () => {
        const f = await fresh();
        await f.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${LATEST_VERSION + 1}, 'from the future', '2030-01-01T00:00:00Z')`);
        const err = await f.reopen().then(
          (s) => (closing.push(s), undefined),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StoreError);
        expect((err as StoreError).code).toBe('NEWER_SCHEMA');
        expect((err as Error).message).toMatch(new RegExp(`version ${LATEST_VERSION + 1}.*up to ${LATEST_VERSION}.*newer deskset`));
      });

      it('imports an old tokens.json once and keeps it as tokens.json.imported', async () => {
        const dir = tmp();
        const hash = 'a'.repeat(64);
        writeFileSync(path.join(dir, 'tokens.json'), JSON.stringify({ version: 1, tokens: { [hash]: { mac: '00:04:F2:AA:BB:CC', issuedAt: '2026-01-02T03:04:05.000Z' } } }));
        const f = await fresh({ stateDir: dir });
        expect(await f.store.listUrlTokens()).toEqual([{ hash, mac: '0004f2aabbcc', issuedAt: '2026-01-02T03:04:05.000Z' }]);
        expect(existsSync(path.join(dir, 'tokens.json'))).toBe(false);
        expect(readFileSync(path.join(dir, 'tokens.json.imported'), 'utf8')).toContain(hash);
      });

      it('a corrupt tokens.json fails its migration whole, names the file, and is left in place', async () => {
        const dir = tmp();
        writeFileSync(path.join(dir, 'tokens.json'), '{"version":1,"tokens":{"zz":');
        const err = await open({ stateDir: dir }).then(
          (f) => (closing.push(f.store), undefined),
          (e: unknown) => e,
        );
        expect((err as StoreError).code).toBe('MIGRATION_FAILED');
        expect((err as Error).message).toContain(path.join(dir, 'tokens.json'));
        expect(existsSync(path.join(dir, 'tokens.json'))).toBe(true);
      });
    });

    describe('inventory', () => {
      it('merges a batch: first/last seen, newest facts, the latest fetch of each file, and the judge sees the merged record', async () => {
        const { store } = await fresh();
        const m = MAC(1);
        const seen: DeviceRecord[] = [];
        await store.recordObservations([fetchOf(m, 10, 'master'), fetchOf(m, 5, 'master', { firmware: '6.3.0', ip: '10.0.0.9' }, 404)], { judge: (d) => (seen.push(d), judge(d)), maxUnknown: 100 });
        let d = (await store.getDevice(m))!;
        expect(d).toMatchObject({ mac: m, firstSeen: at(5), lastSeen: at(10), firmware: '6.4.6', ip: '10.0.0.1', configured: true, result: 'stale' });
        expect(d.files).toEqual([{ name: `${m}.cfg`, fileId: 'master', status: 200, bytes: 100, etag: '"e-master"', at: at(10) }]);
        expect(seen).toHaveLength(1);
        expect(seen[0]!.files).toHaveLength(1);
        // A later batch completes the boot sequence; an older one (another server, late) fills gaps only.
        await store.recordObservations([fetchOf(m, 20, 'settings', { firmware: '6.4.7', hardware: 'rev A' })], rec);
        await store.recordObservations([fetchOf(m, 1, 'settings', { firmware: '1.0', hardware: 'old', site: 'hq' }, 500)], rec);
        d = (await store.getDevice(m))!;
        expect(d).toMatchObject({ firstSeen: at(1), lastSeen: at(20), firmware: '6.4.7', hardware: 'rev A', site: 'hq', result: 'ok' });
        expect(d.files.map((f) => [f.name, f.status])).toEqual([
          [`${m}-settings.cfg`, 200],
          [`${m}.cfg`, 200],
        ]);
        expect(await store.getDevice(MAC(2))).toBeUndefined();
      });

      it('keeps at most maxUnknown unconfigured devices, evicting the least recently seen, never a configured one', async () => {
        const { store } = await fresh();
        const batch: Observation[] = [];
        for (let i = 0; i < 8; i++) batch.push({ mac: MAC(100 + i), at: at(100 + i), configured: false, vendor: 'polycom' });
        batch.push(fetchOf(MAC(1), 0, 'master'));
        await store.recordObservations(batch, { judge, maxUnknown: 5 });
        const all = await store.listDevices({ limit: 100 });
        expect(all.total).toBe(6);
        expect(all.items.filter((d) => !d.configured).map((d) => d.mac)).toEqual([MAC(103), MAC(104), MAC(105), MAC(106), MAC(107)]);
        expect(all.items.find((d) => d.mac === MAC(1))).toBeDefined();
        expect((await store.countByResult()).unknown).toBe(5);
      });

      it('filters with --where exactly as the pure evaluator does, pages, and counts by result', async () => {
        const { store } = await fresh();
        const models = ['VVX450', 'VVX250', 'T46S', 'J179'];
        const batch: Observation[] = [];
        for (let i = 0; i < 40; i++) {
          batch.push(fetchOf(MAC(i), i, 'master', { model: models[i % 4], firmware: i % 3 ? '5.9.7' : '6.4.6', site: i % 5 ? 'hq' : undefined, ip: `10.0.${i % 2}.${i}` }, i % 7 ? 200 : 403));
          if (i % 2) batch.push(fetchOf(MAC(i), i + 0.5, 'settings'));
        }
        // Hostile values: LIKE wildcards and quotes must match literally, never as SQL.
        batch.push(fetchOf('0004f2ffffff', 99, 'master', { model: "50%_off' OR 1=1 --\\" }));
        await store.recordObservations(batch, rec);
        const everything = (await store.listDevices({ limit: 1000 })).items;
        expect(everything).toHaveLength(41);
        for (const expr of ['model=VVX450', 'model!=vvx450', 'firmware^=5.9 and model^=VVX', 'model$=S or site=hq', 'ip*=0.1.', "model*='%_'", "model='50%_off'' OR 1=1 --\\'", 'model*=\\', 'model^=_', 'site=\'\'', 'mac^=00:04:f2:00:00:1', 'result=failing or (model=J179 and firmware!=5.9.7)', 'hardware=x']) {
          const w = parseWhere(expr);
          const want = everything.filter((d) => matches(w, deviceRow(d))).map((d) => d.mac);
          const got = (await store.listDevices({ where: w, limit: 1000 })).items.map((d) => d.mac);
          expect(got, expr).toEqual(want);
        }
        expect((await store.listDevices({ where: parseWhere("model='50%_off'' OR 1=1 --\\'"), limit: 10 })).total).toBe(1);
        expect((await store.listDevices({ where: parseWhere("model='50%'"), limit: 10 })).total).toBe(0);
        expect((await store.listDevices({ where: parseWhere('model^=5_'), limit: 10 })).total).toBe(0);
        expect((await store.listDevices({ where: parseWhere('model*="\' OR 1=1 --"'), limit: 10 })).total).toBe(1);

        const page = await store.listDevices({ offset: 10, limit: 5 });
        expect(page.total).toBe(41);
        expect(page.items.map((d) => d.mac)).toEqual(everything.slice(10, 15).map((d) => d.mac));
        expect(page.items[0]!.files.length).toBeGreaterThan(0);

        const counts = await store.countByResult();
        const byHand = { ok: 0, stale: 0, failing: 0, never: 0, unknown: 0 };
        for (const d of everything) byHand[d.result]++;
        expect(counts).toEqual(byHand);
        expect(counts.failing).toBeGreaterThan(0);
        expect((await store.listDevices({ results: ['failing'], limit: 1000 })).total).toBe(counts.failing);
        expect((await store.listDevices({ seenBefore: at(10), limit: 1000 })).items.map((d) => d.mac)).toEqual(everything.filter((d) => d.lastSeen < at(10)).map((d) => d.mac));

        await expect(store.listDevices({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_QUERY' });
        await expect(store.listDevices({ offset: -1 })).rejects.toMatchObject({ code: 'BAD_QUERY' });
        await expect(store.listDevices({ limit: 1.5 })).rejects.toMatchObject({ code: 'BAD_QUERY' });

        expect(await store.forgetDevice(MAC(1))).toBe(true);
        expect(await store.forgetDevice(MAC(1))).toBe(false);
        expect(await store.getDevice(MAC(1))).toBeUndefined();
        // Its files went with it: recording it again starts from nothing.
        await store.recordObservations([{ mac: MAC(1), at: at(500), configured: true }], rec);
        expect((await store.getDevice(MAC(1)))!.files).toEqual([]);
      });

      it('an empty batch is a no-op', async () => {
        const { store } = await fresh();
        await store.recordObservations([], rec);
        expect((await store.listDevices()).total).toBe(0);
      });
    });

    describe('audit log', () => {
      it('appends, lists newest first, filters and pages', async () => {
        const { store } = await fresh();
        for (let i = 0; i < 12; i++) {
          await store.appendAudit({ at: at(i), actor: i % 2 ? 'alice' : 'token:abc', source: '10.0.0.5', action: i % 3 ? 'GET /api/v1/devices' : 'token.issue', result: i === 4 ? 'denied' : 'ok', target: i === 0 ? '0004f2aabbcc' : undefined, detail: i === 0 ? { role: 'viewer', n: 1 } : undefined });
        }
        const all = await store.listAudit({ limit: 100 });
        expect(all.total).toBe(12);
        expect(all.items.map((e) => e.at)).toEqual([...Array(12).keys()].reverse().map(at));
        expect(all.items[11]).toMatchObject({ actor: 'token:abc', target: '0004f2aabbcc', detail: { role: 'viewer', n: 1 } });
        expect(all.items[0]!.target).toBeUndefined();
        expect((await store.listAudit({ actor: 'alice' })).total).toBe(6);
        expect((await store.listAudit({ actionPrefix: 'token.' })).total).toBe(4);
        expect((await store.listAudit({ actionPrefix: '%' })).total).toBe(0);
        expect((await store.listAudit({ result: 'denied' })).items.map((e) => e.at)).toEqual([at(4)]);
        expect((await store.listAudit({ since: at(3), until: at(6) })).total).toBe(3);
        expect((await store.listAudit({ offset: 10, limit: 5 })).items).toHaveLength(2);
        await expect(store.listAudit({ limit: 100_000 })).rejects.toMatchObject({ code: 'BAD_QUERY' });
      });
    });

    describe('admin lockout counters', () => {
      it('counts failures per source and user within a window; another source does not count; clear resets', async () => {
        const { store } = await fresh();
        await store.recordLoginFailure('10.0.0.5', 'alice', at(0));
        await store.recordLoginFailure('10.0.0.5', 'alice', at(300));
        await store.recordLoginFailure('10.0.0.5', 'alice', at(500));
        await store.recordLoginFailure('10.9.9.9', 'alice', at(500));
        await store.recordLoginFailure('10.0.0.5', 'bob', at(500));
        expect(await store.countLoginFailures('10.0.0.5', 'alice', at(0))).toBe(3);
        expect(await store.countLoginFailures('10.0.0.5', 'alice', at(200))).toBe(2);
        expect(await store.countLoginFailures('10.9.9.9', 'alice', at(0))).toBe(1);
        await store.clearLoginFailures('10.0.0.5', 'alice');
        expect(await store.countLoginFailures('10.0.0.5', 'alice', at(0))).toBe(0);
        expect(await store.countLoginFailures('10.0.0.5', 'bob', at(0))).toBe(1);
      });
    });

    describe('URL tokens', () => {
      it('keeps one digest per device: a new one replaces the old; delete and list', async () => {
        const { store } = await fresh();
        const h = (c: string) => c.repeat(64);
        await store.putUrlToken({ hash: h('1'), mac: MAC(1), issuedAt: at(0) });
        await store.putUrlToken({ hash: h('2'), mac: MAC(2), issuedAt: at(1) });
        await store.putUrlToken({ hash: h('3'), mac: MAC(1), issuedAt: at(2) });
        expect(await store.getUrlToken(h('1'))).toBeUndefined();
        expect(await store.getUrlToken(h('3'))).toEqual({ hash: h('3'), mac: MAC(1), issuedAt: at(2) });
        expect((await store.listUrlTokens()).map((e) => e.mac)).toEqual([MAC(1), MAC(2)]);
        expect(await store.deleteUrlToken(MAC(2))).toBe(true);
        expect(await store.deleteUrlToken(MAC(2))).toBe(false);
        expect(await store.getUrlToken(h('2'))).toBeUndefined();
      });
    });

    describe('API tokens', () => {
      it('issues a token shown once, verifies it, never a forgery, lists without secrets, revokes', async () => {
        const { store } = await fresh();
        const { token, info } = await store.issueApiToken('viewer', 'ci', at(0));
        const other = await store.issueApiToken('admin', 'ops', at(1));
        expect(token).toMatch(/^dsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
        expect(await store.verifyApiToken(token, at(5))).toEqual({ ...info, lastUsedAt: at(5) });
        const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
        expect(await store.verifyApiToken(forged)).toBeUndefined();
        expect(await store.verifyApiToken(`dsk_${info.id}_${other.token.slice(-43)}`)).toBeUndefined();
        expect(await store.verifyApiToken('')).toBeUndefined();
        expect(await store.verifyApiToken("dsk_' OR 1=1 --")).toBeUndefined();
        const list = await store.listApiTokens();
        expect(list.map((t) => [t.label, t.role])).toEqual([
          ['ci', 'viewer'],
          ['ops', 'admin'],
        ]);
        expect(JSON.stringify(list)).not.toContain(token.slice(17));
        expect(list[0]!.lastUsedAt).toBe(at(5));
        expect(await store.revokeApiToken(info.id)).toBe(true);
        expect(await store.revokeApiToken(info.id)).toBe(false);
        expect(await store.verifyApiToken(token)).toBeUndefined();
        expect((await store.verifyApiToken(other.token))?.role).toBe('admin');
      });
    });
  });
}
