// One contract for every upload backend (src/service/upload-backend.ts), run against the disk
// store on a real temp directory and against a real PostgreSQL (DESKSET_TEST_PG; skipped with
// one line without it): put, replace, get, list, log append, day roll, prune, quota, caps,
// concurrent puts, and serving back with the same conditional answers.

import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { discardReply } from '../src/pipeline/reply.js';
import { replyUploaded } from '../src/pipeline/upload.js';
import { STREAMED, type StoredUpload, type UploadBackend, type UploadLimits } from '../src/service/upload-backend.js';
import { UploadStore } from '../src/service/upload-store.js';
import { openPostgresStore } from '../src/store/postgres/index.js';
import type { StateStore } from '../src/store/contract.js';

const MAC = '0004f2a1b2c3';
const OTHER = '0004f2d4e5f6';

interface Fixture {
  backend: UploadBackend;
  /** A second server on the same storage (PostgreSQL only: two replicas, two pools). */
  replica?: () => UploadBackend;
  /** The stored bytes of one day log, or undefined. */
  readLog: (mac: string, day: string, kind: string) => Promise<Buffer | undefined>;
}
type OpenFixture = (limits: UploadLimits) => Promise<Fixture>;

function body(...parts: Array<string | Buffer>): AsyncIterable<Buffer> {
  return (async function* () {
    for (const p of parts) yield Buffer.from(p);
  })();
}

/** A body that fails after its first chunk: a phone that went away mid-upload. */
function aborted(first: string): AsyncIterable<Buffer> {
  return (async function* () {
    yield Buffer.from(first);
    throw new Error('ECONNRESET');
  })();
}

const put = (b: UploadBackend, name: string, text: string | Buffer, declared: number | typeof STREAMED = Buffer.byteLength(text)) => b.put(name, body(text), declared);

async function bytesOf(s: StoredUpload | undefined): Promise<Buffer | undefined> {
  if (!s) return undefined;
  return s.kind === 'bytes' ? s.body : fsp.readFile(s.path);
}

/** A clock the test moves. */
function clock(iso: string): { now: () => Date; set: (iso: string) => void } {
  let t = new Date(iso);
  return { now: () => t, set: (s) => (t = new Date(s)) };
}

function runUploadContract(name: string, open: OpenFixture | undefined, skipWhy = ''): void {
  describe.skipIf(!open)(`upload backend contract: ${name}${skipWhy}`, () => {
    const fx = (l: UploadLimits = {}) => open!(l);

    it('put creates (201), a second put replaces (204), get returns the last body whole', async () => {
      const { backend } = await fx();
      expect((await put(backend, `${MAC}-phone.cfg`, '<a/>')).status).toBe(201);
      expect((await put(backend, `${MAC}-phone.cfg`, '<bb/>')).status).toBe(204);
      const got = await backend.get(`${MAC}-phone.cfg`);
      expect(got?.size).toBe(5);
      expect((await bytesOf(got))?.toString()).toBe('<bb/>');
      // The MAC part of a name is case-insensitive; the stored file is the same one.
      expect((await bytesOf(await backend.get('0004F2A1B2C3-phone.cfg')))?.toString()).toBe('<bb/>');
    });

    it('get: nothing for logs, absent files, unknown names, other devices', async () => {
      const { backend } = await fx();
      await put(backend, `${MAC}-app.log`, 'line\n');
      await put(backend, `${MAC}-phone.cfg`, '<a/>');
      expect(await backend.get(`${MAC}-app.log`)).toBeUndefined();
      expect(await backend.get(`${MAC}-web.cfg`)).toBeUndefined();
      expect(await backend.get(`${OTHER}-phone.cfg`)).toBeUndefined();
      expect(await backend.get(`${MAC}-passwd`)).toBeUndefined();
      expect(await backend.get(`000000000000-phone.cfg`)).toBeUndefined();
    });

    it('refuses before reading: unknown name 403, no length 411, over the per-file cap 413', async () => {
      const { backend } = await fx({ maxFileBytes: 10, maxLogBytes: 20 });
      expect((await put(backend, `${MAC}-evil.sh`, 'x')).status).toBe(403);
      expect((await backend.put(`${MAC}-phone.cfg`, body('x'), undefined)).status).toBe(411);
      expect((await put(backend, `${MAC}-phone.cfg`, 'x'.repeat(11))).status).toBe(413);
      expect((await put(backend, `${MAC}-app.log`, 'x'.repeat(20))).status).toBe(201);
      expect((await put(backend, `${MAC}-app.log`, 'x'.repeat(21))).status).toBe(413);
    });

    it('an upload over the limit, short, or aborted leaves the previous body', async () => {
      const { backend } = await fx({ maxFileBytes: 10 });
      await put(backend, `${MAC}-phone.cfg`, '<good/>');
      // Streamed (chunked): refused as it crosses the cap.
      expect((await backend.put(`${MAC}-phone.cfg`, body('<bad', '-------/>'), STREAMED)).status).toBe(413);
      expect((await backend.put(`${MAC}-phone.cfg`, body('<ba'), 8)).status).toBe(400);
      expect((await backend.put(`${MAC}-phone.cfg`, aborted('<ba'), 8)).status).toBe(400);
      expect((await bytesOf(await backend.get(`${MAC}-phone.cfg`)))?.toString()).toBe('<good/>');
    });

    it('listForDevice: uploaded files, then day logs, sorted, with sizes; nothing for other devices', async () => {
      const c = clock('2026-12-01T23:59:00Z');
      const { backend } = await fx({ now: c.now });
      await put(backend, `${MAC}-web.cfg`, '<w/>');
      await put(backend, `${MAC}-directory.xml`, '<d/>');
      await put(backend, `${MAC}-app.log`, 'one\n');
      await put(backend, `${MAC}-boot.log`, 'boot\n');
      await put(backend, `${OTHER}-phone.cfg`, '<o/>');
      const list = await backend.listForDevice('00:04:F2:A1:B2:C3');
      expect(list.map((f) => [f.name, f.kind, f.size])).toEqual([
        [`${MAC}-directory.xml`, 'directory.xml', 4],
        [`${MAC}-web.cfg`, 'web.cfg', 4],
        ['2026-12-01-app.log', 'app.log', 4],
        ['2026-12-01-boot.log', 'boot.log', 5],
      ]);
      for (const f of list) expect(Number.isNaN(f.mtime.getTime())).toBe(false);
      expect(await backend.listForDevice('not a mac')).toEqual([]);
      expect(await backend.listForDevice('000000000000')).toEqual([]);
    });

    it('a log PUT appends to the file of its UTC day; the next day starts a new one', async () => {
      const c = clock('2026-12-01T23:59:59Z');
      const { backend, readLog } = await fx({ now: c.now });
      expect((await put(backend, `${MAC}-app.log`, 'a\n')).status).toBe(201);
      expect((await put(backend, `${MAC}-app.log`, 'b\n')).status).toBe(204);
      c.set('2026-12-02T00:00:00Z');
      expect((await put(backend, `${MAC}-app.log`, 'c\n')).status).toBe(201);
      expect((await readLog(MAC, '2026-12-01', 'app.log'))?.toString()).toBe('a\nb\n');
      expect((await readLog(MAC, '2026-12-02', 'app.log'))?.toString()).toBe('c\n');
    });

    it('pruneLogs deletes the days more than log_retention_days before today, and nothing else', async () => {
      const c = clock('2026-11-20T12:00:00Z');
      const { backend, readLog } = await fx({ now: c.now, logRetentionDays: 10 });
      for (const day of ['2026-11-20', '2026-11-21', '2026-11-22']) {
        c.set(`${day}T12:00:00Z`);
        await put(backend, `${MAC}-app.log`, `${day}\n`);
      }
      await put(backend, `${MAC}-phone.cfg`, '<keep/>');
      c.set('2026-12-01T08:00:00Z'); // keeps 2026-11-21 and later
      expect(await backend.pruneLogs()).toBe(1);
      expect(await readLog(MAC, '2026-11-20', 'app.log')).toBeUndefined();
      expect((await readLog(MAC, '2026-11-21', 'app.log'))?.toString()).toBe('2026-11-21\n');
      expect(await backend.pruneLogs()).toBe(0);
      expect(await backend.get(`${MAC}-phone.cfg`)).toBeDefined();
      expect(await backend.removeStaleTemps()).toBe(0);
    });

    it('the device quota counts files and logs; a replace frees the old size; refusals change nothing', async () => {
      const { backend, readLog } = await fx({ maxDeviceBytes: 100, now: () => new Date('2026-12-01T10:00:00Z') });
      expect((await put(backend, `${MAC}-phone.cfg`, 'p'.repeat(60))).status).toBe(201);
      expect((await put(backend, `${MAC}-web.cfg`, 'w'.repeat(50))).status).toBe(413);
      expect(await backend.get(`${MAC}-web.cfg`)).toBeUndefined();
      // 90 replaces 60: the device then holds 90, not 150.
      expect((await put(backend, `${MAC}-phone.cfg`, 'q'.repeat(90))).status).toBe(204);
      expect((await put(backend, `${MAC}-app.log`, 'l'.repeat(10))).status).toBe(201);
      expect((await put(backend, `${MAC}-app.log`, 'm')).status).toBe(413);
      // Streamed, over the room left.
      expect((await backend.put(`${MAC}-app.log`, body('mm'), STREAMED)).status).toBe(413);
      expect((await readLog(MAC, '2026-12-01', 'app.log'))?.toString()).toBe('l'.repeat(10));
      expect((await bytesOf(await backend.get(`${MAC}-phone.cfg`)))?.toString()).toBe('q'.repeat(90));
      // Another device has its own quota.
      expect((await put(backend, `${OTHER}-phone.cfg`, 'o'.repeat(100))).status).toBe(201);
    });

    it('concurrent puts for one device: appends never exceed the quota, a replaced file is one whole body', async () => {
      const { backend, readLog } = await fx({ maxDeviceBytes: 100, maxConcurrentPerDevice: 64, now: () => new Date('2026-12-01T10:00:00Z') });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => put(backend, `${MAC}-app.log`, String(i).repeat(30))));
      expect(results.filter((r) => r.status === 201 || r.status === 204)).toHaveLength(3);
      expect(results.filter((r) => r.status === 413)).toHaveLength(5);
      const log = (await readLog(MAC, '2026-12-01', 'app.log'))!.toString();
      expect(log).toMatch(/^(?:(\d)\1{29}){3}$/);
      // Bodies in flight count against the quota too: ten of 5 bytes fit in 100.
      const bodies = Array.from({ length: 10 }, (_, i) => `<v${i}/>`);
      const replaced = await Promise.all(bodies.map((b) => put(backend, `${OTHER}-phone.cfg`, b)));
      expect(replaced.every((r) => r.status === 201 || r.status === 204)).toBe(true);
      expect(bodies).toContain((await bytesOf(await backend.get(`${OTHER}-phone.cfg`)))?.toString());
    });

    it('served back with ETag and Last-Modified: 200, 304 on If-None-Match, 206 for a range', async () => {
      const { backend } = await fx();
      await put(backend, `${MAC}-phone.cfg`, '<phone-config/>');
      const ok = (await replyUploaded({ method: 'GET', headers: {} }, backend, `${MAC}-phone.cfg`))!;
      expect(ok.status).toBe(200);
      expect(ok.headers['Content-Type']).toMatch(/^application\/xml/);
      expect(ok.headers['Cache-Control']).toBe('no-cache');
      expect(ok.headers['Content-Length']).toBe('15');
      const etag = ok.headers['ETag']!;
      expect(etag).toMatch(/^"/);
      expect(Number.isNaN(Date.parse(ok.headers['Last-Modified']!))).toBe(false);
      // Reading the same stored file again gives the same validator.
      const again = (await replyUploaded({ method: 'HEAD', headers: {} }, backend, `${MAC}-phone.cfg`))!;
      expect(again.headers['ETag']).toBe(etag);
      discardReply(ok);
      discardReply(again);
      expect((await replyUploaded({ method: 'GET', headers: { 'if-none-match': etag } }, backend, `${MAC}-phone.cfg`))!.status).toBe(304);
      const part = (await replyUploaded({ method: 'GET', headers: { range: 'bytes=1-5' } }, backend, `${MAC}-phone.cfg`))!;
      expect(part.status).toBe(206);
      expect(part.headers['Content-Range']).toBe('bytes 1-5/15');
      discardReply(part);
      // Logs and absent files are not served here: the pipeline goes on to its next handler.
      await put(backend, `${MAC}-app.log`, 'x');
      expect(await replyUploaded({ method: 'GET', headers: {} }, backend, `${MAC}-app.log`)).toBeUndefined();
      expect(await replyUploaded({ method: 'GET', headers: {} }, backend, `${MAC}-web.cfg`)).toBeUndefined();
    });

    it('two servers on the same storage: one sees the other’s file, their appends share one day and one quota', async ({ skip }) => {
      const f = await fx({ maxDeviceBytes: 100, maxConcurrentPerDevice: 64, now: () => new Date('2026-12-01T10:00:00Z') });
      if (!f.replica) return skip('one server only: the disk store is not shared between servers');
      const a = f.backend;
      const b = f.replica();
      await put(a, `${MAC}-phone.cfg`, '<from-a/>');
      expect((await bytesOf(await b.get(`${MAC}-phone.cfg`)))?.toString()).toBe('<from-a/>');
      // Each server's own in-process ledger cannot see the other's uploads: the SQL bound does.
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => put(i % 2 ? a : b, `${MAC}-app.log`, String(i).repeat(20))));
      expect(results.filter((r) => r.status === 201 || r.status === 204)).toHaveLength(4); // 9 + 4×20 ≤ 100
      expect((await f.readLog(MAC, '2026-12-01', 'app.log'))!.length).toBe(80);
    });
  });
}

// ── disk: a temp state directory per case

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});
runUploadContract('disk', async (limits) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'deskset-upload-backend-'));
  dirs.push(dir);
  return {
    backend: new UploadStore({ dir, ...limits }),
    readLog: (mac, day, kind) => fsp.readFile(path.join(dir, 'logs', mac, `${day}-${kind}`)).catch(() => undefined),
  };
});

// ── PostgreSQL: a fresh database per case, migrated by the state store as `serve` does

const PG = process.env.DESKSET_TEST_PG;
if (!PG) console.warn('upload-backend.test.ts: DESKSET_TEST_PG is unset: the PostgreSQL upload backend suite is skipped (test/helpers/pg-cluster.sh start sets it)');

const createdDbs: string[] = [];
const openStores: StateStore[] = [];
async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
afterAll(async () => {
  for (const s of openStores) await s.close();
  if (PG) await admin(PG, async (c) => {
    for (const db of createdDbs) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });
});

runUploadContract(
  'postgres',
  PG
    ? async (limits) => {
        const name = `deskset_u_${crypto.randomBytes(5).toString('hex')}`;
        await admin(PG, (c) => c.query(`CREATE DATABASE ${name}`));
        createdDbs.push(name);
        const u = new URL(PG);
        u.pathname = `/${name}`;
        const url = u.toString();
        const store = await openPostgresStore({ url });
        openStores.push(store);
        const second = await openPostgresStore({ url });
        openStores.push(second);
        return {
          backend: store.uploadBackend(limits),
          replica: () => second.uploadBackend(limits),
          readLog: (mac, day, kind) => admin(url, async (c) => (await c.query<{ body: Buffer }>('SELECT body FROM upload_log_days WHERE mac = $1 AND day = $2 AND kind = $3', [mac, day, kind])).rows[0]?.body),
        };
      }
    : undefined,
  PG ? '' : ' (skipped: DESKSET_TEST_PG is unset)',
);
