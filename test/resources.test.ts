// Resource files (directories, ringtones, wallpapers, hand-written scripts) served by the real
// server from <root>/resources: per-device first with the shared 000000000000- fallback,
// device variables in names and in text (but never the phone's own variables inside an Avaya
// script, nor Poly's [PHONE_MAC_ADDRESS]), binary files byte-identical with ranges, the
// extension allow-list and size cap, and hostile paths refused. `deskset check` lints the
// hand-written Avaya scripts in resources/.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { checkJson } from './helpers/reload-root.js';
import { get, head, raw, serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { FIXTURES, HAVE_REALWORLD, REALWORLD, warnIfNoRealworld } from './helpers/shared.js';

warnIfNoRealworld('resources.test.ts');

const VVX = '0004f2a1b2c3'; // Poly VVX450, nyc, has its own directory file
const J179 = 'c81fea83e85a'; // Avaya J179, nyc
const J179_UA = `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:${J179})`;
const UNKNOWN = '0004f2ffff01'; // a Poly OUI, no device profile

const SHARED_DIR = '<directory>\n<mac>{{mac}}</mac><MAC>{{MAC}}</MAC><colon>{{MAC_colon}}</colon>\n<avaya>$MACADDR</avaya><m4>$MODEL4</m4>\n<model>{{model}}</model><site>{{site}}</site>\n<poly>[PHONE_MAC_ADDRESS]</poly>\n</directory>\n';
const OWN_DIR = '<directory owner="own">{{mac}}</directory>\n';
const WELCOME = 'Welcome {{mac}} ({{ model }}) at {{site}}; vendor {{vendor}}; phone var $MACADDR/$MODEL4; poly [PHONE_MAC_ADDRESS]; unknown {{nope}}\n';
const SPECIALS = [
  '## 46xxspecials.txt: hand-written site overlay',
  'IF $MODEL4 SEQ J179 GOTO J179_SPECIALS',
  'GOTO END',
  '# J179_SPECIALS',
  'SET BRURI "http://backup.example/{{mac}}/$MACADDR"',
  'SET ENABLE_PRESENCE 1',
  '# END',
  '',
].join('\n');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 31) % 256))]);
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 13 + 7) % 256))]);

let root: TmpRoot;
let server: RunningServer;
let secret: string;

beforeAll(async () => {
  root = await makeTmpRoot({
    'resources/000000000000-directory.xml': SHARED_DIR,
    [`resources/${VVX}-directory.xml`]: OWN_DIR,
    'resources/welcome.txt': WELCOME,
    'resources/46xxspecials.txt': SPECIALS,
    'resources/{{mac}}-blf.xml': '<blf for="{{mac}}" model="{{model}}" site="{{site}}"/>\n',
    'resources/evil.exe': 'MZ evil',
    'resources/install.sh': '#!/bin/sh\necho pwned\n',
    'resources/notes.yaml': 'secret: yes\n',
  });
  await fs.writeFile(root.file('resources/{{model}}-wallpaper.png'), PNG);
  await fs.writeFile(root.file('resources/$MODEL4_logo.png'), PNG.subarray(0, 100));
  await fs.writeFile(root.file('resources/$MACADDR-contacts.xml'), '<contacts mac="{{mac}}" site="{{site}}" phone="$MODEL4"/>\n');
  await fs.writeFile(root.file('resources/ring.wav'), WAV);
  // Something outside resources/ a traversal would want, and a symlink pointing at it.
  secret = await fs.readFile(root.file('deskset.yaml'), 'utf8');
  await fs.symlink(root.file('deskset.yaml'), root.file('resources/link.txt'));
  server = await serveRoot(root.dir);
});

afterAll(async () => {
  await server?.close();
  await root?.cleanup();
});

describe('per-device first, shared fallback', () => {
  it('/<mac>-directory.xml serves the device\'s own file when it has one', async () => {
    const r = await get(server, `/${VVX}-directory.xml`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(`<directory owner="own">${VVX}</directory>\n`);
    expect(r.headers['content-type']).toMatch(/xml/);
  });

  it('... and 000000000000-directory.xml, with that device\'s values, when it has none', async () => {
    const r = await get(server, `/${J179}-directory.xml`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(
      `<directory>\n<mac>${J179}</mac><MAC>${J179.toUpperCase()}</MAC><colon>C8:1F:EA:83:E8:5A</colon>\n<avaya>${J179}</avaya><m4>J179</m4>\n<model>J179</model><site>nyc</site>\n<poly>[PHONE_MAC_ADDRESS]</poly>\n</directory>\n`,
    );
  });

  it('an unknown MAC in the name gets the shared file with the MAC from the name; what is unknown stays as written', async () => {
    const r = await get(server, `/${UNKNOWN}-directory.xml`);
    expect(r.status).toBe(200);
    expect(r.text).toContain(`<mac>${UNKNOWN}</mac>`);
    expect(r.text).toContain(`<avaya>${UNKNOWN}</avaya>`);
    expect(r.text).toContain('<model>{{model}}</model><site>{{site}}</site>');
    expect(r.text).toContain('<m4>$MODEL4</m4>');
    expect(r.text).toContain('<poly>[PHONE_MAC_ADDRESS]</poly>');
  });

  it('the shared file itself, fetched with no device identified, is the bytes on disk', async () => {
    const r = await get(server, '/000000000000-directory.xml');
    expect(r.status).toBe(200);
    expect(r.text).toBe(SHARED_DIR);
  });

  it('a per-device name with no file and no fallback is 404', async () => {
    const r = await get(server, `/${J179}-nothing.xml`);
    expect(r.status).toBe(404);
  });
});

describe('substitution in text resources', () => {
  it('a known device (by User-Agent) gets its MAC, model, site and vendor from its profile', async () => {
    const r = await get(server, '/welcome.txt', { 'User-Agent': J179_UA });
    expect(r.status).toBe(200);
    expect(r.text).toBe(`Welcome ${J179} (J179) at nyc; vendor avaya; phone var ${J179}/J179; poly [PHONE_MAC_ADDRESS]; unknown {{nope}}\n`);
  });

  it('the model and site come from the profile, not from what the User-Agent claims', async () => {
    const r = await get(server, '/welcome.txt', { 'User-Agent': `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J189-4.1.3.0.6 (MAC:${J179})` });
    expect(r.status).toBe(200);
    expect(r.text).toContain('(J179) at nyc');
  });

  it('with no device identified the tokens are left as written (the bytes on disk)', async () => {
    const r = await get(server, '/welcome.txt');
    expect(r.status).toBe(200);
    expect(r.text).toBe(WELCOME);
  });

  it('ETag and Range apply to the substituted bytes', async () => {
    const full = await get(server, '/welcome.txt', { 'User-Agent': J179_UA });
    expect(full.headers['content-length']).toBe(String(full.body.length));
    expect(full.headers.etag).toBeTruthy();
    const plain = await get(server, '/welcome.txt');
    expect(full.headers.etag).not.toBe(plain.headers.etag);
    const part = await get(server, '/welcome.txt', { 'User-Agent': J179_UA, Range: 'bytes=8-19' });
    expect(part.status).toBe(206);
    expect(part.text).toBe(full.text.slice(8, 20));
    const notModified = await get(server, '/welcome.txt', { 'User-Agent': J179_UA, 'If-None-Match': full.headers.etag! });
    expect(notModified.status).toBe(304);
  });

  it('a {{mac}} in the file name: the MAC from the request, with that device\'s values', async () => {
    const r = await get(server, `/${VVX}-blf.xml`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(`<blf for="${VVX}" model="VVX450" site="nyc"/>\n`);
  });

  it('inside an Avaya script resource $MACADDR/$MODEL4 are the phone\'s: left untouched, and the served script still lints clean', async () => {
    const r = await get(server, '/46xxspecials.txt', { 'User-Agent': J179_UA });
    expect(r.status).toBe(200);
    expect(r.text).toContain('IF $MODEL4 SEQ J179 GOTO J179_SPECIALS');
    expect(r.text).toContain(`SET BRURI "http://backup.example/${J179}/$MACADDR"`);
    // Only deskset's own {{mac}} was expanded: everything else is the file as written.
    expect(r.text).toBe(SPECIALS.replace('{{mac}}', J179));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-res-lint-'));
    try {
      const served = path.join(dir, '46xxspecials.txt');
      await fs.writeFile(served, r.body);
      const lint = await runCli(['lint', served]);
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
      expect(lint.stdout + lint.stderr).not.toMatch(/: error /);
      const onDisk = await runCli(['lint', root.file('resources/46xxspecials.txt')]);
      expect(onDisk.code, onDisk.stdout + onDisk.stderr).toBe(0);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('$MACADDR in an XML resource is substituted; [PHONE_MAC_ADDRESS] never is', async () => {
    const r = await get(server, `/${J179}-directory.xml`);
    expect(r.text).toContain(`<avaya>${J179}</avaya>`);
    expect(r.text).not.toContain('$MACADDR');
    expect(r.text).toContain('[PHONE_MAC_ADDRESS]');
  });
});

describe('tokens in resource names', () => {
  it('resources/{{model}}-wallpaper.png answers /J179-wallpaper.png, byte-identical', async () => {
    const r = await get(server, '/J179-wallpaper.png');
    expect(r.status).toBe(200);
    expect(r.body.equals(PNG)).toBe(true);
    expect(r.headers['content-type']).toBe('image/png');
  });

  it('resources/$MODEL4_logo.png answers /J179_logo.png', async () => {
    const r = await get(server, '/J179_logo.png');
    expect(r.status).toBe(200);
    expect(r.body.equals(PNG.subarray(0, 100))).toBe(true);
  });

  it('resources/$MACADDR-contacts.xml answers /<mac>-contacts.xml with that device\'s values', async () => {
    const r = await get(server, `/${J179}-contacts.xml`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(`<contacts mac="${J179}" site="nyc" phone="J179"/>\n`);
  });

  it('the name pattern does not open anything else: /x/J179-wallpaper.png and /J179-wallpaper.png.exe are 404', async () => {
    expect((await get(server, '/x/J179-wallpaper.png')).status).toBe(404);
    expect((await get(server, '/J179-wallpaper.png.exe')).status).toBe(404);
  });
});

describe('binary resources', () => {
  it('streamed byte-identical, with Content-Length, ETag, Last-Modified', async () => {
    const r = await get(server, '/ring.wav');
    expect(r.status).toBe(200);
    expect(r.body.equals(WAV)).toBe(true);
    expect(r.headers['content-length']).toBe(String(WAV.length));
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.etag).toBeTruthy();
    expect(r.headers['last-modified']).toBeTruthy();
    // A known phone asking changes nothing in a binary file.
    const asPhone = await get(server, '/ring.wav', { 'User-Agent': J179_UA });
    expect(asPhone.body.equals(WAV)).toBe(true);
  });

  it('Range: 206 with exactly those bytes; 416 past the end; HEAD has no body', async () => {
    const r = await get(server, '/ring.wav', { Range: 'bytes=100-1099' });
    expect(r.status).toBe(206);
    expect(r.body.equals(WAV.subarray(100, 1100))).toBe(true);
    expect(r.headers['content-range']).toBe(`bytes 100-1099/${WAV.length}`);
    const past = await get(server, '/ring.wav', { Range: `bytes=${WAV.length + 10}-` });
    expect(past.status).toBe(416);
    const h = await head(server, '/ring.wav');
    expect(h.status).toBe(200);
    expect(h.body.length).toBe(0);
    expect(h.headers['content-length']).toBe(String(WAV.length));
  });
});

describe('what resources/ does not serve', () => {
  it.each(['/evil.exe', '/install.sh', '/notes.yaml'])('%s (extension not allow-listed) → 404, none of its bytes', async (p) => {
    for (const method of ['GET', 'HEAD']) {
      const r = await raw(server, method, p);
      expect(r.status).toBe(404);
      expect(r.text).not.toMatch(/MZ evil|pwned|secret: yes/);
    }
  });

  it('a symlink in resources/ pointing outside is not served', async () => {
    const r = await get(server, '/link.txt');
    expect(r.status).toBe(404);
    expect(r.text).not.toContain(secret.slice(0, 30));
  });

  it.each([
    ['..', '/../deskset.yaml'],
    ['%2e%2e', '/%2e%2e/deskset.yaml'],
    ['%2e%2e upper', '/%2E%2E/profiles/global.yaml'],
    ['%2f', '/..%2fdeskset.yaml'],
    ['%2f inside', '/resources%2f..%2fdeskset.yaml'],
    ['resources/..', '/resources/../deskset.yaml'],
    ['backslash', '/..\\deskset.yaml'],
    ['%5c', '/..%5cdeskset.yaml'],
    ['NUL', '/welcome.txt%00.png'],
    ['NUL raw-escaped in the middle', '/ring%00.wav'],
    ['absolute //', '//etc/passwd'],
    ['absolute %2f', '/%2fetc%2fpasswd'],
    ['absolute-form target', 'http://127.0.0.1/../deskset.yaml'],
    ['Windows drive', '/C:%5cWindows%5cwin.ini'],
    ['double-encoded', '/%252e%252e/deskset.yaml'],
    ['8 KB', `/${'a'.repeat(8 * 1024)}.xml`],
    ['8 KB of ../', `/${'../'.repeat(2800)}deskset.yaml`],
  ])('hostile path (%s) → 4xx, nothing of the root', async (_name, target) => {
    const r = await get(server, target);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.text).not.toContain(secret.slice(0, 30));
    expect(r.text).not.toContain('root:');
  });
});

describe('a root with its own files: {extensions, max_bytes}', () => {
  let r2: TmpRoot;
  let s2: RunningServer;
  beforeAll(async () => {
    r2 = await makeTmpRoot({
      'deskset.yaml': (old) => `${old}files:\n  extensions: [wav, XML, .cfg]\n  max_bytes: 2000\n`,
      'resources/000000000000-directory.xml': SHARED_DIR,
      'resources/000000000000-big.xml': `<big mac="{{mac}}">${'x'.repeat(3000)}</big>\n`,
      'resources/welcome.txt': WELCOME,
      'resources/small.wav': 'RIFFsmall',
    });
    await fs.writeFile(r2.file('resources/ring.wav'), WAV); // 4004 bytes: over the cap
    await fs.writeFile(r2.file('resources/{{model}}-wallpaper.png'), PNG);
    s2 = await serveRoot(r2.dir);
  });
  afterAll(async () => {
    await s2?.close();
    await r2?.cleanup();
  });

  it('only the listed extensions are served (case and a leading dot do not matter)', async () => {
    expect((await get(s2, '/small.wav')).status).toBe(200);
    expect((await get(s2, `/${J179}-directory.xml`)).status).toBe(200);
    expect((await get(s2, '/welcome.txt')).status).toBe(404);
    expect((await get(s2, '/J179-wallpaper.png')).status).toBe(404);
  });

  it('a binary file over max_bytes is refused', async () => {
    const r = await get(s2, '/ring.wav');
    expect(r.status).toBe(403);
    expect(r.body.length).toBeLessThan(100);
  });

  it('a text file over max_bytes is refused too, also when it would be substituted for a device', async () => {
    const plain = await get(s2, '/000000000000-big.xml');
    expect(plain.status).toBe(403);
    const forDevice = await get(s2, `/${J179}-big.xml`);
    expect(forDevice.status, 'the size cap is skipped for substituted text resources').toBe(403);
    expect(forDevice.text).not.toContain('xxxxxxxxxx');
  });
});

describe('deskset check lints hand-written Avaya scripts in resources/', () => {
  it('the clean overlay passes', async () => {
    const r = await makeTmpRoot({ 'resources/46xxspecials.txt': SPECIALS, 'resources/welcome.txt': WELCOME });
    try {
      const { code, json } = await checkJson(r.dir);
      expect(json.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(code).toBe(0);
    } finally {
      await r.cleanup();
    }
  });

  it('resources/46xxspecials.txt with a GOTO to a missing label: GOTO_MISSING_LABEL at its file:line:col, exit 1', async () => {
    const broken = SPECIALS.replace('GOTO END', 'GOTO FINISH');
    const r = await makeTmpRoot({ 'resources/46xxspecials.txt': broken });
    try {
      const res = await runCli(['check', '.'], { cwd: r.dir });
      expect(res.code, res.stdout + res.stderr).toBe(1);
      expect(res.stdout).toMatch(/^resources\/46xxspecials\.txt:3:6: error GOTO_MISSING_LABEL: .*FINISH/m);
    } finally {
      await r.cleanup();
    }
  });
});

// Real Avaya templates are Windows-1252 (smart quotes 0x93/0x94 in comments); our fixture
// is too, behind a BOM and with CRLF. The real one runs when ../shared/realworld is there.
const CP1252_SCRIPTS: Array<[string, string]> = [
  ['our cp1252 fixture', path.join(FIXTURES, 'avaya/46xxsettings-site.txt')],
  ...(HAVE_REALWORLD ? [['the real Avaya template', path.join(REALWORLD, 'avaya/drugalek2__avaya_phones_russian_locale/46xxsettings.txt')] as [string, string]] : []),
];

describe.each(CP1252_SCRIPTS)('text resources that are not UTF-8 keep their bytes (%s)', (_name, cp1252File) => {
  // Poly and Yealink directories are often ISO-8859-1. Substitution must only touch the tokens.
  const LATIN1 = Buffer.concat([
    Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\n<directory><item ln="Jo', 'latin1'),
    Buffer.from([0xe3]), // ã
    Buffer.from('o" fn="S', 'latin1'),
    Buffer.from([0xe9]), // é
    Buffer.from('" mac="{{mac}}"/></directory>\n', 'latin1'),
  ]);
  let r: TmpRoot;
  let s: RunningServer;
  let template: Buffer;
  beforeAll(async () => {
    r = await makeTmpRoot();
    template = await fs.readFile(cp1252File);
    await fs.mkdir(r.file('resources'), { recursive: true });
    await fs.writeFile(r.file('resources/46xxspecials.txt'), template);
    await fs.writeFile(r.file('resources/000000000000-contacts.xml'), LATIN1);
    s = await serveRoot(r.dir);
  });
  afterAll(async () => {
    await s?.close();
    await r?.cleanup();
  });

  it('a Windows-1252 Avaya script served to a known J179 is byte-identical to the disk', async () => {
    expect(template.includes(0x93)).toBe(true); // the fixture really is cp1252
    const plain = await get(s, '/46xxspecials.txt');
    expect(plain.status).toBe(200);
    expect(plain.body.equals(template)).toBe(true);
    const asPhone = await get(s, '/46xxspecials.txt', { 'User-Agent': J179_UA });
    expect(asPhone.status).toBe(200);
    expect(asPhone.body.length, 'cp1252 bytes re-encoded as UTF-8 replacement characters').toBe(template.length);
    expect(asPhone.body.equals(template)).toBe(true);
  });

  it('an ISO-8859-1 directory: {{mac}} substituted, every other byte as on disk', async () => {
    const got = await get(s, `/${J179}-contacts.xml`);
    expect(got.status).toBe(200);
    const want = Buffer.from(LATIN1.toString('latin1').replace('{{mac}}', J179), 'latin1');
    expect(got.body.toString('hex')).toBe(want.toString('hex'));
  });
});
