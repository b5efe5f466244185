import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { UploadStore } from '../src/service/upload-store.js';
import { parseContentLength, replyUpload, replyUploaded, type UploadOptions } from '../src/pipeline/upload.js';
import { decodeRequestPath } from '../src/pipeline/request-path.js';
import { emptyReply } from '../src/pipeline/reply.js';
import { writeReply } from '../src/http/write-reply.js';

// Phone uploads over a real HTTP server and real sockets. Hostile requests go over raw TCP so
// the request line reaches the server exactly as written (http.request would normalise it).

const MAC = '0004f2a1b2c3';
const DENIED = '0004f2dddddd'; // the authorize hook refuses this phone

let base: string; // the state dir's parent: any write outside state/ would show up here
let stateDir: string;
let store: UploadStore;
let server: http.Server;
let port: number;
const records: Array<Record<string, unknown>> = [];
const authorized: string[] = [];

beforeAll(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'deskset-upload-e2e-'));
  stateDir = path.join(base, 'state');
  await fsp.writeFile(path.join(base, 'sentinel.txt'), 'untouched');
  await fsp.mkdir(path.join(base, 'etc'));
  // Concurrency raised so the 50-at-once test runs them all; the limit has its own tests.
  store = new UploadStore({ dir: stateDir, maxFileBytes: 200 * 1024, maxConcurrentPerDevice: 64 });
  const options: UploadOptions = {
    store,
    authorize: (mac) => {
      authorized.push(mac);
      return mac !== DENIED;
    },
    log: (rec) => records.push(rec),
  };
  // The pipeline's two upload handlers behind the server's own writeReply; the path is decoded
  // as the pipeline's route step does (a hostile one never reaches the handler).
  server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const decoded = decodeRequestPath(req.url ?? '/');
    const answer = async () => {
      if (!decoded.ok) return emptyReply(decoded.status, {}, req.complete ? {} : { Connection: 'close' });
      if (method === 'PUT') return replyUpload({ method, ip: req.socket.remoteAddress ?? '', rawHeaders: req.rawHeaders, body: req }, { path: decoded.path }, options);
      return (await replyUploaded({ method, headers: req.headers }, store, decoded.path)) ?? emptyReply(404, {});
    };
    answer().then(
      (reply) => writeReply(res, method, reply),
      () => res.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fsp.rm(base, { recursive: true, force: true });
});

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(method: string, urlPath: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const h = body ? { 'Content-Length': String(body.length), ...headers } : headers;
    const r = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** Write raw bytes, read until the server closes; the status from the first response line (0 if none). */
function raw(data: string | Buffer, opts: { endAfterWrite?: boolean } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(data, () => {
        if (opts.endAfterWrite) sock.end();
      });
    });
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', done);
    // A reset after the response still leaves us the response; 'close' follows.
    sock.on('error', () => {});
  });
}

function put(target: string, body: string, extra = ''): string {
  return `PUT ${target} HTTP/1.1\r\nHost: phone\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** Every path under `root`, relative and sorted; directories end in '/'. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const n of await fsp.readdir(d).catch(() => [] as string[])) {
      const p = path.join(d, n);
      const st = await fsp.lstat(p);
      out.push(path.relative(root, p) + (st.isDirectory() ? '/' : ''));
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk(root);
  return out.sort();
}

const temps = async () => (await tree(stateDir)).filter((p) => p.endsWith('.tmp'));

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('parseContentLength', () => {
  it.each<[string[], ReturnType<typeof parseContentLength>]>([
    [['Content-Length', '10'], { ok: true, length: 10 }],
    [['content-length', ' 0 '], { ok: true, length: 0 }],
    [['Host', 'x'], { ok: true, length: undefined }],
    [['Transfer-Encoding', 'chunked'], { ok: true, length: 'streamed' }],
    [['transfer-encoding', ' Chunked '], { ok: true, length: 'streamed' }],
    [['Transfer-Encoding', 'gzip, chunked'], { ok: false, status: 411 }],
    [['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], { ok: false, status: 411 }],
    [['Content-Length', '5', 'Transfer-Encoding', 'chunked'], { ok: false, status: 400 }],
    [['Content-Length', '5', 'Content-Length', '5'], { ok: false, status: 400 }],
    [['Content-Length', '5', 'content-length', '6'], { ok: false, status: 400 }],
    [['Content-Length', '5, 5'], { ok: false, status: 400 }],
    [['Content-Length', '-1'], { ok: false, status: 400 }],
    [['Content-Length', '+5'], { ok: false, status: 400 }],
    [['Content-Length', '0x10'], { ok: false, status: 400 }],
    [['Content-Length', '1e3'], { ok: false, status: 400 }],
    [['Content-Length', ''], { ok: false, status: 400 }],
    [['Content-Length', '9999999999999999'], { ok: false, status: 400 }],
  ])('%j → %j', (rawHeaders, expected) => {
    expect(parseContentLength(rawHeaders)).toEqual(expected);
  });
});

describe('hostile targets', () => {
  // Expected statuses: 400 for targets that are malformed or smuggle a path (decodeRequestPath
  // and the single-segment rule), 414 for overlong ones, 403 for well-formed names that are
  // simply not an allowed upload. Whatever the layer, nothing may be written anywhere.
  const hostile: Array<[string, number]> = [
    ['/../x-app.log', 400],
    [`/%2e%2e/${MAC}-app.log`, 400],
    [`/%2E%2E%2F%2e%2e%2F${MAC}-app.log`, 400],
    [`/a%2f${MAC}-app.log`, 400],
    [`/..%5c${MAC}-app.log`, 400],
    [`/..\\${MAC}-app.log`, 400],
    [`/\\..\\..\\${MAC}-app.log`, 400],
    ['//etc/passwd', 400],
    [`//etc/${MAC}-app.log`, 400],
    [`/${MAC}-app.log%00.txt`, 400],
    [`/${MAC}-app.log%0a`, 400],
    [`/${MAC}-app.log/..`, 400],
    [`/%c0%ae%c0%ae/${MAC}-app.log`, 400], // overlong UTF-8 dot-dot
    [`/uploads/${MAC}/${MAC}-phone.cfg`, 400],
    [`http://phone/../${MAC}-app.log`, 400],
    [`/${'a'.repeat(8192)}`, 414],
    [`/${MAC}-${'a'.repeat(8000)}.log`, 414],
    [`/${MAC}-${'a'.repeat(500)}.log`, 403],
    ['/000000000000-app.log', 403],
    [`/${MAC}.cfg`, 403],
    [`/${MAC}-app.log.txt`, 403],
    [`/${MAC}-license.cfg`, 403],
  ];
  it.each(hostile.map(([t, status]) => [t.length > 80 ? `${t.slice(0, 40)}… (${t.length} chars)` : t, status, t] as const))(
    'PUT %s → %i, nothing written',
    async (_label, status, target) => {
      const before = await tree(base);
      const r = await raw(put(target, 'hello'));
      expect(r.status).toBe(status);
      expect(await tree(base)).toEqual(before);
      expect(await fsp.readFile(path.join(base, 'sentinel.txt'), 'utf8')).toBe('untouched');
    },
  );

  it('refusals have an empty body (no paths, no messages)', async () => {
    const r = await request('PUT', '/000000000000-app.log', Buffer.from('x'));
    expect(r.status).toBe(403);
    expect(r.body.length).toBe(0);
    const bad = await request('PUT', `/%2e%2e/${MAC}-app.log`, Buffer.from('x'));
    expect(bad.status).toBe(400);
    expect(bad.body.length).toBe(0);
  });
});

describe('framing', () => {
  it('a chunked upload (no Content-Length) is stored, bounded as it streams', async () => {
    const name = '0004f2000010-contact.xml';
    const r = await raw(`PUT /${name} HTTP/1.1\r\nHost: phone\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`);
    expect(r.status).toBe(201);
    expect(await fsp.readFile((await store.get(name))!.path, 'utf8')).toBe('hello world');
  });

  it('a chunked upload that crosses the per-file cap → 413 as it streams, nothing kept', async () => {
    const name = '0004f2000011-contact.xml';
    const chunk = 'x'.repeat(64 * 1024);
    const chunks = Array.from({ length: 5 }, () => `${(chunk.length).toString(16)}\r\n${chunk}\r\n`).join(''); // 320 KiB > 200 KiB
    const r = await raw(`PUT /${name} HTTP/1.1\r\nHost: phone\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
    expect(r.status).toBe(413);
    expect(await store.get(name)).toBeUndefined();
    expect(await temps()).toEqual([]);
  });

  it('no Content-Length and no body → 411', async () => {
    const r = await raw(`PUT /${MAC}-web.cfg HTTP/1.1\r\nHost: phone\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(411);
  });

  it('repeated or non-numeric Content-Length → 400', async () => {
    const dup = await raw(`PUT /${MAC}-web.cfg HTTP/1.1\r\nHost: phone\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx`);
    expect(dup.status).toBe(400);
    const nan = await raw(`PUT /${MAC}-web.cfg HTTP/1.1\r\nHost: phone\r\nContent-Length: abc\r\n\r\nx`);
    expect(nan.status).toBe(400);
    expect(await store.get(`${MAC}-web.cfg`)).toBeUndefined();
  });

  it('a lying Content-Length (1000 declared, 10 sent, then close) creates nothing', async () => {
    const name = '0004f2000001-calls.xml';
    const seen = records.length;
    await raw(`PUT /${name} HTTP/1.1\r\nHost: phone\r\nContent-Length: 1000\r\n\r\n0123456789`, { endAfterWrite: true });
    // The handler logs once the store has given up on the body.
    await waitFor(() => records.slice(seen).some((r) => r.name === name));
    expect(records.slice(seen).find((r) => r.name === name)).toMatchObject({ status: 400 });
    expect(await store.get(name)).toBeUndefined();
    expect(await temps()).toEqual([]);
  });

  it('a replace that stops mid-way leaves the old file intact', async () => {
    const name = `${MAC}-directory.xml`;
    const good = Buffer.from('<directory><item>good</item></directory>');
    expect((await request('PUT', `/${name}`, good)).status).toBe(201);
    const seen = records.length;
    const half = 'x'.repeat(50 * 1024);
    await raw(`PUT /${name} HTTP/1.1\r\nHost: phone\r\nContent-Length: ${100 * 1024}\r\n\r\n${half}`, { endAfterWrite: true });
    await waitFor(() => records.slice(seen).some((r) => r.name === name));
    expect(await fsp.readFile((await store.get(name))!.path)).toEqual(good);
    expect((await request('GET', `/${name}`)).body).toEqual(good);
    expect(await temps()).toEqual([]);
  });

  it('over the per-file cap → 413 before the body is read, and the connection is closed', async () => {
    const before = await tree(base);
    // Headers only: the server must answer without waiting for 300 KB that never comes.
    const r = await raw(`PUT /${MAC}-phone.cfg HTTP/1.1\r\nHost: phone\r\nContent-Length: ${300 * 1024}\r\n\r\n`);
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(await tree(base)).toEqual(before);
  });
});

describe('uploads over HTTP', () => {
  it('PUT then GET/HEAD returns the uploaded bytes; logs are not served back', async () => {
    const name = '0004f2000002-phone.cfg';
    const cfg = Buffer.from('<PHONE_CONFIG><ALL up.backlight.idleIntensity="1"/></PHONE_CONFIG>\n');
    const created = await request('PUT', `/${name}`, cfg);
    expect(created.status).toBe(201);
    expect(created.body.length).toBe(0);
    const got = await request('GET', `/${name}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(cfg);
    expect(got.headers['content-type']).toMatch(/xml/);
    const head = await request('HEAD', `/${name.toUpperCase().replace('-PHONE.CFG', '-phone.cfg')}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(cfg.length));
    // Replace: 204, and GET sees the new bytes.
    const cfg2 = Buffer.from('<PHONE_CONFIG/>');
    expect((await request('PUT', `/${name}`, cfg2)).status).toBe(204);
    expect((await request('GET', `/${name}`)).body).toEqual(cfg2);

    expect((await request('PUT', '/0004f2000002-app.log', Buffer.from('log line\n'))).status).toBe(201);
    expect((await request('GET', '/0004f2000002-app.log')).status).toBe(404);
    expect((await request('GET', '/0004f2000009-phone.cfg')).status).toBe(404);
  });

  it('50 concurrent PUTs of the same name → exactly one intact version, no temp files', async () => {
    const name = '0004f2000003-directory.xml';
    const bodies = Array.from({ length: 50 }, () => crypto.randomBytes(100 * 1024));
    const results = await Promise.all(bodies.map((b) => request('PUT', `/${name}`, b)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 204)).toHaveLength(49);
    const served = (await request('GET', `/${name}`)).body;
    expect(bodies.filter((b) => b.equals(served))).toHaveLength(1);
    expect(await temps()).toEqual([]);
  });

  it('authorize returning false → 403, body unread and nothing written', async () => {
    const before = await tree(base);
    authorized.length = 0;
    const r = await request('PUT', `/${DENIED.toUpperCase()}-phone.cfg`, Buffer.from('<evil/>'));
    expect(r.status).toBe(403);
    // The hook sees the canonical MAC, whatever case the phone used.
    expect(authorized).toEqual([DENIED]);
    expect(await tree(base)).toEqual(before);
    expect(await store.listForDevice(DENIED)).toEqual([]);
  });
});
