// Two deskset servers (startServer, as `deskset serve` runs it) on one PostgreSQL: a phone's
// upload to one is served back by the other, byte for byte with the same validators; log
// uploads to both append to one day; a refused or torn upload leaves the previous body; and
// nothing is written to the state directory. Skipped with one line without DESKSET_TEST_PG.

import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { LOCK_UPLOADS } from '../src/store/postgres/uploads.js';
import { runCli } from './helpers/cli.js';
import { rawRequest } from './helpers/e2e-http.js';
import { get, raw, serveRoot } from './helpers/serve-root.js';
import { createTestDatabase, type TestDatabase } from './helpers/pg-database.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const PG = process.env.DESKSET_TEST_PG;
if (!PG) console.warn('upload-replicas-e2e.test.ts: DESKSET_TEST_PG is unset: the two-server upload test on PostgreSQL is skipped');

const VVX = '0004f2a1b2c3'; // a Poly VVX of the samples
const T46S = '805ec0123456'; // a Yealink T46S of the samples
const MAX_FILE = 4096;

/** A PUT that sends its headers and part of its body, then the connection drops. */
function tornPut(port: number, target: string, declared: number, sent: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`PUT ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n`);
      s.write(sent, () => setTimeout(() => s.destroy(), 100));
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

describe.skipIf(!PG)('phone uploads on PostgreSQL, two servers', () => {
  let root: TmpRoot;
  let a: RunningServer, b: RunningServer;
  let dbUrl: string;
  let db: TestDatabase | undefined;
  const sql = async <R extends pg.QueryResultRow>(q: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      return (await c.query<R>(q, params)).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase(PG!, 'deskset_up');
    dbUrl = db.url;
    process.env.DESKSET_UP_PG = dbUrl;
    root = await makeTmpRoot({ 'deskset.yaml': (old) => `${old}state: \${env:DESKSET_UP_PG}\nuploads:\n  max_file_bytes: ${MAX_FILE}\n` });
    a = await serveRoot(root.dir);
    b = await serveRoot(root.dir);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await root?.cleanup();
    await db?.drop();
  });

  it('a Poly <mac>-phone.cfg PUT to A is served by B byte-identical, with the same ETag and Last-Modified', async () => {
    const cfg = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="1" x="${crypto.randomBytes(600).toString('base64')}"/></PHONE_CONFIG>\n`);
    expect((await raw(a, 'PUT', `/${VVX}-phone.cfg`, {}, cfg)).status).toBe(201);
    const fromB = await get(b, `/${VVX}-phone.cfg`);
    expect(fromB.status).toBe(200);
    expect(fromB.body.equals(cfg)).toBe(true);
    expect(fromB.headers['content-type']).toMatch(/^application\/xml/);
    const fromA = await get(a, `/${VVX}-phone.cfg`);
    expect(fromA.body.equals(cfg)).toBe(true);
    expect(fromA.headers.etag).toBe(fromB.headers.etag);
    expect(fromA.headers['last-modified']).toBe(fromB.headers['last-modified']);
    // A validator from one server is good at the other.
    expect((await get(b, `/${VVX}-phone.cfg`, { 'If-None-Match': fromA.headers.etag! })).status).toBe(304);
    // A Yealink upload kind too, the other way round.
    expect((await raw(b, 'PUT', `/${T46S}-local.cfg`, {}, Buffer.from('#!version:1.0.0.1\n'))).status).toBe(201);
    expect((await get(a, `/${T46S}-local.cfg`)).text).toBe('#!version:1.0.0.1\n');
  });

  it('a replace on B is what A serves next', async () => {
    const v2 = Buffer.from('<PHONE_CONFIG v="2"/>\n');
    expect((await raw(b, 'PUT', `/${VVX}-web.cfg`, {}, Buffer.from('<v1/>'))).status).toBe(201);
    expect((await raw(b, 'PUT', `/${VVX}-web.cfg`, {}, v2)).status).toBe(204);
    expect((await get(a, `/${VVX}-web.cfg`)).body.equals(v2)).toBe(true);
  });

  it('log PUTs to A and to B append to the same day', async () => {
    expect((await raw(a, 'PUT', `/${VVX}-app.log`, {}, Buffer.from('from a\n'))).status).toBe(201);
    expect((await raw(b, 'PUT', `/${VVX}-app.log`, {}, Buffer.from('from b\n'))).status).toBe(204);
    const day = new Date().toISOString().slice(0, 10);
    const rows = await sql<{ day: string; body: Buffer }>('SELECT day, body FROM upload_log_days WHERE mac = $1 AND kind = $2', [VVX, 'app.log']);
    expect(rows.map((r) => [r.day, r.body.toString()])).toEqual([[day, 'from a\nfrom b\n']]);
  });

  it('an upload over the limit, or torn mid-body, leaves the previous body on both servers', async () => {
    const good = Buffer.from('<directory>good</directory>\n');
    expect((await raw(a, 'PUT', `/${VVX}-directory.xml`, {}, good)).status).toBe(201);
    // Refused on its declared length, before any byte of the body is read.
    const big = await rawRequest(b.port, `PUT /${VVX}-directory.xml HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_FILE + 1}\r\n\r\n`);
    expect(big.status).toBe(413);
    await tornPut(a.port, `/${VVX}-directory.xml`, 1000, Buffer.from('<directory>torn'));
    for (const s of [a, b]) {
      const r = await get(s, `/${VVX}-directory.xml`);
      expect(r.status).toBe(200);
      expect(r.body.equals(good)).toBe(true);
    }
  });

  it('a server whose database connection dies mid-transaction answers 500, keeps the old body, and goes on serving', async () => {
    const before = Buffer.from('<calls>before</calls>\n');
    expect((await raw(a, 'PUT', `/${VVX}-calls.xml`, {}, before)).status).toBe(201);
    // Hold the device's upload lock, so A's next write waits inside its transaction...
    const holder = new pg.Client({ connectionString: dbUrl });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_UPLOADS, VVX]);
    try {
      const pending = raw(a, 'PUT', `/${VVX}-calls.xml`, {}, Buffer.from('<calls>after</calls>\n'));
      let pid: number | undefined;
      for (let t = 0; t < 100 && pid === undefined; t++) {
        const rows = (await holder.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND pid <> pg_backend_pid()", [db!.name])).rows;
        pid = rows[0]?.pid;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(pid, 'the upload never waited for the lock').toBeDefined();
      // ...and kill its connection there, as a database restart would.
      await holder.query('SELECT pg_terminate_backend($1)', [pid]);
      expect((await pending).status).toBe(500);
    } finally {
      await holder.end();
    }
    for (const s of [a, b]) expect((await get(s, `/${VVX}-calls.xml`)).body.equals(before)).toBe(true);
    expect((await raw(a, 'PUT', `/${VVX}-calls.xml`, {}, Buffer.from('<calls>again</calls>\n'))).status).toBe(204);
    expect((await get(b, `/${VVX}-calls.xml`)).text).toBe('<calls>again</calls>\n');
  });

  it('nothing goes to the state directory: the uploads are rows of the database', async () => {
    expect(existsSync(path.join(root.dir, 'var', 'uploads'))).toBe(false);
    expect(existsSync(path.join(root.dir, 'var', 'logs'))).toBe(false);
    const files = await sql<{ mac: string; kind: string; size: string }>('SELECT mac, kind, size FROM upload_files ORDER BY mac, kind');
    expect(files.map((f) => `${f.mac}-${f.kind}`)).toEqual([`${VVX}-calls.xml`, `${VVX}-directory.xml`, `${VVX}-phone.cfg`, `${VVX}-web.cfg`, `${T46S}-local.cfg`]);
  });

  it('deskset explain reads the phone-side overrides from the database', async () => {
    const r = await runCli(['explain', root.dir, VVX, '--json'], { env: { ...process.env, DESKSET_UP_PG: dbUrl } });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { phoneOverrides: Array<{ name: string }> };
    expect(j.phoneOverrides.map((o) => o.name)).toEqual([`${VVX}-phone.cfg`, `${VVX}-web.cfg`]);
  });
});
