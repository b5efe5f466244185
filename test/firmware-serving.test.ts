// Firmware served from disk by the real server (startServer on a temp root, port 0): bytes
// and validators, ranges and resumed downloads, the extension allow-list and size cap, no
// release.yaml, no way out of firmware/. And the directives the server renders name files
// the same server hands out.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { until } from './helpers/reload-root.js';
import { get, head, raw, serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const DIGITS = '123456789';
const AV = 'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin';
const AV_BIG = 'firmware/avaya/4.1.13.0.1/FW_S_J189A_R4_1_13_0_1.bin';
const AV_EXE = 'firmware/avaya/4.1.3.0.6/tool.exe';
const AV_SH = 'firmware/avaya/4.1.3.0.6/flash.sh';
const POLY_YAML = 'firmware/polycom/6.4.6.2945/release.yaml';
const POLY_IMG = 'firmware/polycom/6.4.6.2945/vvx450-6.4.6.ld';
const YL = 'firmware/yealink/66.86.0.15/T46S(T48S,T42S,T41S)-66.86.0.15.rom';
const MAX = 4096;
/** Binary image bytes (every byte value), larger than one read chunk is not needed. */
const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256));

let root: TmpRoot;
let server: RunningServer;
let deskset: string;
let global: string;

beforeAll(async () => {
  root = await makeTmpRoot({
    [AV]: DIGITS,
    [AV_BIG]: 'B'.repeat(MAX + 1),
    [AV_EXE]: 'MZ not really a program',
    [AV_SH]: '#!/bin/sh\nrm -rf /\n',
    [POLY_YAML]: 'models:\n  VVX450: vvx450-6.4.6.ld\n',
    [POLY_IMG]: 'poly image bytes',
    'profiles/global.yaml': (old) => `${old}firmware:\n  policy: latest\n`,
    'deskset.yaml': (old) => `${old}public_url: http://127.0.0.1:1/\nfiles:\n  max_bytes: ${MAX}\n`,
  });
  await fs.mkdir(root.file('firmware/yealink/66.86.0.15'), { recursive: true });
  await fs.writeFile(root.file(YL), BINARY);
  deskset = await fs.readFile(root.file('deskset.yaml'), 'utf8');
  global = await fs.readFile(root.file('profiles/global.yaml'), 'utf8');
  server = await serveRoot(root.dir);
});

afterAll(async () => {
  await server?.close();
  await root?.cleanup();
});

describe('GET and HEAD of a firmware image', () => {
  it('GET: the bytes on disk, with Content-Length, Accept-Ranges, ETag, Last-Modified', async () => {
    const r = await get(server, `/${AV}`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(DIGITS);
    expect(r.headers['content-length']).toBe('9');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.etag).toMatch(/^(W\/)?"[^"]+"$/);
    const st = await fs.stat(root.file(AV));
    expect(r.headers['last-modified']).toBe(new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString());
  });

  it('GET of a binary image is byte-identical', async () => {
    const r = await get(server, `/firmware/yealink/66.86.0.15/${encodeURIComponent('T46S(T48S,T42S,T41S)-66.86.0.15.rom')}`);
    expect(r.status).toBe(200);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(createHash('sha256').update(BINARY).digest('hex'));
    expect(r.headers['content-length']).toBe(String(BINARY.length));
  });

  it('the same file answers with its name raw, or with parentheses and commas percent-encoded', async () => {
    for (const name of ['T46S(T48S,T42S,T41S)-66.86.0.15.rom', 'T46S%28T48S%2CT42S%2CT41S%29-66.86.0.15.rom', 'T46S(T48S%2cT42S%2cT41S)-66.86.0.15.rom']) {
      const r = await get(server, `/firmware/yealink/66.86.0.15/${name}`);
      expect(r.status, name).toBe(200);
      expect(r.body.equals(BINARY), name).toBe(true);
    }
  });

  it('HEAD: the same headers as GET and no body', async () => {
    const g = await get(server, `/${AV}`);
    const h = await head(server, `/${AV}`);
    expect(h.status).toBe(200);
    expect(h.body.length).toBe(0);
    expect(h.headers['content-length']).toBe('9');
    expect(h.headers.etag).toBe(g.headers.etag);
    expect(h.headers['last-modified']).toBe(g.headers['last-modified']);
    expect(h.headers['accept-ranges']).toBe('bytes');
  });

  it('Range: 206 with the selected bytes and Content-Range', async () => {
    const r = await get(server, `/${AV}`, { Range: 'bytes=2-5' });
    expect(r.status).toBe(206);
    expect(r.text).toBe('3456');
    expect(r.headers['content-range']).toBe('bytes 2-5/9');
    expect(r.headers['content-length']).toBe('4');
    const suffix = await get(server, `/${AV}`, { Range: 'bytes=-3' });
    expect(suffix.status).toBe(206);
    expect(suffix.text).toBe('789');
    const binary = await get(server, `/${YL}`, { Range: 'bytes=1000-1999' });
    expect(binary.status).toBe(206);
    expect(binary.body.equals(BINARY.subarray(1000, 2000))).toBe(true);
  });

  it('Range beyond the end: 416 with bytes */size and none of the file', async () => {
    const r = await get(server, `/${AV}`, { Range: 'bytes=20-30' });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */9');
    expect(r.text).not.toContain(DIGITS.slice(0, 3));
  });

  it('If-None-Match with the current ETag: 304, no body', async () => {
    const { headers } = await get(server, `/${AV}`);
    const r = await get(server, `/${AV}`, { 'If-None-Match': headers.etag! });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
    expect(r.headers.etag).toBe(headers.etag);
    const other = await get(server, `/${AV}`, { 'If-None-Match': '"something-else"' });
    expect(other.status).toBe(200);
  });

  it('resumed download: Range + If-Range with the current ETag continues; with a stale one starts over', async () => {
    const { headers } = await get(server, `/${AV}`);
    const resumed = await get(server, `/${AV}`, { Range: 'bytes=4-', 'If-Range': headers.etag! });
    expect(resumed.status).toBe(206);
    expect(resumed.text).toBe('56789');
    expect(resumed.headers['content-range']).toBe('bytes 4-8/9');
    const stale = await get(server, `/${AV}`, { Range: 'bytes=4-', 'If-Range': '"stale-tag"' });
    expect(stale.status).toBe(200);
    expect(stale.text).toBe(DIGITS);
  });
});

describe('what is not served from firmware/', () => {
  it('a file with a non-allow-listed extension (.exe, .sh) is 404, and its bytes never leave', async () => {
    for (const p of [AV_EXE, AV_SH]) {
      for (const method of ['GET', 'HEAD']) {
        const r = await raw(server, method, `/${p}`);
        expect(r.status, `${method} ${p}`).toBe(404);
        expect(r.text).not.toContain('MZ');
        expect(r.text).not.toContain('rm -rf');
      }
    }
  });

  it('a file over files.max_bytes is refused (403), none of its bytes sent, Range or not', async () => {
    for (const headers of [{}, { Range: 'bytes=0-9' }] as Array<Record<string, string>>) {
      const r = await get(server, `/${AV_BIG}`, headers);
      expect(r.status).toBe(403);
      expect(r.text).not.toContain('BBBB');
    }
    const h = await head(server, `/${AV_BIG}`);
    expect(h.status).toBe(403);
  });

  it('a file of exactly files.max_bytes is served', async () => {
    const exact = 'firmware/avaya/4.1.3.0.6/FW_S_J169_R4_1_3_0_6.bin';
    await fs.writeFile(root.file(exact), 'E'.repeat(MAX));
    const s = await serveRoot(root.dir);
    try {
      const r = await get(s, `/${exact}`);
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(MAX);
    } finally {
      await s.close();
      await fs.rm(root.file(exact));
    }
  });

  it('release.yaml is not served', async () => {
    const r = await get(server, `/${POLY_YAML}`);
    expect(r.status).toBe(404);
    expect(r.text).not.toContain('VVX450');
    // ... while the image it maps is.
    const img = await get(server, `/${POLY_IMG}`);
    expect(img.status).toBe(200);
    expect(img.text).toBe('poly image bytes');
  });

  it('a file on disk that is not under firmware/<vendor>/<version>/ or a listed name is 404', async () => {
    for (const p of ['/firmware/avaya/4.1.3.0.6/', '/firmware/avaya/4.1.3.0.6', '/firmware/avaya', '/firmware/', '/firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.BIN.bak']) {
      const r = await get(server, p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
      expect(r.text).not.toContain(DIGITS);
    }
  });

  it.each([
    '/firmware/../deskset.yaml',
    '/firmware/avaya/../../deskset.yaml',
    '/firmware/%2e%2e/deskset.yaml',
    '/firmware/%2e%2e/profiles/global.yaml',
    '/firmware/%2E%2E/profiles/global.yaml',
    '/firmware/avaya/4.1.3.0.6/..%2f..%2f..%2fprofiles%2fglobal.yaml',
    '/firmware%2f..%2fdeskset.yaml',
    '/firmware/..\\deskset.yaml',
    '/firmware/avaya/4.1.3.0.6/%2e%2e%5c%2e%2e%5c%2e%2e%5cdeskset.yaml',
    '/firmware/./../profiles/global.yaml',
    '/firmware//../deskset.yaml',
    '/firmware/%252e%252e/deskset.yaml',
    '/firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin%00.yaml',
    '/deskset.yaml',
    '/profiles/global.yaml',
  ])('traversal toward the root: %s → 4xx and none of the file', async (target) => {
    const r = await get(server, target);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    // Nothing of deskset.yaml or global.yaml in the answer.
    expect(r.text).not.toContain('max_bytes');
    expect(r.text).not.toContain('Northwind');
    expect(r.text).not.toContain(deskset.slice(0, 40));
    expect(r.text).not.toContain(global.slice(0, 40));
  });
});

describe('directives name files this server serves', () => {
  it('the shared J100Supgrade.txt APPNAME is fetchable and byte-equal to the disk', async () => {
    const script = await get(server, '/J100Supgrade.txt');
    expect(script.status).toBe(200);
    const names = [...script.text.matchAll(/^SET APPNAME (\S+)$/gm)].map((m) => m[1]!);
    expect(names).toContain(AV);
    const r = await get(server, `/${AV}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(await fs.readFile(root.file(AV)))).toBe(true);
  });

  it('Poly APP_FILE_PATH (from release.yaml) is fetchable', async () => {
    const cfg = await get(server, '/0004f2a1b2c3.cfg');
    expect(cfg.status).toBe(200);
    const m = /APP_FILE_PATH="([^"]+)"/.exec(cfg.text);
    expect(m?.[1]).toBe(POLY_IMG);
    const r = await get(server, `/${m![1]}`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('poly image bytes');
  });

  it('Yealink static.firmware.url: its path (URL-encoded) fetches the image', async () => {
    const cfg = await get(server, '/805ec0123456.cfg');
    expect(cfg.status).toBe(200);
    const m = /^static\.firmware\.url = (\S+)$/m.exec(cfg.text);
    expect(m, cfg.text).toBeTruthy();
    const u = new URL(m![1]!);
    const r = await get(server, u.pathname);
    expect(r.status).toBe(200);
    expect(r.body.equals(BINARY)).toBe(true);
  });

  it('every SET APPNAME in every rendered Avaya script names a file the server hands out (none over the size cap)', async () => {
    // The J189 image is on disk but over files.max_bytes: a phone told to load it gets 403 and
    // keeps failing. Either no directive names it, or check says so.
    const script = await get(server, '/J100Supgrade.txt');
    const names = [...script.text.matchAll(/^SET APPNAME (\S+)$/gm)].map((m) => m[1]!);
    const refused: string[] = [];
    for (const n of names) if ((await head(server, `/${n}`)).status !== 200) refused.push(n);
    if (refused.length) {
      const check = await runCli(['check', root.dir, '--json']);
      const json = JSON.parse(check.stdout) as { diagnostics: Array<{ code: string; message: string; loc?: { file: string } }> };
      const mentioned = json.diagnostics.filter((d) => refused.some((n) => d.message.includes(n.split('/').pop()!) || d.loc?.file.endsWith(n)));
      expect(mentioned, `directive names ${refused.join(', ')} which the server refuses, and check says nothing`).not.toEqual([]);
    }
  });

  it('a files.extensions list without the image type: directives would name files that 404; check says so, or no directive', async () => {
    const r = await makeTmpRoot({
      [AV]: DIGITS,
      'profiles/global.yaml': (old) => `${old}firmware:\n  policy: latest\n`,
      'deskset.yaml': (old) => `${old}files:\n  extensions: [xml, cfg, txt, ld, rom]\n`,
    });
    const s = await serveRoot(r.dir);
    try {
      expect((await get(s, `/${AV}`)).status).toBe(404);
      const script = await get(s, '/J100Supgrade.txt');
      const names = [...script.text.matchAll(/^SET APPNAME (\S+)$/gm)].map((m) => m[1]!);
      if (names.length) {
        const check = await runCli(['check', r.dir, '--json']);
        const json = JSON.parse(check.stdout) as { diagnostics: Array<{ code: string; message: string }> };
        const mentioned = json.diagnostics.filter((d) => /FW_S_J179|\.bin|extension/i.test(d.message));
        expect(mentioned, `J100Supgrade.txt says SET APPNAME ${names.join(', ')} but the server answers 404 for it, and check says nothing`).not.toEqual([]);
      }
    } finally {
      await s.close();
      await r.cleanup();
    }
  });
});

describe('the upgrade script a known J100 gets, and live reload keeping directives in step with the disk', () => {
  const AV_NEW = 'firmware/avaya/4.1.13.0.1/FW_S_J179_R4_1_13_0_1.bin';
  const LIS = '2cf4c5001122'; // J179, Lisbon: pinned per site
  const NYC = 'c81fea83e85a'; // J179, New York: latest
  const ua = (mac: string) => `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${mac})`;
  const appnames = (text: string) => [...text.matchAll(/^SET APPNAME (\S+)$/gm)].map((m) => m[1]!);
  let r: TmpRoot;
  let s: RunningServer;
  beforeAll(async () => {
    r = await makeTmpRoot({
      [AV]: DIGITS,
      [AV_NEW]: 'newer image',
      'profiles/global.yaml': (old) => `${old}firmware:\n  policy: latest\n`,
      'profiles/sites/lisbon.yaml': (old) => `${old}firmware:\n  models:\n    J179: {policy: pinned, version: 4.1.3.0.6}\n`,
    });
    s = await serveRoot(r.dir, { watch: true });
  });
  afterAll(async () => {
    await s?.close();
    await r?.cleanup();
  });

  it('DES form /J179/<mac>/J100Supgrade.txt follows the device\'s site pin', async () => {
    expect(appnames((await get(s, `/J179/${LIS}/J100Supgrade.txt`)).text)).toEqual([AV]);
    expect(appnames((await get(s, `/J179/${NYC}/J100Supgrade.txt`)).text)).toEqual([AV_NEW]);
  });

  it('/J100Supgrade.txt asked by a known phone (MAC in its User-Agent) is that phone\'s script', async () => {
    expect(appnames((await get(s, '/J100Supgrade.txt', { 'User-Agent': ua(LIS) })).text)).toEqual([AV]);
    expect(appnames((await get(s, '/J100Supgrade.txt', { 'User-Agent': ua(NYC) })).text)).toEqual([AV_NEW]);
    // Without a MAC: the shared script (global and model layers: latest).
    expect(appnames((await get(s, '/J100Supgrade.txt')).text)).toEqual([AV_NEW]);
  });

  it('an image removed from disk disappears from the served script (latest falls back to what is left)', async () => {
    await fs.rm(r.file(AV_NEW));
    // Bounded poll for the reload (never a fixed sleep, never a timing assertion).
    const names = await until(async () => {
      const n = appnames((await get(s, `/J179/${NYC}/J100Supgrade.txt`)).text);
      return n.includes(AV_NEW) ? undefined : n;
    }, 'the reload after removing the image', 15_000);
    expect(names).toEqual([AV]);
    expect(appnames((await get(s, '/J100Supgrade.txt')).text)).toEqual([AV]);
    expect((await get(s, `/${AV_NEW}`)).status).toBe(404);
  });
});
