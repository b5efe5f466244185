// Cisco over TFTP with Debian's real clients, against the real CLI (`deskset serve
// --tftp-port`): a root with a Cisco phone of every family (enterprise 8845, MPP 6851-3PCC,
// SPA504G, and the 7960 on SIP firmware), `deskset render --show-secrets` for the expected
// bytes, then EVERY route of those phones (device, model and shared files, by the names the
// manifest gives them) fetched with tftp-hpa (RFC 1350, no options), atftp without options
// and atftp negotiating blksize/windowsize/tsize/timeout, each compared byte for byte.

import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPath, devicePaths } from '../src/snapshot/routes.js';
import { parseVendorManifest, type VendorManifest } from '../src/vendors/manifest.js';
import { REPO, runCli, spawnCli } from './helpers/cli.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { atftpGet, HAVE_CLIENTS, hpaGet, tftpPortOf, warnIfNoClients, type Fetched } from './helpers/tftp.js';

warnIfNoClients('tftp-cisco.test.ts');

/** One phone of each Cisco family: three from samples/, the SPA added here. */
const PHONES = [
  { mac: 'a44c11a08845', model: '8845', family: 'enterprise' },
  { mac: '00562b006851', model: '6851-3PCC', family: 'mpp' },
  { mac: '0002fd504001', model: 'SPA504G', family: 'spa' },
  { mac: '0002fd796001', model: '7960', family: 'legacy' },
];

const OPTIONS = { blksize: 1428, windowsize: 8, tsize: 0, timeout: 2 };

let root: TmpRoot;
let scratch: string;
let rendered: string;
let serve: ChildProcess | undefined;
let port: number;
let routes: string[];
let n = 0;
const local = () => path.join(scratch, `got-${n++}`);
const sha = (b: Buffer | undefined) => (b ? createHash('sha256').update(b).digest('hex') : 'no file');

/** Every name a phone of these models asks for, by the manifest: shared files, its model's files, its own files. */
function ciscoRoutes(manifest: VendorManifest): string[] {
  const out = new Set<string>();
  for (const f of manifest.files) {
    if (f.scope === 'shared') out.add(canonicalPath(f)!);
    for (const p of PHONES) {
      const model = manifest.models.find((m) => m.name === p.model)!;
      if (f.scope === 'model') out.add(canonicalPath(f, undefined, model)!);
      if (f.scope === 'device') for (const name of devicePaths(f, p.mac, model)) out.add(name);
    }
  }
  return [...out].sort();
}

beforeAll(async () => {
  if (!HAVE_CLIENTS) return;
  root = await makeTmpRoot({
    // Credentials too, to loopback only: every file can then be compared (tftp-e2e.test.ts
    // proves they are withheld without serve_secrets). One address asks for ~100 files here
    // as fast as the clients start, past the default 20 requests/s a phone is held to.
    'deskset.yaml': (old) => `${old}\ntftp:\n  serve_secrets: true\n  allow: [127.0.0.0/8]\n  rate_per_source: 10000\n`,
    'profiles/devices/0002fd504001.yaml': 'model: SPA504G\nsite: lisbon\nsettings:\n  lines:\n    - {extension: "2040", password: "Spa-504-pw", display_name: "Dock <4>"}\n',
  });
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-tftp-cisco-'));
  rendered = path.join(scratch, 'rendered');
  const r = await runCli(['render', root.dir, '--out', rendered, '--show-secrets', '--quiet']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  routes = ciscoRoutes(parseVendorManifest(readFileSync(path.join(REPO, 'templates', 'cisco', 'vendor.yaml'), 'utf8'), 'vendor.yaml').manifest!);
  serve = spawnCli(['serve', root.dir, '--host', '127.0.0.1', '--port', '0', '--tftp-port', '0', '--no-watch', '--warm-up', '0']);
  port = await tftpPortOf(serve);
}, 120_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const gone = new Promise((r) => serve!.once('exit', r));
    serve.kill('SIGTERM');
    await gone;
  }
  await root?.cleanup();
  if (scratch) await fs.rm(scratch, { recursive: true, force: true });
});

/** Fetch every route with one client; the names that did not arrive identical to render's file. */
async function mismatches(get: (name: string, to: string) => Promise<Fetched>): Promise<string[]> {
  const bad: string[] = [];
  for (const name of routes) {
    const want = await fs.readFile(path.join(rendered, name));
    const got = await get(name, local());
    if (sha(got.bytes) !== sha(want)) bad.push(`${name}: ${got.bytes ? `${got.bytes.length} bytes, not ${want.length}` : got.output.trim()}`);
  }
  return bad;
}

describe.skipIf(!HAVE_CLIENTS)('every route of a Cisco phone of each family, over TFTP from deskset serve, byte for byte', () => {
  it('the routes: each family\'s own files, the shared ones, and render wrote each of them under that name', async () => {
    for (const p of PHONES) {
      const MAC = p.mac.toUpperCase();
      expect(routes).toEqual(expect.arrayContaining([`SEP${MAC}.cnf.xml`, `${p.mac}.xml`, `SIP${MAC}.cnf`]));
    }
    expect(routes).toEqual(expect.arrayContaining(['XMLDefault.cnf.xml', 'dialplan.xml', 'SoftKeys.xml', 'SIPDefault.cnf', 'OS79XX.TXT', '6851-3PCC.xml', 'spa504G.cfg', '7960.xml']));
    for (const name of routes) await expect(fs.stat(path.join(rendered, name)), name).resolves.toBeDefined();
    // The 7960's own file carries its line (and so its password): the comparison covers credentials.
    const sip = await fs.readFile(path.join(rendered, 'SIP0002FD796001.cnf'), 'utf8');
    expect(sip).toMatch(/^line1_password: /m);
    expect(sip).not.toContain('${file:');
  });

  it('tftp-hpa (RFC 1350, no options)', async () => {
    expect(await mismatches((name, to) => hpaGet('127.0.0.1', port, name, to))).toEqual([]);
  }, 120_000);

  it('atftp without options', async () => {
    expect(await mismatches((name, to) => atftpGet('127.0.0.1', port, name, to))).toEqual([]);
  }, 120_000);

  it(`atftp negotiating ${Object.entries(OPTIONS).map(([k, v]) => `${k} ${v}`).join(', ')}`, async () => {
    expect(await mismatches((name, to) => atftpGet('127.0.0.1', port, name, to, OPTIONS))).toEqual([]);
  }, 120_000);

  it('atftp with a small blksize (many blocks per file)', async () => {
    expect(await mismatches((name, to) => atftpGet('127.0.0.1', port, name, to, { blksize: 64 }))).toEqual([]);
  }, 120_000);

  it('the names as phones send them, in other case (a case-sensitive mirror would miss them; deskset does not)', async () => {
    for (const [asked, file] of [['sip0002fd796001.cnf', 'SIP0002FD796001.cnf'], ['sipdefault.cnf', 'SIPDefault.cnf'], ['os79xx.txt', 'OS79XX.TXT']]) {
      const got = await hpaGet('127.0.0.1', port, asked!, local());
      expect(sha(got.bytes), asked).toBe(sha(await fs.readFile(path.join(rendered, file!))));
    }
  });
});
