// `deskset bundle` end to end through the real CLI: every bundle built twice (with the root's
// file times changed between) is the same bytes; the static bundle unpacked is exactly the
// `render --out` tree, its manifest's hashes hold, and nginx serving it answers every path as a
// running deskset does; the DES zip keeps DES's rules and refuses what DES would reject before
// writing; the IP Office tar carries a 46xxspecials.txt that lints clean. Needs dist/.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx } from '../bench/servers.js';
import type { RunningServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { get, serveRoot } from './helpers/serve-root.js';
import { makeTmpRoot, sampleSecrets, SAMPLES, type TmpRoot } from './helpers/tmp-root.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'].find((p) => existsSync(p));
if (!NGINX) console.warn('bundle.test.ts: nginx part skipped, no nginx binary (apt-get install -y nginx-light)');
const UNZIP = ['/usr/bin/unzip', '/bin/unzip'].find((p) => existsSync(p));
if (!UNZIP) console.warn('bundle.test.ts: zip unpacking skipped, no unzip binary (apt-get install -y unzip)');

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001', 'hex');
let root: TmpRoot;
let work: string;

beforeAll(async () => {
  const global = await fs.readFile(path.join(SAMPLES, 'profiles/global.yaml'), 'utf8');
  root = await makeTmpRoot(
    {
      'profiles/global.yaml': global.replace('      ENABLE_IPOFFICE: 0\n', '      ENABLE_IPOFFICE: 0\n      PROCPSWD: "27238"\n      BACKGROUND_IMAGE: J100_back.png\n'),
      'profiles/sites/lisbon.yaml': (old) => `${old.replace(/\n*$/, '\n')}  avaya:\n    settings:\n      SCREENSAVERON: 40\n`,
      'firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin': 'fake J179 image\n',
      'resources/J100_back.png': '',
      'resources/directory.xml': '<directory/>\n',
    },
    'deskset-bundle-',
  );
  await fs.writeFile(root.file('resources/J100_back.png'), PNG);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-bundle-out-'));
  await fs.chmod(work, 0o755);
});
afterAll(async () => {
  await root?.cleanup();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const bundle = (...args: string[]) => runCli(['bundle', root.dir, ...args]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else out.push(r);
  }
  return out.sort();
}

describe('reproducible: the same root gives the same bytes', () => {
  it.each([
    ['static', 'zip'],
    ['static', 'tar.gz'],
    ['des', 'zip'],
    ['ipoffice', 'tar'],
  ])('--for %s --format %s, built twice with the files touched between', async (target, format) => {
    const a = path.join(work, `a-${target}.${format}`);
    const b = path.join(work, `b-${target}.${format}`);
    const r1 = await bundle('--for', target, '--format', format, '--out', a, '--show-secrets');
    expect(r1.code, r1.stderr).toBe(0);
    const later = new Date(Date.now() + 3_600_000);
    for (const f of await filesUnder(root.dir)) await fs.utimes(root.file(f), later, later);
    const r2 = await bundle('--for', target, '--format', format, '--out', b, '--show-secrets');
    expect(r2.code, r2.stderr).toBe(0);
    const [x, y] = [await fs.readFile(a), await fs.readFile(b)];
    expect(x.length).toBeGreaterThan(0);
    expect(sha(x)).toBe(sha(y));
    expect(r1.stdout).toContain(sha(x));
  });
});

describe('--for static', () => {
  let unpacked: string;
  let rendered: string;
  beforeAll(async () => {
    const tgz = path.join(work, 'static.tar.gz');
    expect((await bundle('--for', 'static', '--format', 'tar.gz', '--out', tgz, '--show-secrets')).code).toBe(0);
    unpacked = path.join(work, 'www');
    await fs.mkdir(unpacked);
    execFileSync('tar', ['-xzf', tgz, '-C', unpacked]);
    rendered = path.join(work, 'rendered');
    const r = await runCli(['render', root.dir, '--out', rendered, '--show-secrets']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('is exactly the render --out tree, plus a manifest whose hashes hold', async () => {
    const files = await filesUnder(unpacked);
    expect(files.filter((f) => f !== 'deskset-manifest.json')).toEqual(await filesUnder(rendered));
    for (const f of await filesUnder(rendered)) expect((await fs.readFile(path.join(unpacked, f))).equals(await fs.readFile(path.join(rendered, f))), f).toBe(true);
    const manifest = JSON.parse(await fs.readFile(path.join(unpacked, 'deskset-manifest.json'), 'utf8')) as { files: Array<{ path: string; bytes: number; sha256: string }> };
    expect(manifest.files.map((f) => f.path)).toEqual(files.filter((f) => f !== 'deskset-manifest.json'));
    for (const m of manifest.files) {
      const b = await fs.readFile(path.join(unpacked, m.path));
      expect([m.bytes, m.sha256]).toEqual([b.length, sha(b)]);
    }
    expect(files).toContain('firmware/avaya/4.1.3.0.6/FW_S_J179_R4_1_3_0_6.bin');
  });

  it.skipIf(!UNZIP)('the zip holds the same files as the tar.gz', async () => {
    const zip = path.join(work, 'static.zip');
    expect((await bundle('--for', 'static', '--out', zip, '--show-secrets')).code).toBe(0);
    const dir = path.join(work, 'from-zip');
    execFileSync(UNZIP!, ['-q', zip, '-d', dir]);
    const files = await filesUnder(dir);
    expect(files).toEqual(await filesUnder(unpacked));
    for (const f of files) expect((await fs.readFile(path.join(dir, f))).equals(await fs.readFile(path.join(unpacked, f))), f).toBe(true);
  });

  it('without --show-secrets no secret is in the bundle', async () => {
    const out = path.join(work, 'masked.tar.gz');
    expect((await bundle('--for', 'static', '--format', 'tar.gz', '--out', out)).code).toBe(0);
    const dir = path.join(work, 'masked');
    await fs.mkdir(dir);
    execFileSync('tar', ['-xzf', out, '-C', dir]);
    const all = Buffer.concat(await Promise.all((await filesUnder(dir)).map((f) => fs.readFile(path.join(dir, f))))).toString('latin1');
    const secrets = [...(await sampleSecrets()), '27238'];
    expect(secrets.length).toBeGreaterThan(3);
    for (const s of secrets) expect(all.includes(Buffer.from(s).toString('latin1')), s).toBe(false);
  });

  describe.skipIf(!NGINX)('served by nginx', () => {
    let deskset: RunningServer;
    let nginx: Awaited<ReturnType<typeof startNginx>>;
    beforeAll(async () => {
      deskset = await serveRoot(root.dir);
      nginx = await startNginx(NGINX!, unpacked, { label: 'bundle', workDir: work });
    }, 60_000);
    afterAll(async () => {
      await nginx?.stop();
      await deskset?.close();
    });

    it('answers every file of the manifest, and misses, as deskset does', async () => {
      const manifest = JSON.parse(await fs.readFile(path.join(unpacked, 'deskset-manifest.json'), 'utf8')) as { files: Array<{ path: string }> };
      const paths = [...manifest.files.map((f) => f.path), 'nonexistent.cfg', '0004f2999999.cfg'];
      const diffs: string[] = [];
      for (const p of paths) {
        const target = `/${p.split('/').map(encodeURIComponent).join('/')}`;
        const [a, b] = await Promise.all([get(deskset, target), fetch(`${nginx.base}${target}`)]);
        const body = Buffer.from(await b.arrayBuffer());
        if (a.status !== b.status) diffs.push(`${p}: deskset ${a.status}, nginx ${b.status}`);
        else if (a.status === 200 && !a.body.equals(body)) diffs.push(`${p}: bytes differ`);
      }
      expect(diffs).toEqual([]);
      expect(paths.length).toBeGreaterThan(40);
    });
  });
});

describe('--for des', () => {
  it.skipIf(!UNZIP)('holds the exact names, each Avaya device\'s <mac>.txt, resources, no firmware; every script lints clean', async () => {
    const zip = path.join(work, 'des.zip');
    const r = await bundle('--for', 'des', '--out', zip, '--show-secrets');
    expect(r.code, r.stderr).toBe(0);
    const dir = path.join(work, 'des');
    execFileSync(UNZIP!, ['-q', zip, '-d', dir]);
    const files = await filesUnder(dir);
    const avaya = (await fs.readdir(root.file('profiles/devices'))).filter((f) => /^(c81fea|2cf4c5)/.test(f)).map((f) => f.replace('.yaml', '.txt'));
    expect(files).toEqual(['46xxsettings.txt', 'J100Supgrade.txt', 'J100_back.png', ...avaya, 'directory.xml'].sort());
    expect(await fs.readFile(path.join(dir, '46xxsettings.txt'), 'utf8')).toMatch(/\nGET \$MACADDR\.txt\n$/);
    const lint = await runCli(['lint', ...files.filter((f) => f.endsWith('.txt')).map((f) => path.join(dir, f))]);
    expect(lint.stdout).toMatch(/0 error\(s\)/);
    expect(lint.code, lint.stdout).toBe(0);
  });

  it.each([
    ['an extension DES does not take', { 'resources/contacts.csv': 'name,number\n' }, /\/resources\/contacts\.csv:1:1: error DES_EXTENSION: DES accepts only \.xml .* "\.csv" would be rejected/],
    ['two names that differ only by case', { 'resources/Logo.png': 'a', 'resources/logo.png': 'b' }, /\/resources\/logo\.png:1:1: error DES_CASE_CLASH: differs from Logo\.png only by letter case/],
  ])('%s: an error naming the file, and nothing written', async (_what, edits, message) => {
    const bad = await makeTmpRoot(edits as Record<string, string>, 'deskset-bundle-bad-');
    try {
      const out = path.join(work, 'refused.zip');
      const r = await runCli(['bundle', bad.dir, '--for', 'des', '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('refused.zip not written');
      expect(existsSync(out)).toBe(false);
    } finally {
      await bad.cleanup();
    }
  });

  it('over the size limit: an error naming the largest files, nothing written', async () => {
    const out = path.join(work, 'small.zip');
    const r = await bundle('--for', 'des', '--out', out, '--max-bytes', '1000');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/small\.zip:1:1: error BUNDLE_TOO_LARGE: small\.zip would be \d+ bytes, over DES's limit of 1000; the largest files: /);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--for ipoffice', () => {
  it('CustomPhoneFiles.tar: 46xxspecials.txt from the profiles and the image it names; no firmware, no 46xxsettings.txt', async () => {
    const out = path.join(work, 'CustomPhoneFiles.tar');
    const r = await bundle('--for', 'ipoffice', '--site', 'lisbon', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n')).toEqual(['46xxspecials.txt', 'J100_back.png']);
    const specials = execFileSync('tar', ['-xOf', out, '46xxspecials.txt'], { encoding: 'utf8' });
    expect(specials).toContain('IF $MODEL4 SEQ J189 GOTO J189SPECIALS\nGOTO GENERALSPECIALS\n');
    expect(specials).toContain('# J189SPECIALS\nSET PHNNUMOFSA 4\nGOTO GENERALSPECIALS\n');
    expect(specials).toContain('SET BACKGROUND_IMAGE J100_back.png\n');
    expect(specials).toContain('SET SCREENSAVERON 40\n'); // the site's layer
    expect(specials).toContain('SET PROCPSWD ••••\n'); // masked without --show-secrets
    const file = path.join(work, '46xxspecials.txt');
    await fs.writeFile(file, specials);
    const lint = await runCli(['lint', file]);
    expect(lint.code, lint.stdout).toBe(0);
    const shown = await bundle('--for', 'ipoffice', '--out', path.join(work, 'shown.tar'), '--show-secrets');
    expect(shown.code).toBe(0);
    expect(execFileSync('tar', ['-xOf', path.join(work, 'shown.tar'), '46xxspecials.txt'], { encoding: 'utf8' })).toContain('SET PROCPSWD 27238\n');
  });

  it('usage errors: a zip for IP Office, an unknown site, --site for another target', async () => {
    for (const args of [['--for', 'ipoffice', '--format', 'zip'], ['--for', 'ipoffice', '--site', 'mars'], ['--for', 'des', '--site', 'nyc'], ['--for', 'cdn']]) {
      const r = await bundle(...args, '--out', path.join(work, 'x'));
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
