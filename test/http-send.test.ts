import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { bytesReply, fileReply, statusForFsError } from '../src/pipeline/file-reply.js';
import { etagForBytes } from '../src/pipeline/conditional.js';
import { emptyReply, type Reply } from '../src/pipeline/reply.js';
import { writeReply } from '../src/http/write-reply.js';

// A real HTTP server on a real socket, serving a temp directory through fileReply and an
// in-memory rendering through bytesReply, written by the server's own writeReply.

let dir: string;
let server: http.Server;
let port: number;
const appErrors: Error[] = [];
// Node warns when it has to close a forgotten FileHandle during GC: any such warning is a leak.
const gcClosedHandles: string[] = [];
const onWarning = (w: Error) => {
  if (/file descriptor .* garbage collection|FileHandle/i.test(w.message)) gcClosedHandles.push(w.message);
};

const BIG_SIZE = 32 * 1024 * 1024; // larger than loopback socket buffers + stream high-water marks
const RENDERED = Buffer.from('123456789');
const RENDERED_LM = new Date('2024-03-01T12:00:00Z');

beforeAll(async () => {
  process.on('warning', onWarning);
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'deskset-send-'));
  await fsp.writeFile(path.join(dir, 'digits.txt'), '123456789');
  await fsp.writeFile(path.join(dir, 'empty.txt'), '');
  await fsp.mkdir(path.join(dir, 'sub'));
  await fsp.writeFile(path.join(dir, 'sub', 'x.txt'), 'x');

  server = http.createServer((req, res) => {
    const [, kind, ...rest] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
    // Test-only mapping; real callers confine paths to their root before calling fileReply.
    const file = path.join(dir, ...rest.map(decodeURIComponent));
    const asked = { method: req.method ?? 'GET', headers: req.headers };
    const answer = async (): Promise<Reply | undefined> => {
      if (kind === 'files') return fileReply(asked, file, { contentType: 'text/plain' });
      if (kind === 'limited') return fileReply(asked, file, { contentType: 'text/plain', maxBytes: 5 });
      if (kind === 'rendered') return bytesReply(asked, RENDERED, { etag: etagForBytes(RENDERED), contentType: 'application/xml', lastModified: RENDERED_LM });
      return undefined;
    };
    answer().then(
      (reply) => writeReply(res, asked.method, reply ?? emptyReply(404, {})),
      (err: Error) => (appErrors.push(err), res.destroy()),
    );
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  process.off('warning', onWarning);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fsp.rm(dir, { recursive: true, force: true });
});

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function req(urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });
}

/** Raw bytes on the wire, to prove that no body follows the header block. */
function rawExchange(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // write, not end: a half-close from the client makes Node's server drop the request.
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', reject);
  });
}

/** Descriptors of this process that point at `file` (Linux /proc). */
async function openFdsTo(file: string): Promise<number> {
  const fdDir = '/proc/self/fd';
  let n = 0;
  for (const fd of await fsp.readdir(fdDir)) {
    const target = await fsp.readlink(path.join(fdDir, fd)).catch(() => '');
    if (target === file || target.startsWith(`${file} (deleted)`)) n++;
  }
  return n;
}

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

async function writeBig(name: string): Promise<{ file: string; sha: string }> {
  const file = path.join(dir, name);
  const buf = crypto.randomBytes(BIG_SIZE);
  await fsp.writeFile(file, buf);
  return { file, sha: crypto.createHash('sha256').update(buf).digest('hex') };
}

const hasProc = fs.existsSync('/proc/self/fd');

describe('fileReply over HTTP', () => {
  it('200 with the full body and validators', async () => {
    const r = await req('/files/digits.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('123456789');
    expect(r.headers['content-length']).toBe('9');
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.etag).toMatch(/^"[^"]+"$/);
    const st = await fsp.stat(path.join(dir, 'digits.txt'));
    expect(r.headers['last-modified']).toBe(st.mtime.toUTCString());
  });

  it('206 for bytes=2-5 returns "3456"', async () => {
    const r = await req('/files/digits.txt', { Range: 'bytes=2-5' });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('3456');
    expect(r.headers['content-range']).toBe('bytes 2-5/9');
    expect(r.headers['content-length']).toBe('4');
    expect(r.headers['content-type']).toBe('text/plain');
  });

  it('suffix range', async () => {
    const r = await req('/files/digits.txt', { Range: 'bytes=-3' });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('789');
    expect(r.headers['content-range']).toBe('bytes 6-8/9');
  });

  it('open-ended range', async () => {
    const r = await req('/files/digits.txt', { Range: 'bytes=4-' });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('56789');
    expect(r.headers['content-range']).toBe('bytes 4-8/9');
  });

  it('last byte only', async () => {
    const r = await req('/files/digits.txt', { Range: 'bytes=8-8' });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('9');
  });

  it('416 with Content-Range bytes */9', async () => {
    const r = await req('/files/digits.txt', { Range: 'bytes=9-' });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */9');
    expect(r.body.toString()).not.toContain('123456789');
  });

  it('multiple ranges → 200 full', async () => {
    const r = await req('/files/digits.txt', { Range: 'bytes=0-1,4-5' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('123456789');
    expect(r.headers['content-range']).toBeUndefined();
  });

  it('malformed Range → 200 full', async () => {
    for (const range of ['bytes=x-y', 'bytes=5-2', 'pages=1-2', 'bytes']) {
      const r = await req('/files/digits.txt', { Range: range });
      expect(r.status, range).toBe(200);
      expect(r.body.toString()).toBe('123456789');
    }
  });

  it('If-None-Match → 304 with ETag but no body headers', async () => {
    const first = await req('/files/digits.txt');
    const r = await req('/files/digits.txt', { 'If-None-Match': first.headers.etag! });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
    expect(r.headers.etag).toBe(first.headers.etag);
    expect(r.headers['last-modified']).toBe(first.headers['last-modified']);
    expect(r.headers['content-type']).toBeUndefined();
    expect(r.headers['content-length']).toBeUndefined();
  });

  it('If-None-Match with another tag → 200', async () => {
    const r = await req('/files/digits.txt', { 'If-None-Match': '"nope"' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('123456789');
  });

  it('If-Modified-Since → 304, earlier date → 200', async () => {
    const first = await req('/files/digits.txt');
    const lm = first.headers['last-modified']!;
    expect((await req('/files/digits.txt', { 'If-Modified-Since': lm })).status).toBe(304);
    const earlier = new Date(Date.parse(lm) - 60_000).toUTCString();
    const r = await req('/files/digits.txt', { 'If-Modified-Since': earlier });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('123456789');
  });

  it('If-Match mismatch → 412', async () => {
    const r = await req('/files/digits.txt', { 'If-Match': '"nope"' });
    expect(r.status).toBe(412);
    expect(r.body.toString()).not.toContain('123456789');
  });

  it('If-Range with the current ETag → 206, with another → 200 full', async () => {
    const { headers } = await req('/files/digits.txt');
    const hit = await req('/files/digits.txt', { Range: 'bytes=2-5', 'If-Range': headers.etag! });
    expect(hit.status).toBe(206);
    expect(hit.body.toString()).toBe('3456');
    const miss = await req('/files/digits.txt', { Range: 'bytes=2-5', 'If-Range': '"stale"' });
    expect(miss.status).toBe(200);
    expect(miss.body.toString()).toBe('123456789');
  });

  it('If-Range with the Last-Modified date → 206, with another date → 200 full', async () => {
    const { headers } = await req('/files/digits.txt');
    const hit = await req('/files/digits.txt', { Range: 'bytes=2-5', 'If-Range': headers['last-modified']! });
    expect(hit.status).toBe(206);
    expect(hit.body.toString()).toBe('3456');
    const other = new Date(Date.parse(headers['last-modified']!) - 1000).toUTCString();
    const miss = await req('/files/digits.txt', { Range: 'bytes=2-5', 'If-Range': other });
    expect(miss.status).toBe(200);
    expect(miss.body.toString()).toBe('123456789');
  });

  it('HEAD: GET headers, no body bytes on the wire', async () => {
    const get = await req('/files/digits.txt');
    const r = await req('/files/digits.txt', {}, 'HEAD');
    expect(r.status).toBe(200);
    for (const h of ['content-length', 'content-type', 'etag', 'last-modified', 'accept-ranges']) {
      expect(r.headers[h], h).toBe(get.headers[h]);
    }
    const raw = await rawExchange('HEAD /files/digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toMatch(/\r\ncontent-length: 9\r\n/i);
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
  });

  it('GET writes exactly the range bytes on the wire', async () => {
    const raw = await rawExchange('GET /files/digits.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=2-5\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 206 /);
    expect(raw.endsWith('\r\n\r\n3456')).toBe(true);
  });

  it('HEAD with If-None-Match → 304', async () => {
    const { headers } = await req('/files/digits.txt');
    expect((await req('/files/digits.txt', { 'If-None-Match': headers.etag! }, 'HEAD')).status).toBe(304);
  });

  it('empty file: 200 with Content-Length 0; bytes=0- is 416', async () => {
    const r = await req('/files/empty.txt');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('0');
    expect(r.body.length).toBe(0);
    const rr = await req('/files/empty.txt', { Range: 'bytes=0-' });
    expect(rr.status).toBe(416);
    expect(rr.headers['content-range']).toBe('bytes */0');
  });

  it('a replaced file gets a new ETag, so If-Range with the old one gets the new body in full', async () => {
    const file = path.join(dir, 'replaced.txt');
    await fsp.writeFile(file, 'abcdefghi');
    const before = await req('/files/replaced.txt');
    // Same size and same mtime, new inode: the atomic rename deploy tools do.
    const tmp = `${file}.tmp`;
    await fsp.writeFile(tmp, 'ABCDEFGHI');
    const st = await fsp.stat(file);
    await fsp.utimes(tmp, st.atime, st.mtime);
    await fsp.rename(tmp, file);
    const r = await req('/files/replaced.txt', { Range: 'bytes=2-5', 'If-Range': before.headers.etag! });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ABCDEFGHI');
    expect(r.headers.etag).not.toBe(before.headers.etag);
  });
});

describe('fileReply errors', () => {
  it.each([
    ['missing file', '/files/nope.txt'],
    ['directory', '/files/sub'],
    ['file used as a directory (ENOTDIR)', '/files/digits.txt/x'],
    ['name too long', `/files/${'a'.repeat(5000)}`],
  ])('%s → 404 without leaking the path', async (_name, p) => {
    const r = await req(p);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toBe('Not Found');
    expect(r.body.toString()).not.toContain(dir);
    expect(r.headers.etag).toBeUndefined();
  });

  it('a FIFO is not served (and does not hang open())', async () => {
    const { execFileSync } = await import('node:child_process');
    const fifo = path.join(dir, 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo on this platform
    }
    const r = await req('/files/pipe');
    expect(r.status).toBe(404);
  });

  it('larger than maxBytes → 403', async () => {
    expect((await req('/limited/digits.txt')).status).toBe(403);
    expect((await req('/limited/sub/x.txt')).status).toBe(200);
  });

  it.skipIf(process.getuid?.() === 0)('unreadable file → 403', async () => {
    const file = path.join(dir, 'secret.txt');
    await fsp.writeFile(file, 'secret');
    await fsp.chmod(file, 0o000);
    const r = await req('/files/secret.txt');
    expect(r.status).toBe(403);
    expect(r.body.toString()).toBe('Forbidden');
  });

  it('statusForFsError maps codes in one place', () => {
    const e = (code: string) => Object.assign(new Error(code), { code });
    expect(statusForFsError(e('ENOENT'))).toBe(404);
    expect(statusForFsError(e('ENOTDIR'))).toBe(404);
    expect(statusForFsError(e('EISDIR'))).toBe(404);
    expect(statusForFsError(e('ENAMETOOLONG'))).toBe(404);
    expect(statusForFsError(e('EACCES'))).toBe(403);
    expect(statusForFsError(e('EPERM'))).toBe(403);
    expect(statusForFsError(e('EMFILE'))).toBe(500);
    expect(statusForFsError(e('EIO'))).toBe(500);
    expect(statusForFsError(new Error('no code'))).toBe(500);
    expect(statusForFsError('string')).toBe(500);
    expect(statusForFsError(null)).toBe(500);
  });
});

describe('fileReply streaming lifecycle', () => {
  it.skipIf(!hasProc)('client abort mid-stream closes the descriptor and raises nothing unhandled', async () => {
    const { file } = await writeBig('abort.bin');
    appErrors.length = 0;
    await new Promise<void>((resolve, reject) => {
      const r = http.get({ host: '127.0.0.1', port, path: '/files/abort.bin', agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', async () => {
          // The server is mid-stream now: its descriptor must be open...
          expect(await openFdsTo(file)).toBe(1);
          r.destroy();
          resolve();
        });
      });
      r.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    });
    // ...and closed once the server notices the client went away.
    expect(await waitFor(async () => (await openFdsTo(file)) === 0)).toBe(true);
    // Nothing from the file side may surface as an error of the server.
    for (const err of appErrors) {
      expect(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE']).toContain((err as NodeJS.ErrnoException).code);
    }
  });

  it.skipIf(!hasProc)('no descriptor outlives HEAD, 304, 412, 416, 404 or a completed download', async () => {
    const file = path.join(dir, 'digits.txt');
    const { headers } = await req('/files/digits.txt');
    expect(await waitFor(async () => (await openFdsTo(file)) === 0, 1000)).toBe(true);
    // Bodiless outcomes close the handle before the response is written, so check at once:
    // waiting would let the garbage collector close a leaked FileHandle and hide the leak.
    await req('/files/digits.txt', {}, 'HEAD');
    await req('/files/digits.txt', { 'If-None-Match': headers.etag! });
    await req('/files/digits.txt', { Range: 'bytes=50-' });
    await req('/files/digits.txt', { 'If-Match': '"x"' });
    await req('/limited/digits.txt');
    expect(await openFdsTo(file)).toBe(0);
    const sub = path.join(dir, 'sub');
    await req('/files/sub');
    expect(await openFdsTo(sub)).toBe(0);
  });

  it('a file deleted after the response started is still sent whole (same inode)', async () => {
    const { file, sha } = await writeBig('deleted.bin');
    const hash = crypto.createHash('sha256');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/files/deleted.bin', agent: false }, (res) => {
          expect(res.headers['content-length']).toBe(String(BIG_SIZE));
          res.pause();
          fsp.unlink(file).then(() => {
            res.on('data', (c: Buffer) => {
              received += c.length;
              hash.update(c);
            });
            res.on('end', resolve);
            res.on('error', reject);
            res.resume();
          }, reject);
        })
        .on('error', reject);
    });
    expect(received).toBe(BIG_SIZE);
    expect(hash.digest('hex')).toBe(sha);
  });

  it('a file truncated mid-stream cuts the connection instead of hanging the client', async () => {
    const { file } = await writeBig('shrinks.bin');
    // keep-alive, so that only the server closing the connection can end the response early
    const agent = new http.Agent({ keepAlive: true });
    const outcome = await new Promise<{ complete: boolean; received: number }>((resolve, reject) => {
      let received = 0;
      const r = http.get({ host: '127.0.0.1', port, path: '/files/shrinks.bin', agent }, (res) => {
        res.once('data', (c: Buffer) => {
          received += c.length;
          res.pause();
          fsp.truncate(file, 1024).then(() => {
            res.on('data', (c2: Buffer) => (received += c2.length));
            res.resume();
          }, reject);
        });
        // 'close' fires on completion and on abort alike; `complete` tells them apart.
        res.on('close', () => resolve({ complete: res.complete, received }));
        res.on('error', () => undefined); // "aborted" is the expected outcome
      });
      r.on('error', () => undefined);
      r.setTimeout(10_000, () => reject(new Error('client hung waiting for bytes that will never come')));
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.received).toBeLessThan(BIG_SIZE);
    agent.destroy();
    await fsp.rm(file, { force: true });
  });
});

describe('bytesReply over HTTP', () => {
  const etag = etagForBytes(RENDERED);

  it('200 with ETag and Last-Modified', async () => {
    const r = await req('/rendered');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('123456789');
    expect(r.headers.etag).toBe(etag);
    expect(r.headers['content-type']).toBe('application/xml');
    expect(r.headers['content-length']).toBe('9');
    expect(r.headers['last-modified']).toBe(RENDERED_LM.toUTCString());
  });

  it('304 for If-None-Match and for If-Modified-Since', async () => {
    expect((await req('/rendered', { 'If-None-Match': etag })).status).toBe(304);
    expect((await req('/rendered', { 'If-Modified-Since': RENDERED_LM.toUTCString() })).status).toBe(304);
  });

  it('206 for Range, honouring If-Range', async () => {
    const r = await req('/rendered', { Range: 'bytes=2-5', 'If-Range': etag });
    expect(r.status).toBe(206);
    expect(r.body.toString()).toBe('3456');
    expect(r.headers['content-length']).toBe('4');
    expect(r.headers['content-range']).toBe('bytes 2-5/9');
    const stale = await req('/rendered', { Range: 'bytes=2-5', 'If-Range': '"old"' });
    expect(stale.status).toBe(200);
    expect(stale.body.toString()).toBe('123456789');
  });

  it('416 for an unsatisfiable range', async () => {
    const r = await req('/rendered', { Range: 'bytes=20-' });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */9');
  });

  it('HEAD: headers without body', async () => {
    const raw = await rawExchange('HEAD /rendered HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toMatch(/\r\ncontent-length: 9\r\n/i);
    expect(raw).toContain(etag);
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
  });
});

describe('resource hygiene', () => {
  it('no FileHandle was left for the garbage collector to close', () => {
    expect(gcClosedHandles).toEqual([]);
  });
});
