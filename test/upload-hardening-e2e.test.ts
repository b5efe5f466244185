import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { startServer, type RunningServer } from '../src/server.js';
import { collect, spawnCli } from './helpers/cli.js';
import { memoryLogger } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

// Issue 14 §7 over real sockets against startServer (and, for kill -9, `deskset serve` as a
// child process): PUT is challenged like GET, a write must come from the device it names,
// URL tokens work for PUT and never reach a log, and temp files stay within the quota.

const SITE_DEV = 'c81fea9102aa'; // nyc, no credentials of its own: only the site's
const OWN_DEV = '0004f2a1b2c3'; // nyc, with its own device credentials
const TOKEN_DEV = 'c81fea83e85a'; // nyc, reached through a URL token
const SITE_PW = 'SitePw-nyc-41';
const DEV_PW = 'Bob-device-pw-77';
const MiB = 1024 * 1024;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function rootEdits(extraConfig = ''): Record<string, string | ((old: string) => string)> {
  return {
    'profiles/sites/nyc.yaml': (old) => `${old}auth:\n  user: nyc\n  password: "\${file:secrets/site-nyc}"\n`,
    'secrets/site-nyc': `${SITE_PW}\n`,
    [`profiles/devices/${OWN_DEV}.yaml`]: (old) => `${old}auth:\n  user: bob\n  password: "\${file:secrets/dev-bob}"\n`,
    'secrets/dev-bob': `${DEV_PW}\n`,
    'deskset.yaml': (old) => `${old}\n${extraConfig}`,
  };
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Res> {
  return new Promise((resolve, reject) => {
    const h = body ? { 'Content-Length': String(body.length), ...headers } : headers;
    const r = http.request({ host: '127.0.0.1', port, method, path: target, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    // The server may answer (401, 413) and close before the whole body is sent.
    r.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? resolve({ status: 0, headers: {}, body: Buffer.alloc(0) }) : reject(e)));
    r.end(body);
  });
}

/** Every file under `dir` with its size (missing dir: none). */
async function files(dir: string): Promise<Array<{ rel: string; size: number }>> {
  const out: Array<{ rel: string; size: number }> = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const st = await fsp.lstat(p).catch(() => undefined);
        if (st) out.push({ rel: path.relative(dir, p), size: st.size });
      }
    }
  };
  await walk(dir);
  return out;
}

describe('who may upload', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let lines: string[];
  beforeAll(async () => {
    root = await makeTmpRoot(rootEdits());
    const mem = memoryLogger();
    lines = mem.lines;
    srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, watch: false, log: mem.log });
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('PUT without credentials gets the same 401 challenge as GET (not 403), and nothing is written', async () => {
    const get = await request(srv.port, 'GET', `/${OWN_DEV}-phone.cfg`);
    const put = await request(srv.port, 'PUT', `/${OWN_DEV}-phone.cfg`, {}, Buffer.from('<PHONE_CONFIG/>'));
    expect(get.status).toBe(401);
    expect(put.status).toBe(401);
    expect(put.headers['www-authenticate']).toBe(get.headers['www-authenticate']);
    expect(put.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(put.body.length).toBe(0);
    expect(await files(root.file('var/uploads'))).toEqual([]);
  });

  it('a phone that answers the challenge with its own credentials uploads (201), and gets it back', async () => {
    const cfg = Buffer.from('<PHONE_CONFIG><ALL up.backlight.idleIntensity="1"/></PHONE_CONFIG>\n');
    expect((await request(srv.port, 'PUT', `/${OWN_DEV}-phone.cfg`, { Authorization: basic('bob', DEV_PW) }, cfg)).status).toBe(201);
    expect((await request(srv.port, 'GET', `/${OWN_DEV}-phone.cfg`, { Authorization: basic('bob', DEV_PW) })).body).toEqual(cfg);
  });

  it('`curl -u nyc:SitePw -T evil.xml /c81fea9102aa-phone.cfg` is refused by default: shared credentials do not prove the device', async () => {
    const evil = Buffer.from('<PHONE_CONFIG><ALL reg.1.server.1.address="evil.example"/></PHONE_CONFIG>');
    // The site credentials are right (they open the device's files for reading)...
    expect((await request(srv.port, 'GET', `/${SITE_DEV}.txt`, { Authorization: basic('nyc', SITE_PW), 'User-Agent': 'AVAYA/J189-4.1.3.0.6' })).status).not.toBe(401);
    // ...but do not write them.
    const r = await request(srv.port, 'PUT', `/${SITE_DEV}-phone.cfg`, { Authorization: basic('nyc', SITE_PW) }, evil);
    expect(r.status).toBe(403);
    expect(await files(root.file(`var/uploads/${SITE_DEV}`))).toEqual([]);
    expect(lines.some((l) => l.includes('"event":"upload_shared_credentials"'))).toBe(true);
  });

  it("a device's own credentials do not write another device's files", async () => {
    const r = await request(srv.port, 'PUT', `/${SITE_DEV}-phone.cfg`, { Authorization: basic('bob', DEV_PW) }, Buffer.from('<x/>'));
    expect(r.status).toBe(401);
    expect(await files(root.file(`var/uploads/${SITE_DEV}`))).toEqual([]);
  });

  it('PUT through a URL token (/p/<token>/<mac>-local.cfg) works, and no log line contains the token', async () => {
    const token = await srv.gate.tokens!.issue(TOKEN_DEV);
    const local = Buffer.from('account.1.label = Desk\n');
    const r = await request(srv.port, 'PUT', `/p/${token}/${TOKEN_DEV}-local.cfg`, {}, local);
    expect(r.status).toBe(201);
    expect(await fsp.readFile(root.file(`var/uploads/${TOKEN_DEV}/${TOKEN_DEV}-local.cfg`))).toEqual(local);
    expect((await request(srv.port, 'GET', `/p/${token}/${TOKEN_DEV}-local.cfg`)).body).toEqual(local);
    // The token is for TOKEN_DEV only: another device's file is refused as any unproven MAC
    // file is (the challenge, since auth is configured), and nothing is written.
    expect((await request(srv.port, 'PUT', `/p/${token}/${SITE_DEV}-local.cfg`, {}, local)).status).toBe(401);
    expect(existsSync(root.file(`var/uploads/${SITE_DEV}/${SITE_DEV}-local.cfg`))).toBe(false);
    // Spelled with escapes, too: still no token in the log.
    const escaped = `/p/${token.replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`)}/${TOKEN_DEV}-local.cfg`;
    expect((await request(srv.port, 'PUT', escaped, {}, local)).status).toBe(204);
    const log = lines.join('\n');
    expect(lines.some((l) => l.includes('"event":"upload"') && l.includes(`${TOKEN_DEV}-local.cfg`))).toBe(true);
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.slice(1));
  });
});

describe('shared credentials may write where deskset.yaml opts in', () => {
  it('uploads: {shared_credentials_may_write: [nyc]} lets the site credentials write its devices', async () => {
    const root = await makeTmpRoot(rootEdits('uploads:\n  shared_credentials_may_write: [nyc]\n'));
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, watch: false, log: memoryLogger().log });
    try {
      const r = await request(srv.port, 'PUT', `/${SITE_DEV}-phone.cfg`, { Authorization: basic('nyc', SITE_PW) }, Buffer.from('<PHONE_CONFIG/>'));
      expect(r.status).toBe(201);
      // Still no write without credentials at all.
      expect((await request(srv.port, 'PUT', `/${SITE_DEV}-web.cfg`, {}, Buffer.from('<x/>'))).status).toBe(401);
    } finally {
      await srv.close();
      await root.cleanup();
    }
  });
});

describe('temp files are bounded by the quota', () => {
  // With the defaults (4 uploads per device at a time, the rest waiting), and with the
  // concurrency raised to 64 so that only the quota reservation bounds the disk.
  it.each([
    ['the default uploads: settings', ''],
    ['max_concurrent_per_device: 64', 'uploads:\n  max_device_bytes: 20971520\n  max_log_bytes: 5242880\n  max_concurrent_per_device: 64\n'],
  ])('40 parallel 5 MiB PUTs against a 20 MiB quota (%s) never hold more than 20 MiB + one upload on disk, and end consistent', async (_label, config) => {
    const root = await makeTmpRoot(rootEdits(config));
    const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, watch: false, log: memoryLogger().log });
    const devDir = root.file(`var/logs/${OWN_DEV}`);
    let maxSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const total = (await files(devDir)).reduce((a, f) => a + f.size, 0);
        maxSeen = Math.max(maxSeen, total);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const body = Buffer.alloc(5 * MiB, 'x');
      const results = await Promise.all(Array.from({ length: 40 }, () => request(srv.port, 'PUT', `/${OWN_DEV}-app.log`, { Authorization: basic('bob', DEV_PW) }, body)));
      sampling = false;
      await sampler;
      const statuses = results.map((r) => r.status);
      const stored = statuses.filter((s) => s === 201 || s === 204).length;
      // Everything else was refused for the quota (some clients see the close before the 413).
      expect(statuses.every((s) => [201, 204, 413, 0].includes(s)), statuses.join(',')).toBe(true);
      expect(stored).toBe(4);
      // 20 MiB + one upload, plus the append journal (a few bytes holding the old length).
      expect(maxSeen).toBeGreaterThan(15 * MiB); // the sampler saw the uploads happen
      expect(maxSeen).toBeLessThanOrEqual(25 * MiB + 64);
      const end = await files(devDir);
      expect(end.filter((f) => f.rel.startsWith('.'))).toEqual([]);
      expect(end).toHaveLength(1);
      expect(end[0]!.size).toBe(stored * 5 * MiB);
      // Consistent: the log holds whole uploads only.
      const text = await fsp.readFile(path.join(devDir, end[0]!.rel));
      expect(text.every((b) => b === 0x78)).toBe(true);
    } finally {
      sampling = false;
      await sampler;
      await srv.close();
      await root.cleanup();
    }
  }, 60_000);

  it('kill -9 during uploads leaves temp files; the next start removes them', async () => {
    const root = await makeTmpRoot(rootEdits());
    const serve = () => {
      const child = spawnCli(['serve', root.dir, '--port', '0', '--host', '127.0.0.1', '--warm-up', '0', '--no-watch']);
      const done = collect(child, 60_000);
      const port = new Promise<number>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /deskset serving .* on http:\/\/[^:]+:(\d+)/.exec(err);
          if (m) resolve(Number(m[1]));
        });
        child.once('close', () => reject(new Error(`server exited: ${err}`)));
      });
      return { child, done, port };
    };
    const first = serve();
    const port = await first.port;
    const temps = async () => (await files(root.file('var'))).filter((f) => f.rel.endsWith('.tmp'));
    // Four uploads that declare 1 MiB and send half, then stall: their temp files are on disk.
    const sockets: http.ClientRequest[] = [];
    for (const name of ['phone.cfg', 'web.cfg', 'directory.xml', 'app.log']) {
      const r = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/${OWN_DEV}-${name}`, headers: { 'Content-Length': String(MiB), Authorization: basic('bob', DEV_PW) }, agent: false });
      r.on('error', () => undefined);
      r.write(Buffer.alloc(MiB / 2, 'y'));
      sockets.push(r);
    }
    const until = Date.now() + 20_000;
    while ((await temps()).length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect((await temps()).length).toBe(4);
    first.child.kill('SIGKILL');
    await first.done;
    for (const s of sockets) s.destroy();
    expect((await temps()).length).toBe(4); // what the crash left

    const second = serve();
    await second.port;
    expect(await temps()).toEqual([]);
    // Nothing half-written became a file either.
    expect((await files(root.file('var'))).filter((f) => !f.rel.startsWith('tokens') && !f.rel.startsWith('deskset.db'))).toEqual([]);
    second.child.kill('SIGTERM');
    await second.done;
    await root.cleanup();
  }, 60_000);
});
