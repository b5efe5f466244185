// Hostile clients against a real server: path traversal in every encoding, oversized and
// malformed headers, a slowloris, and 1,000 concurrent keep-alive connections. Raw sockets
// where fetch would normalise the request. Nothing asserted about speed: only that every
// request is answered, nothing outside the root is ever sent, and the server keeps serving.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/security/password.js';
import { SERVER_TIMEOUTS, startServer, type RunningServer } from '../src/server.js';
import { appendYaml, basic, desksetYaml, get, memoryLog, rawGet, rawRequest, type RawResponse } from './helpers/e2e-http.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const RELAXED = ['security:', '  enumeration:', '    max_distinct: 100000', '  lockout:', '    attempts: 100000'].join('\n');
const ADMIN_SECRET = 'Nw-Adm1n-2024'; // samples/secrets/admin-password
const RESOURCE = '0123456789';

/** Every 4xx/5xx response this file sees, for the last test. */
const errorBodies: Array<{ what: string; status: number; body: Buffer }> = [];
function keep(what: string, r: { status: number; body: Buffer }): void {
  if (r.status >= 400) errorBodies.push({ what, status: r.status, body: r.body });
}

const MARKER = `deskset-qa-outside-${randomBytes(6).toString('hex')}`;
let markerName: string;
let markerPath: string;
let root: TmpRoot;

beforeAll(async () => {
  root = await makeTmpRoot({
    'deskset.yaml': desksetYaml(RELAXED),
    'resources/logo.txt': RESOURCE,
  });
  // A file NEXT TO the temp root (…/tmp/<marker>), and a symlink inside resources/ pointing at it.
  markerName = `${path.basename(root.dir)}-outside-marker`;
  markerPath = path.join(path.dirname(root.dir), markerName);
  await fs.writeFile(markerPath, `${MARKER}\n`);
  await fs.symlink(markerPath, root.file('resources/evil.txt'));
  await fs.symlink('/etc/passwd', root.file('resources/passwd.txt'));
});
afterAll(async () => {
  await fs.rm(markerPath, { force: true });
  await root?.cleanup();
});

function forbiddenContent(r: RawResponse | { body: Buffer }): string[] {
  const text = r.body.toString('latin1');
  return [MARKER, 'root:x:0:0', 'root:', ADMIN_SECRET, 'unknown_devices', '[extensions]'].filter((m) => text.includes(m));
}

describe.each([
  { name: 'fast path', fastPath: true },
  { name: 'Koa path', fastPath: false },
])('path traversal ($name)', ({ fastPath }) => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false, fastPath });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('control: the resource and a rendered file are served (so the refusals below are not an outage)', async () => {
    const r = await rawGet(srv.port, '/logo.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(RESOURCE);
    expect((await rawGet(srv.port, '/c81fea83e85a.txt')).status).toBe(200);
  });

  const targets = (): string[] => {
    const m = markerName;
    const rootName = path.basename(root.dir);
    return [
      `/../${m}`,
      `/../../../../../../etc/passwd`,
      `/%2e%2e/${m}`,
      `/%2E%2E%2F${m}`,
      `/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd`,
      `/..%2f${m}`,
      `/%2f..%2f${m}`,
      `/resources%2f..%2f..%2f${m}`,
      `/..%5c${m}`,
      `/..%5C..%5Cetc%5Cpasswd`,
      `/%252e%252e%252f${m}`,
      `/%252e%252e%252fetc%252fpasswd`,
      `/${m}%00.txt`,
      `/logo.txt%00/../../${m}`,
      `/..\\${m}`,
      `/..\\..\\etc\\passwd`,
      `//etc/passwd`,
      `//${path.dirname(root.dir).slice(1)}/${m}`,
      `/C:/Windows/win.ini`,
      `/C:%5CWindows%5Cwin.ini`,
      `/..%c0%af..%c0%afetc/passwd`,
      `/%c0%ae%c0%ae/${m}`,
      `/./logo.txt/../../${m}`,
      `/resources/../../${m}`,
      `/firmware/../../${m}`,
      `/../${rootName}/secrets/admin-password`,
      `/secrets/admin-password`,
      `/deskset.yaml`,
      `/profiles/global.yaml`,
      `/var/tokens.json`,
      `/var/deskset.db`,
      `/var/deskset.db-wal`,
      `/resources/../var/deskset.db`,
      `/evil.txt`,
      `/resources/evil.txt`,
      `/passwd.txt`,
      `/p/${'A'.repeat(43)}/../../${m}`,
      `http://127.0.0.1/../../${m}`,
    ];
  };

  it('every traversal form is 400 or 404 with nothing from outside the served files', async () => {
    const seen: Array<[string, number]> = [];
    for (const t of targets()) {
      for (const method of ['GET', 'HEAD']) {
        const r = await rawGet(srv.port, t, {}, method);
        keep(`${method} ${t}`, r);
        seen.push([`${method} ${t}`, r.status]);
        expect(forbiddenContent(r), `${method} ${t}`).toEqual([]);
        expect(r.raw.toString('latin1'), `${method} ${t}`).not.toContain(MARKER);
      }
    }
    const bad = seen.filter(([, s]) => s !== 400 && s !== 404);
    expect(bad).toEqual([]);
  });

  it('an 8 KB path is refused (414 URI Too Long from src) and the server goes on serving', async () => {
    for (const t of [`/${'a'.repeat(8192)}`, `/${'%2e%2e/'.repeat(1200)}${markerName}`, `/${'../'.repeat(2800)}etc/passwd`]) {
      const r = await rawGet(srv.port, t);
      keep(`GET 8KB ${t.slice(0, 20)}`, r);
      expect([400, 404, 414], t.slice(0, 30)).toContain(r.status);
      expect(forbiddenContent(r)).toEqual([]);
    }
    expect((await rawGet(srv.port, '/logo.txt')).status).toBe(200);
  });
});

describe('hostile headers', () => {
  let srv: RunningServer;
  let authRoot: TmpRoot;
  let authSrv: RunningServer;
  const PW = 'Hostile-Glob-1';

  beforeAll(async () => {
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    authRoot = await makeTmpRoot({ 'deskset.yaml': desksetYaml(RELAXED), 'profiles/global.yaml': appendYaml(`auth:\n  user: prov\n  password: "${await hashPassword(PW)}"\n`) });
    authSrv = await startServer({ root: authRoot.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
  });
  afterAll(async () => {
    await srv?.close();
    await authSrv?.close();
    await authRoot?.cleanup();
  });

  it('a 64 KB User-Agent: 431 (or served), no crash, and the next request works', async () => {
    for (const p of ['/c81fea83e85a.txt', '/46xxsettings.txt', '/logo.txt']) {
      const r = await rawGet(srv.port, p, { 'User-Agent': `AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a) ${'x'.repeat(64 * 1024)}` });
      keep(`64KB UA ${p}`, r);
      expect([200, 404, 431], p).toContain(r.status);
      const next = await rawGet(srv.port, '/c81fea83e85a.txt');
      expect(next.status).toBe(200);
    }
    // Many medium headers adding up to 64 KB, too.
    const many = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`X-Pad-${i}`, 'y'.repeat(1000)]));
    const r = await rawGet(srv.port, '/c81fea83e85a.txt', many);
    keep('64 x 1KB headers', r);
    expect([200, 431]).toContain(r.status);
    expect((await get(srv.url, '/000000000000.cfg')).status).toBe(200);
  });

  it('malformed Authorization headers are 401, never 500', async () => {
    const values = [
      'garbage',
      'Basic !!!',
      'Basic',
      'Basic ',
      'Basic =',
      'Basic ====',
      `Basic ${'A'.repeat(10 * 1024)}`,
      `Basic ${Buffer.from(`prov:${'x'.repeat(8000)}`).toString('base64')}`,
      `Basic ${Buffer.from('no-colon-at-all').toString('base64')}`,
      `Basic ${Buffer.from(':').toString('base64')}`,
      `Basic ${Buffer.from('prov:\u0000').toString('base64')}`,
      `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0xc3, 0x28]).toString('base64')}`,
      'Bearer abc.def.ghi',
      'Digest username="prov", realm="deskset", nonce="x", uri="/", response="y"',
      `Basic ${Buffer.from(`prov:${PW}`).toString('base64')} trailing`,
      'basic',
      '\u00ff\u00fe\u00fd',
    ];
    for (const v of values) {
      for (const p of ['/64167f0a8800.cfg', '/000000000000.cfg', '/0004f2999999.cfg', '/logo.txt']) {
        const r = await rawGet(authSrv.port, p, { Authorization: v });
        keep(`Authorization ${v.slice(0, 20)} ${p}`, r);
        expect(r.status, `${v.slice(0, 40)} ${p}`).not.toBe(500);
        expect([400, 401], `${v.slice(0, 40)} ${p}`).toContain(r.status);
      }
    }
    // Two Authorization headers.
    const two = await rawRequest(authSrv.port, `GET /64167f0a8800.cfg HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic !!!\r\nAuthorization: ${basic('prov', PW).authorization}\r\n\r\n`);
    keep('two Authorization headers', two);
    expect([400, 401, 200]).toContain(two.status);
    // Control: the right credentials still work on this server.
    expect((await rawGet(authSrv.port, '/64167f0a8800.cfg', basic('prov', PW))).status).toBe(200);
  });

  it('malformed Range headers: 200, 206 or 416, never 500; a good one still gives the bytes', async () => {
    const good = await rawGet(srv.port, '/logo.txt', { Range: 'bytes=2-5' });
    expect(good.status).toBe(206);
    expect(good.body.toString()).toBe('2345');
    const manyRanges = `bytes=${Array.from({ length: 500 }, (_, i) => `${i}-${i}`).join(',')}`;
    const ranges = ['bytes=abc', 'bytes=5-1', 'bytes=-', 'bytes=--1', 'bytes=-0', 'bytes=0-18446744073709551616', 'bytes=99999999-', 'bytes= 1-2', 'bytes=1-2,,', 'items=0-1', 'bytes', '=', 'bytes=0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1', manyRanges, `bytes=${'9'.repeat(400)}-`, 'bytes=0x1-0x2', 'bytes=1.5-2'];
    for (const p of ['/logo.txt', '/c81fea83e85a.txt', '/000000000000.cfg']) {
      const full = await rawGet(srv.port, p);
      for (const range of ranges) {
        for (const method of ['GET', 'HEAD']) {
          const r = await rawGet(srv.port, p, { Range: range }, method);
          keep(`Range ${range.slice(0, 20)} ${p}`, r);
          expect([200, 206, 416], `${method} ${p} ${range.slice(0, 40)}`).toContain(r.status);
          if (method === 'GET' && r.status === 200) expect(r.body.equals(full.body), `${p} ${range.slice(0, 40)}`).toBe(true);
        }
      }
    }
    expect((await rawGet(srv.port, '/logo.txt')).status).toBe(200);
  });
});

/** A client that sends request headers one byte per second and never finishes them. */
function slowloris(port: number, boundMs: number): Promise<{ closedByServer: boolean; after: number; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const text = `GET /c81fea83e85a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(4000)}`;
    let i = 0;
    let answer = '';
    let done = false;
    const s = net.connect(port, '127.0.0.1');
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearInterval(drip);
      clearTimeout(bound);
      s.destroy();
      resolve({ closedByServer, after: Date.now() - started, answer });
    };
    const drip = setInterval(() => {
      if (!s.destroyed && s.writable) s.write(text[i++ % text.length]!);
    }, 1000);
    const bound = setTimeout(() => finish(false), boundMs);
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => finish(true));
  });
}

describe('slowloris', () => {
  it('startServer takes no timeout options: the defaults are SERVER_TIMEOUTS (headersTimeout 10 s)', async () => {
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    try {
      expect(srv.server.headersTimeout).toBe(SERVER_TIMEOUTS.headersTimeout);
      expect(SERVER_TIMEOUTS.headersTimeout).toBe(10_000);
      expect(srv.server.requestTimeout).toBe(SERVER_TIMEOUTS.requestTimeout);
    } finally {
      await srv.close();
    }
  });

  // BUG: Node enforces headersTimeout only when its connection checker runs, every
  // `connectionsCheckingInterval` (default 30 s), and SERVER_TIMEOUTS does not set it. A client
  // that dribbles headers is cut after ~30 s, not 10 s (measured: 408 at 30.0 s).
  it('with the default timeouts, a client dribbling headers is cut off by the server within ~15 s, and others are served meanwhile', async () => {
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    try {
      const slow = slowloris(srv.port, 15_000);
      const during: number[] = [];
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 2000));
        during.push((await get(srv.url, '/c81fea83e85a.txt')).status);
      }
      expect(during).toEqual([200, 200, 200]);
      const end = await slow;
      expect(end.closedByServer, `still open after ${end.after} ms`).toBe(true);
      expect(end.answer === '' || /^HTTP\/1\.1 408/.test(end.answer)).toBe(true);
    } finally {
      await srv.close();
    }
  }, 30_000);

  it('with headersTimeout lowered (SERVER_TIMEOUTS patched in-process, plus a short connectionsCheckingInterval) the slow client is cut and others are served', async () => {
    const saved = { ...SERVER_TIMEOUTS };
    const patched = SERVER_TIMEOUTS as typeof SERVER_TIMEOUTS & { connectionsCheckingInterval?: number };
    Object.assign(patched, { headersTimeout: 1500, requestTimeout: 3000, connectionsCheckingInterval: 250 });
    let srv: RunningServer | undefined;
    try {
      srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
    } finally {
      for (const k of Object.keys(patched)) delete (patched as Record<string, unknown>)[k];
      Object.assign(patched, saved);
    }
    try {
      const slow = slowloris(srv.port, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect((await get(srv.url, '/c81fea83e85a.txt')).status).toBe(200);
      const end = await slow;
      expect(end.closedByServer, `still open after ${end.after} ms`).toBe(true);
      expect(end.answer === '' || /^HTTP\/1\.1 408/.test(end.answer)).toBe(true);
      expect((await get(srv.url, '/c81fea83e85a.txt')).status).toBe(200);
    } finally {
      await srv.close();
    }
  }, 20_000);
});

describe('load: 1,000 concurrent keep-alive connections', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('every request is answered correctly, and the server serves normally afterwards', async () => {
    // `ulimit -n` here is 20000; 1,000 connections need ~2,000 descriptors (both ends in this process).
    const CONNECTIONS = 1000;
    const ROUNDS = 3;
    const paths = ['/c81fea83e85a.txt', '/000000000000.cfg', '/logo.txt', '/nothing.txt', '/0004f2a1b2c3-settings.cfg', '/0004f2999999.cfg'];
    const expected = new Map<string, { status: number; body: Buffer }>();
    for (const p of paths) {
      const r = await get(srv.url, p);
      expected.set(p, { status: r.status, body: r.body });
    }
    expect([...expected.values()].map((e) => e.status)).toEqual([200, 200, 200, 404, 200, 404]);

    let open = 0;
    let peak = 0;
    srv.server.on('connection', (s: net.Socket) => {
      open++;
      peak = Math.max(peak, open);
      s.on('close', () => open--);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS, timeout: 60_000 });
    const one = (p: string): Promise<{ status: number; body: Buffer; reused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: srv.port, path: p, agent, timeout: 60_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), reused: req.reusedSocket }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    const failures: string[] = [];
    let answered = 0;
    let reused = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const results = await Promise.allSettled(Array.from({ length: CONNECTIONS }, (_, i) => paths[(i + round) % paths.length]!).map((p) => one(p).then((r) => ({ p, r }))));
        for (const x of results) {
          if (x.status === 'rejected') {
            failures.push(String((x.reason as Error).message));
            continue;
          }
          answered++;
          if (x.value.r.reused) reused++;
          const want = expected.get(x.value.p)!;
          if (x.value.r.status !== want.status || !x.value.r.body.equals(want.body)) failures.push(`${x.value.p}: ${x.value.r.status}`);
        }
      }
    } finally {
      agent.destroy();
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(answered).toBe(CONNECTIONS * ROUNDS);
    expect(peak).toBeGreaterThanOrEqual(CONNECTIONS);
    // Later rounds ran on the kept-alive connections (most of them: the server may close a few idle for 5 s).
    expect(reused).toBeGreaterThan(CONNECTIONS / 2);
    const after = await get(srv.url, '/c81fea83e85a.txt');
    expect(after.status).toBe(200);
    expect(after.body.equals(expected.get('/c81fea83e85a.txt')!.body)).toBe(true);
  }, 120_000);
});

describe('error responses', () => {
  it('never carry a stack trace or a file path: empty, or a short status text', () => {
    expect(errorBodies.length).toBeGreaterThan(100);
    const bad = errorBodies.filter(({ body }) => {
      const t = body.toString('latin1');
      return t.length > 64 || t.includes('/') || t.includes('at ') || /error/i.test(t) || t.includes(root.dir);
    });
    expect(bad.map((b) => `${b.what.slice(0, 60)} -> ${b.status} ${JSON.stringify(b.body.toString('latin1').slice(0, 80))}`)).toEqual([]);
    const statuses = new Set(errorBodies.map((b) => b.status));
    expect(statuses.has(500)).toBe(false);
  });
});
