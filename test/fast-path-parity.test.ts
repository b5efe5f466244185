// The fast path (rendered files answered in front of Koa) and the Koa path must be
// indistinguishable on the wire. Two servers on the same temp root, one with fastPath: true
// (the default) and one with fastPath: false, asked the same table of raw requests in the same
// order (so their cool-down and lockout state stays in step); status line, header lines in order
// (except Date, Connection, Keep-Alive) and body bytes must be equal.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTargets } from '../src/pipeline/request.js';
import { hashPassword } from '../src/security/password.js';
import { TokenStore } from '../src/security/tokens.js';
import { startServer, type RunningServer } from '../src/server.js';
import { appendYaml, basic, desksetYaml, memoryLog, rawGet, type RawResponse, VOLATILE } from './helpers/e2e-http.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const J179_UA = 'Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a)';
const RELAXED = ['security:', '  enumeration:', '    max_distinct: 100000', '  lockout:', '    attempts: 100000'].join('\n');
const PW = 'Parity-Glob-551';
const DEV_PW = 'Parity-Dev-552';

interface Req {
  name: string;
  target: string;
  method?: string;
  headers?: Record<string, string>;
}

interface Pair {
  fast: RunningServer;
  koa: RunningServer;
}

async function startPair(root: TmpRoot): Promise<Pair> {
  const fast = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false, fastPath: true });
  const koa = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: memoryLog().log, watch: false, fastPath: false });
  return { fast, koa };
}

const wire = (r: RawResponse) => ({
  statusLine: r.statusLine,
  headers: r.headerLines.filter(([k]) => !VOLATILE.has(k.toLowerCase())).map(([k, v]) => `${k}: ${v}`),
  body: r.body.toString('base64'),
});

/** Ask both servers, fast first, and compare what came back. Returns the fast server's answer. */
async function same(pair: Pair, q: Req): Promise<RawResponse> {
  const a = await rawGet(pair.fast.port, q.target, q.headers ?? {}, q.method ?? 'GET');
  const b = await rawGet(pair.koa.port, q.target, q.headers ?? {}, q.method ?? 'GET');
  expect(a.status, `${q.name}: fast path answered`).toBeGreaterThan(0);
  expect(wire(b), q.name).toEqual(wire(a));
  return a;
}

function table(paths: string[], etagOf: (p: string) => string | undefined): Req[] {
  const out: Req[] = [];
  for (const p of paths) {
    out.push({ name: `GET ${p}`, target: p }, { name: `HEAD ${p}`, target: p, method: 'HEAD' });
    const etag = etagOf(p);
    if (etag) {
      out.push({ name: `INM hit ${p}`, target: p, headers: { 'If-None-Match': etag } });
      out.push({ name: `INM hit (HEAD) ${p}`, target: p, method: 'HEAD', headers: { 'If-None-Match': etag } });
      out.push({ name: `INM weak ${p}`, target: p, headers: { 'If-None-Match': `W/${etag}` } });
      out.push({ name: `INM list ${p}`, target: p, headers: { 'If-None-Match': `"x", ${etag}` } });
      out.push({ name: `INM miss ${p}`, target: p, headers: { 'If-None-Match': '"nope"' } });
      out.push({ name: `If-Range hit ${p}`, target: p, headers: { Range: 'bytes=0-9', 'If-Range': etag } });
      out.push({ name: `If-Match miss ${p}`, target: p, headers: { 'If-Match': '"nope"' } });
    }
  }
  return out;
}

const RANGES = ['bytes=2-5', 'bytes=-10', 'bytes=0-', 'bytes=100000-', 'bytes=abc', 'bytes=5-1', 'bytes=-', 'bytes=0-1,4-5', 'bytes=0-0,0-0,0-0'];

function common(): Req[] {
  const out: Req[] = [];
  for (const r of RANGES) {
    out.push({ name: `Range ${r} Poly`, target: '/0004f2a1b2c3-settings.cfg', headers: { Range: r } });
    out.push({ name: `Range ${r} Avaya`, target: '/c81fea83e85a.txt', headers: { Range: r } });
    out.push({ name: `Range ${r} shared`, target: '/000000000000.cfg', headers: { Range: r } });
  }
  out.push(
    { name: 'unknown Poly MAC', target: '/0004f2999999.cfg' },
    { name: 'unknown Poly MAC settings', target: '/0004f2999999-settings.cfg' },
    { name: 'unknown Poly MAC (HEAD)', target: '/0004f2999999.cfg', method: 'HEAD' },
    { name: 'unknown Yealink MAC', target: '/805ec0999999.cfg' },
    { name: 'unknown Avaya MAC', target: '/c81fea999999.txt' },
    { name: 'unknown OUI', target: '/aabbccddeeff.cfg' },
    { name: 'vendor-mismatched name', target: '/805ec0123456-settings.cfg' },
    { name: 'upper-case MAC', target: '/0004F2A1B2C3.cfg' },
    { name: 'query string', target: '/0004f2a1b2c3.cfg?v=1&x=%2e%2e' },
    { name: 'DES form', target: '/anything/deeper/J179/c81fea83e85a/46xxsettings.txt' },
    { name: 'DES form, dashed MAC', target: '/x/J179/C8-1F-EA-83-E8-5A/46xxsettings.txt' },
    { name: 'DES form, unknown MAC', target: '/x/J179/c81fea999999/46xxsettings.txt' },
    { name: 'DES J100Supgrade', target: '/x/J179/c81fea83e85a/J100Supgrade.txt' },
    { name: '46xxsettings.txt by User-Agent', target: '/46xxsettings.txt', headers: { 'User-Agent': J179_UA } },
    { name: '46xxsettings.txt by User-Agent (HEAD)', target: '/46xxsettings.txt', method: 'HEAD', headers: { 'User-Agent': J179_UA } },
    { name: '46xxsettings.txt, unknown phone', target: '/46xxsettings.txt', headers: { 'User-Agent': J179_UA.replace('c81fea83e85a', 'c81fea999999') } },
    { name: '46xxsettings.txt, no User-Agent', target: '/46xxsettings.txt' },
    { name: 'Yealink UA', target: '/y000000000066.cfg', headers: { 'User-Agent': 'Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56' } },
    { name: 'no such file', target: '/nothing.txt' },
    { name: 'index.html', target: '/index.html' },
    { name: 'traversal', target: '/../etc/passwd' },
    { name: 'encoded traversal', target: '/%2e%2e/etc/passwd' },
    { name: 'encoded slash traversal', target: '/%2E%2E%2Fetc%2Fpasswd' },
    { name: 'double slash', target: '//etc/passwd' },
    { name: 'NUL', target: '/0004f2a1b2c3.cfg%00' },
    { name: 'backslash', target: '/..%5c0004f2a1b2c3.cfg' },
    { name: 'raw backslash', target: '/..\\0004f2a1b2c3.cfg' },
    { name: 'bad escape', target: '/%zz.cfg' },
    { name: 'trailing slash', target: '/0004f2a1b2c3.cfg/' },
    { name: 'long path', target: `/${'a'.repeat(2000)}.cfg` },
    { name: 'absolute form', target: 'http://127.0.0.1/0004f2a1b2c3.cfg' },
    { name: 'POST', target: '/0004f2a1b2c3.cfg', method: 'POST' },
    { name: 'DELETE', target: '/0004f2a1b2c3.cfg', method: 'DELETE' },
    { name: 'OPTIONS', target: '/0004f2a1b2c3.cfg', method: 'OPTIONS' },
    { name: 'unknown token', target: `/p/${'A'.repeat(43)}/0004f2a1b2c3.cfg` },
    { name: 'malformed token', target: '/p/short/0004f2a1b2c3.cfg' },
  );
  return out;
}

async function renderedPaths(srv: RunningServer): Promise<string[]> {
  const paths = allTargets(srv.provisioner.current()).map((t) => `/${t.path}`);
  expect(paths.length).toBeGreaterThan(10);
  return paths;
}

describe('no auth configured', () => {
  let root: TmpRoot;
  let pair: Pair;
  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': desksetYaml(RELAXED) });
    pair = await startPair(root);
  });
  afterAll(async () => {
    await pair?.fast.close();
    await pair?.koa.close();
    await root?.cleanup();
  });

  it('the two servers are wired differently (the fast listener in front of Koa vs Koa alone)', () => {
    const fastListener = pair.fast.server.listeners('request')[0] as (...a: unknown[]) => unknown;
    const koaListener = pair.koa.server.listeners('request')[0] as (...a: unknown[]) => unknown;
    expect(fastListener).not.toBe(koaListener);
    expect(koaListener.name).toBe('handleRequest'); // Koa's app.callback()
    expect(fastListener.name).not.toBe('handleRequest');
  });

  it('every rendered file (GET, HEAD, conditional) is byte-for-byte the same', async () => {
    const paths = await renderedPaths(pair.fast);
    const etags = new Map<string, string>();
    for (const p of paths) {
      const r = await same(pair, { name: `GET ${p}`, target: p });
      expect(r.status, p).toBe(200);
      etags.set(p, r.headers.etag!);
    }
    const seen = new Map<number, number>();
    for (const q of table(paths, (p) => etags.get(p))) {
      const r = await same(pair, q);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    }
    // The table really exercised the conditional branches.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining([200, 206, 304, 412]));
  });

  it('ranges, unknown MACs, DES form, User-Agent identification, bad paths and other methods are the same', async () => {
    const statuses = new Set<number>();
    for (const q of common()) statuses.add((await same(pair, q)).status);
    expect([...statuses]).toEqual(expect.arrayContaining([200, 206, 400, 404, 405, 416]));
  });
});

describe('auth configured (global hash, device-level secret), URL tokens', () => {
  let root: TmpRoot;
  let pair: Pair;
  let token: string;
  beforeAll(async () => {
    process.env.QA_PARITY_DEV_PW = DEV_PW;
    root = await makeTmpRoot({
      'deskset.yaml': desksetYaml(RELAXED),
      'profiles/global.yaml': appendYaml(`auth:\n  user: prov\n  password: "${await hashPassword(PW)}"\n`),
      'profiles/devices/0004f2a1b2c3.yaml': appendYaml('auth:\n  user: vvx\n  password: "${env:QA_PARITY_DEV_PW}"\n'),
    });
    token = await new TokenStore(path.join(root.dir, 'var', 'tokens.json')).issue('805ec0abcdef');
    pair = await startPair(root);
  });
  afterAll(async () => {
    await pair?.fast.close();
    await pair?.koa.close();
    await root?.cleanup();
    delete process.env.QA_PARITY_DEV_PW;
  });

  it('401 without credentials, 200 with them, 401 with wrong ones: the same on both paths', async () => {
    const paths = await renderedPaths(pair.fast);
    const statuses: number[] = [];
    for (const p of paths) {
      for (const headers of [{}, basic('prov', PW), basic('vvx', DEV_PW), basic('prov', 'wrong'), { Authorization: 'Basic !!!' }] as Array<Record<string, string>>) {
        for (const method of ['GET', 'HEAD']) statuses.push((await same(pair, { name: `${method} ${p} ${JSON.stringify(headers)}`, target: p, method, headers })).status);
      }
    }
    expect(statuses).toContain(401);
    expect(statuses).toContain(200);
    // The device-level credentials open that device's file on both paths.
    expect((await same(pair, { name: 'device creds', target: '/0004f2a1b2c3-settings.cfg', headers: basic('vvx', DEV_PW) })).status).toBe(200);
    expect((await same(pair, { name: 'global creds, device auth', target: '/0004f2a1b2c3-settings.cfg', headers: basic('prov', PW) })).status).toBe(401);
    // Every rendered file x 5 credentials x 2 methods x 2 servers, each a password hash check:
    // it grows with the sample devices (one per vendor), so the time is per file, not fixed.
  }, 180_000);

  it('URL tokens: own file, another device, shared, unknown token', async () => {
    const cases: Array<[string, number]> = [
      [`/p/${token}/805ec0abcdef.cfg`, 200],
      [`/p/${token}/805ec0123456.cfg`, 401], // another device: refused as an unknown MAC is
      [`/p/${token}/y000000000096.cfg`, 200],
      [`/p/${token}/000000000000.cfg`, 200],
      [`/p/${token}/nothing.txt`, 404],
      [`/p/${'B'.repeat(43)}/805ec0abcdef.cfg`, 404],
    ];
    for (const [target, status] of cases) {
      for (const method of ['GET', 'HEAD']) expect((await same(pair, { name: `${method} ${target}`, target, method })).status, `${method} ${target}`).toBe(status);
    }
  });

  it('the common table, bare and with credentials, is the same', async () => {
    for (const q of common()) {
      await same(pair, q);
      await same(pair, { ...q, name: `${q.name} (creds)`, headers: { ...q.headers, ...basic('prov', PW) } });
    }
  });
});
