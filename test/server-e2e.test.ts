// End to end over real sockets: the real server (startServer, as `deskset serve` uses it) on
// samples/, asked the way phones ask. Plus one run of the real `deskset serve` process.

import { promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { get, memoryLog, stable } from './helpers/e2e-http.js';
import { REPO, runCli, spawnCli } from './helpers/cli.js';
import { makeTmpRoot, replaceOnce, sampleSecrets, type TmpRoot } from './helpers/tmp-root.js';

const SAMPLES = path.join(REPO, 'samples');
const J179_UA = 'Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a)';
/** Line passwords and the admin password the samples configure (secret references resolved). */
let SAMPLE_SECRETS: string[] = [];
/** Only the line passwords: what an unknown phone must never receive. */
let LINE_SECRETS: string[] = [];

type AccessLine = { time: string; ip: string; method: string; path: string; status: number; bytes: number; ms: number; mac?: string; model?: string };
const accessLines = (lines: string[]): AccessLine[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => typeof o.method === 'string') as AccessLine[];

async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(abs, e.name), r);
      else out.set(r, await fs.readFile(path.join(abs, e.name)));
    }
  };
  await walk(dir, '');
  return out;
}

// What `deskset render --show-secrets` writes (the deployable files) is what phones must get.
let rendered: Map<string, Buffer>;
let renderDir: string;
beforeAll(async () => {
  SAMPLE_SECRETS = await sampleSecrets();
  LINE_SECRETS = await sampleSecrets('lines');
  expect(SAMPLE_SECRETS).toEqual(expect.arrayContaining(['rc9-Tq2m', 'Vv-45-ab', 'Nw-Adm1n-2024']));
  expect(LINE_SECRETS).toContain('rc9-Tq2m');
  expect(LINE_SECRETS).not.toContain('Nw-Adm1n-2024');
  renderDir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-e2e-render-'));
  const r = await runCli(['render', 'samples', '--out', renderDir, '--show-secrets']);
  expect(r.code, r.stderr).toBe(0);
  rendered = await readTree(renderDir);
});
afterAll(async () => {
  await fs.rm(renderDir, { recursive: true, force: true });
});

describe('server on samples', () => {
  let srv: RunningServer;
  let base: string;
  const mem = memoryLog();

  beforeAll(async () => {
    srv = await startServer({ root: SAMPLES, host: '127.0.0.1', port: 0, log: mem.log, watch: false });
    base = srv.url;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('serves every file `render --show-secrets` writes, byte for byte', async () => {
    expect(rendered.size).toBeGreaterThan(10);
    for (const [rel, bytes] of rendered) {
      const r = await get(base, `/${rel}`);
      expect(r.status, rel).toBe(200);
      expect(r.body.equals(bytes), `${rel} differs from the rendered preview`).toBe(true);
    }
  });

  it.each([
    ['/c81fea83e85a.txt', 'text/plain'],
    ['/J100Supgrade.txt', 'text/plain'],
    ['/0004f2a1b2c3.cfg', 'application/xml'],
    ['/0004f2a1b2c3-settings.cfg', 'application/xml'],
    ['/000000000000.cfg', 'application/xml'],
    ['/805ec0123456.cfg', 'text/plain'],
    ['/y000000000066.cfg', 'text/plain'],
  ])('GET and HEAD %s: same headers, HEAD without a body, Content-Type %s', async (p, type) => {
    const g = await get(base, p);
    const h = await get(base, p, { method: 'HEAD' });
    expect(g.status).toBe(200);
    expect(h.status).toBe(200);
    expect(g.headers['content-type']?.split(';')[0]).toBe(type);
    expect(g.headers['content-length']).toBe(String(g.body.length));
    expect(g.body.length).toBeGreaterThan(0);
    expect(h.body.length).toBe(0);
    expect(stable(h.headers)).toEqual(stable(g.headers));
  });

  it('strong ETag; If-None-Match gives 304 with an empty body', async () => {
    const g = await get(base, '/0004f2a1b2c3-settings.cfg');
    const etag = g.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/); // strong: no W/ prefix
    const again = await get(base, '/0004f2a1b2c3-settings.cfg');
    expect(again.headers.etag).toBe(etag);
    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const r = await get(base, '/0004f2a1b2c3-settings.cfg', { headers: { 'if-none-match': inm } });
      expect(r.status, inm).toBe(304);
      expect(r.body.length, inm).toBe(0);
      expect(r.headers.etag, inm).toBe(etag);
    }
    const other = await get(base, '/0004f2a1b2c3-settings.cfg', { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
    expect(other.body.equals(g.body)).toBe(true);
    // Different bytes, different ETag.
    expect((await get(base, '/64167f0a8800-settings.cfg')).headers.etag).not.toBe(etag);
  });

  it.each([
    '/nothing.txt',
    '/index.html',
    '/0004f2999999.cfg', // unknown Poly MAC (unknown_devices: reject)
    '/0004f2999999-settings.cfg',
    '/805ec0999999.cfg', // unknown Yealink MAC
    '/c81fea999999.txt', // unknown Avaya MAC
    '/x/J179/c81fea999999/46xxsettings.txt',
    '/805ec0123456-settings.cfg', // a Yealink MAC asking for a Poly-only name
    '/c81fea83e85a.cfg', // an Avaya MAC asking for a Poly/Yealink name
    '/0004f2a1b2c3.txt', // a Poly MAC asking for an Avaya name
  ])('404 with an empty body: %s', async (p) => {
    const r = await get(base, p);
    expect(r.status).toBe(404);
    expect(r.body.length).toBe(0);
    const h = await get(base, p, { method: 'HEAD' });
    expect(h.status).toBe(404);
  });

  it('/46xxsettings.txt with the J179 User-Agent is that phone’s own file; without a User-Agent 404', async () => {
    const own = await get(base, '/c81fea83e85a.txt');
    const viaUa = await get(base, '/46xxsettings.txt', { headers: { 'user-agent': J179_UA } });
    expect(viaUa.status).toBe(200);
    expect(viaUa.body.equals(own.body)).toBe(true);
    expect(viaUa.headers.etag).toBe(own.headers.etag);
    const none = await get(base, '/46xxsettings.txt');
    expect(none.status).toBe(404);
    expect(none.body.length).toBe(0);
    const unknownPhone = await get(base, '/46xxsettings.txt', { headers: { 'user-agent': J179_UA.replace('c81fea83e85a', 'c81fea999999') } });
    expect(unknownPhone.status).toBe(404);
    expect(unknownPhone.body.length).toBe(0);
  });

  it.each(['c81fea83e85a', 'C8-1F-EA-83-E8-5A', 'c8:1f:ea:83:e8:5a', 'C81FEA83E85A'])('DES form …/J179/%s/46xxsettings.txt', async (mac) => {
    const own = await get(base, '/c81fea83e85a.txt');
    const r = await get(base, `/anything/deeper/J179/${mac}/46xxsettings.txt`);
    expect(r.status).toBe(200);
    expect(r.body.equals(own.body)).toBe(true);
  });

  it('/x/J179/c81fea83e85a/J100Supgrade.txt: the upgrade script for that J179', async () => {
    const r = await get(base, '/x/J179/c81fea83e85a/J100Supgrade.txt');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']?.split(';')[0]).toBe('text/plain');
    expect(r.text).toMatch(/^IF \$MODEL4 SEQ J179 GOTO J179_SW$/m);
    expect(r.text.trimEnd().split('\n').pop()).toBe('GET 46xxsettings.txt');
    expect(r.text).not.toMatch(/PASSWORD/);
  });

  it('Poly: /0004F2A1B2C3.cfg (upper case) is the same file as the lower-case name', async () => {
    const lower = await get(base, '/0004f2a1b2c3.cfg');
    const upper = await get(base, '/0004F2A1B2C3.cfg');
    expect(upper.status).toBe(200);
    expect(upper.body.equals(lower.body)).toBe(true);
    expect(upper.text).toContain('CONFIG_FILES="0004f2a1b2c3-settings.cfg"');
    const upperSettings = await get(base, '/0004F2A1B2C3-settings.cfg');
    expect(upperSettings.status).toBe(200);
  });

  it('Poly: /000000000000.cfg keeps [PHONE_MAC_ADDRESS] literal', async () => {
    const r = await get(base, '/000000000000.cfg');
    expect(r.status).toBe(200);
    expect(r.text).toContain('[PHONE_MAC_ADDRESS]-settings.cfg');
  });

  it('Yealink: /y000000000066.cfg (T46S common) and /805ec0123456.cfg', async () => {
    const common = await get(base, '/y000000000066.cfg');
    expect(common.status).toBe(200);
    expect(common.text.startsWith('#!version:1.0.0.1\n')).toBe(true);
    expect(common.text).not.toMatch(/^account\./m);
    const own = await get(base, '/805ec0123456.cfg');
    expect(own.status).toBe(200);
    expect(own.text.startsWith('#!version:1.0.0.1\n')).toBe(true);
    expect(own.text).toMatch(/^account\.1\.user_name = 2010$/m);
  });

  it('the shared name <mac>.cfg is answered by the MAC’s vendor', async () => {
    const poly = await get(base, '/64167f0a8800.cfg');
    expect(poly.status).toBe(200);
    expect(poly.headers['content-type']?.split(';')[0]).toBe('application/xml');
    expect(poly.text.startsWith('<?xml')).toBe(true);
    const yealink = await get(base, '/805ec0abcdef.cfg');
    expect(yealink.status).toBe(200);
    expect(yealink.headers['content-type']?.split(';')[0]).toBe('text/plain');
    expect(yealink.text.startsWith('#!version:1.0.0.1')).toBe(true);
  });

  it('POST is 405 with an empty body and an Allow header', async () => {
    const r = await get(base, '/c81fea83e85a.txt', { method: 'POST', body: 'x' });
    expect(r.status).toBe(405);
    expect(r.body.length).toBe(0);
    expect(r.headers.allow).toMatch(/GET/);
    expect(r.headers.allow).toMatch(/HEAD/);
    const del = await get(base, '/c81fea83e85a.txt', { method: 'DELETE' });
    expect(del.status).toBe(405);
  });

  it('one JSON access-log line per request: time, ip, method, path, status, bytes, ms, mac, model', async () => {
    mem.lines.length = 0;
    const a = await get(base, '/c81fea83e85a.txt');
    const b = await get(base, '/0004F2A1B2C3.cfg', { method: 'HEAD' });
    const c = await get(base, '/46xxsettings.txt', { headers: { 'user-agent': J179_UA } });
    const d = await get(base, '/nothing.txt');
    const e = await get(base, '/805ec0123456-settings.cfg');
    expect([a.status, b.status, c.status, d.status, e.status]).toEqual([200, 200, 200, 404, 404]);
    await vi.waitFor(() => expect(accessLines(mem.lines)).toHaveLength(5));
    const log = accessLines(mem.lines);
    for (const l of log) {
      expect(Number.isNaN(Date.parse(l.time)), l.time).toBe(false);
      expect(l.ip).toMatch(/127\.0\.0\.1/);
      expect(typeof l.status).toBe('number');
      expect(typeof l.bytes).toBe('number');
      expect(typeof l.ms).toBe('number');
      expect(l.ms).toBeGreaterThanOrEqual(0);
    }
    expect(log.map((l) => [l.method, l.path, l.status])).toEqual([
      ['GET', '/c81fea83e85a.txt', 200],
      ['HEAD', '/0004F2A1B2C3.cfg', 200],
      ['GET', '/46xxsettings.txt', 200],
      ['GET', '/nothing.txt', 404],
      ['GET', '/805ec0123456-settings.cfg', 404],
    ]);
    expect(log[0]).toMatchObject({ mac: 'c81fea83e85a', model: 'J179', bytes: a.body.length });
    expect(log[1]).toMatchObject({ mac: '0004f2a1b2c3', model: 'VVX450' });
    expect(log[2]).toMatchObject({ mac: 'c81fea83e85a', model: 'J179', bytes: c.body.length });
    expect(log[3]!.bytes).toBe(0);
    // Another vendor's name for a known MAC is answered (and logged) as for an unknown MAC.
    expect(log[4]).toMatchObject({ mac: '805ec0123456', reason: 'unknown device', bytes: 0 });
    // Never a secret in the log.
    for (const s of SAMPLE_SECRETS) expect(mem.lines.join('\n')).not.toContain(s);
  });
});

describe('unknown_devices: defaults', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let base: string;
  const mem = memoryLog();

  beforeAll(async () => {
    root = await makeTmpRoot({ 'deskset.yaml': replaceOnce('unknown_devices: reject', 'unknown_devices: defaults') });
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, log: mem.log, watch: false });
    base = srv.url;
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('an unknown Poly-OUI MAC gets a settings file with no lines and no reg.N.auth.password', async () => {
    const r = await get(base, '/0004f2999999-settings.cfg');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']?.split(';')[0]).toBe('application/xml');
    const attrs = (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(r.text) as { polycomConfig: Record<string, unknown> }).polycomConfig;
    const keys = Object.keys(attrs);
    expect(keys.length).toBeGreaterThan(0); // global settings do arrive
    expect(keys.filter((k) => k.startsWith('reg.'))).toEqual([]);
    expect(r.text).not.toMatch(/auth\.password/);
    for (const s of LINE_SECRETS) expect(r.text).not.toContain(s);
    expect(attrs['voIpProt.SIP.domain']).toBe('northwind.example');
  });

  it('and its master config points at its own settings file', async () => {
    const r = await get(base, '/0004f2999999.cfg');
    expect(r.status).toBe(200);
    expect(r.text).toContain('CONFIG_FILES="0004f2999999-settings.cfg"');
  });

  it('an unknown Yealink MAC’s <mac>.cfg has no account.* keys', async () => {
    const r = await get(base, '/805ec0999999.cfg');
    expect(r.status).toBe(200);
    expect(r.text.startsWith('#!version:1.0.0.1\n')).toBe(true);
    expect(r.text).not.toMatch(/^account\./m);
    for (const s of LINE_SECRETS) expect(r.text).not.toContain(s);
    expect(r.text).toMatch(/^local_time\.ntp_server1 = 0\.pool\.ntp\.org$/m);
  });

  it('an unknown Yealink whose User-Agent names its model gets that model’s layer, still without accounts', async () => {
    const r = await get(base, '/805ec0999999.cfg', { headers: { 'user-agent': 'Yealink SIP-T54W 96.86.0.10 80:5e:c0:99:99:99' } });
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^static\.wifi\.enable = 0$/m); // from profiles/models/T54W.yaml
    expect(r.text).not.toMatch(/^account\./m);
  });

  it('an unknown Avaya MAC gets settings without FORCE_SIP credentials', async () => {
    const r = await get(base, '/c81fea999999.txt');
    expect(r.status).toBe(200);
    expect(r.text).not.toMatch(/FORCE_SIP/);
    for (const s of LINE_SECRETS) expect(r.text).not.toContain(s);
  });

  it('a known MAC still gets its own file, with its line', async () => {
    const r = await get(base, '/805ec0123456.cfg');
    expect(r.text).toMatch(/^account\.1\.user_name = 2010$/m);
  });

  it('a MAC whose OUI is no vendor’s, asking for a name two vendors share, is still 404', async () => {
    const r = await get(base, '/aabbccddeeff.cfg');
    expect(r.status).toBe(404);
    expect(r.body.length).toBe(0);
  });
});

describe('the real `deskset serve` process', () => {
  it('prints its banner and curl lines, serves, and exits on SIGTERM', async () => {
    const child = spawnCli(['serve', 'samples', '--port', '0', '--host', '127.0.0.1']);
    let stderr = '';
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr!.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          const m = /deskset serving \S+ on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
          if (m && /curl /.test(stderr.slice(m.index))) resolve(Number(m[1]));
        });
        void exited.then((x) => reject(new Error(`serve exited early (${JSON.stringify(x)}): ${stderr}`)));
      });
      expect(port).toBeGreaterThan(0);
      const devices = (await fs.readdir(path.join(SAMPLES, 'profiles', 'devices'))).filter((f) => f.endsWith('.yaml')).length;
      expect(stderr).toMatch(new RegExp(`deskset serving samples on http://127\\.0\\.0\\.1:\\d+ \\(${devices} devices`));
      // The default warm-up ran before listening (it is reported once the banner is out).
      expect(stderr).toMatch(/warmed up before listening: [1-9]\d* requests in \d+ ms/);
      const curls = stderr.split('\n').filter((l) => l.trim().startsWith('curl '));
      expect(curls.length).toBeGreaterThanOrEqual(2);
      for (const c of curls) expect(c).toContain(`http://127.0.0.1:${port}/`);
      const r = await get(`http://127.0.0.1:${port}`, '/c81fea83e85a.txt');
      expect(r.status).toBe(200);
      expect(r.text).toContain('SET DISPLAY_NAME "Reception NYC"');
      // One of the printed curl lines, run as printed (User-Agent included).
      const avayaCurl = curls.find((c) => c.includes('46xxsettings.txt'));
      if (avayaCurl) {
        const ua = /-A '([^']+)'/.exec(avayaCurl)?.[1];
        const url = /(http:\/\/\S+)/.exec(avayaCurl)![1]!;
        const viaUa = await fetch(url, { headers: ua ? { 'user-agent': ua } : {} });
        expect(viaUa.status).toBe(200);
        await viaUa.arrayBuffer();
      }
    } finally {
      child.kill('SIGTERM');
    }
    const end = await exited;
    expect(end).toEqual({ code: 0, signal: null });
    // The access log went to stdout as JSON lines.
    const access = stdout.split('\n').filter((l) => l.includes('"method"')).map((l) => JSON.parse(l) as { path: string });
    expect(access.some((a) => a.path === '/c81fea83e85a.txt')).toBe(true);
    // Only this test's own requests: none of the warm-up's hundreds.
    expect(access.map((a) => a.path).every((p) => p === '/c81fea83e85a.txt' || p === '/46xxsettings.txt')).toBe(true);
  });

  it('refuses a bad --warm-up, and --warm-up 0 skips it', async () => {
    const bad = await runCli(['serve', 'samples', '--port', '0', '--host', '127.0.0.1', '--warm-up', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad --warm-up lots');
    const child = spawnCli(['serve', 'samples', '--port', '0', '--host', '127.0.0.1', '--no-watch', '--warm-up', '0']);
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/curl /.test(stderr)) resolve();
      });
      void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toContain('warmed up');
  });
});
