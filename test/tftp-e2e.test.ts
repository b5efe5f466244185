// TFTP end to end: the real server (startServer with a TFTP port) and Debian's real clients,
// tftp-hpa (RFC 1350, no options) and atftp (options: blksize, windowsize, tsize, timeout).
// Every file `deskset render --show-secrets` writes that a phone can ask for by name is
// fetched byte-identical; files carrying credentials are withheld unless tftp.serve_secrets;
// writes are refused; a 50 MB image arrives intact with and without options (past the
// 65,535-block rollover at 512 bytes); hostile datagrams change nothing.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TFTP, parseRootConfig } from '../src/config/root-config.js';
import { desksetSource } from '../src/tftp/deskset-source.js';
import { startServer, type RunningServer } from '../src/server.js';
import { encodeAck, encodeRequest } from '../src/tftp/packet.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { memoryLogger } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { atftpGet, HAVE_CLIENTS, hpaGet, hpaPut, rawSocket, sleep, tftpPortOf, warnIfNoClients } from './helpers/tftp.js';

warnIfNoClients('tftp-e2e.test.ts');

const BIG = 'firmware/yealink/66.86.0.15/T46S-66.86.0.15.rom';
const BIG_BYTES = 50 * 1024 * 1024;
const SMALL_FW = 'firmware/yealink/66.86.0.15/digits.rom';
const FOUR_BLOCKS = 'firmware/yealink/66.86.0.15/four-blocks.rom';

interface RenderedFile {
  path: string;
  secrets?: boolean;
}

let root: TmpRoot;
let open: RunningServer;
let secret: RunningServer;
let openLog: string[];
let rendered: string;
let files: RenderedFile[];
let scratch: string;
let bigSha: string;

const sha = (b: Buffer | undefined) => (b ? createHash('sha256').update(b).digest('hex') : 'no file');
let n = 0;
const local = () => path.join(scratch, `got-${n++}`);

beforeAll(async () => {
  root = await makeTmpRoot({ [SMALL_FW]: '123456789', [FOUR_BLOCKS]: 'x'.repeat(2000) });
  const big = randomBytes(BIG_BYTES);
  bigSha = sha(big);
  await fs.writeFile(root.file(BIG), big);
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-tftp-'));
  rendered = path.join(scratch, 'rendered');
  const r = await runCli(['render', root.dir, '--out', rendered, '--show-secrets', '--json', '--quiet']);
  expect(r.code).toBe(0);
  files = (JSON.parse(r.stdout) as { files: RenderedFile[] }).files;
  const m = memoryLogger();
  openLog = m.lines;
  open = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, tftpPort: 0, watch: false, log: m.log });
  // The same root with serve_secrets for loopback, on its own copy (deskset.yaml differs).
  const secretRoot = await makeTmpRoot({ 'deskset.yaml': (old) => `${old}\ntftp:\n  serve_secrets: true\n  allow: [127.0.0.0/8]\n`, [SMALL_FW]: '123456789', [BIG]: 'small here' });
  secret = await startServer({ root: secretRoot.dir, host: '127.0.0.1', port: 0, tftpPort: 0, watch: false, log: memoryLogger().log });
  (secret as RunningServer & { cleanupRoot?: TmpRoot }).cleanupRoot = secretRoot;
}, 120_000);

afterAll(async () => {
  await open?.close();
  await secret?.close();
  await (secret as (RunningServer & { cleanupRoot?: TmpRoot }) | undefined)?.cleanupRoot?.cleanup();
  await root?.cleanup();
  if (scratch) await fs.rm(scratch, { recursive: true, force: true });
});

/** Files a phone asks for by name (not the mirror's <model>/<mac>/ copies of User-Agent-chosen files). */
const byName = () => files.filter((f) => !f.path.includes('/'));
const expected = (f: RenderedFile) => fs.readFile(path.join(rendered, f.path));

describe.skipIf(!HAVE_CLIENTS)('real clients fetch what render wrote', () => {
  it('tftp-hpa (no options): every file without credentials, byte-identical; each with credentials refused', async () => {
    const names = byName();
    expect(names.length).toBeGreaterThan(20);
    expect(names.some((f) => f.secrets)).toBe(true);
    for (const f of names) {
      const got = await hpaGet('127.0.0.1', open.tftp!.port, f.path, local());
      if (f.secrets) {
        expect(got.bytes?.length ?? 0, f.path).toBe(0);
        expect(got.output, f.path).toMatch(/Error code [12]/);
      } else {
        expect(sha(got.bytes), f.path).toBe(sha(await expected(f)));
      }
    }
  });

  it('atftp with blksize, windowsize, tsize and timeout: every file (credentials included with serve_secrets), byte-identical', async () => {
    for (const f of byName()) {
      const got = await atftpGet('127.0.0.1', secret.tftp!.port, f.path, local(), { blksize: 1428, windowsize: 8, tsize: 0, timeout: 2 });
      expect(sha(got.bytes), `${f.path}: ${got.output}`).toBe(sha(await expected(f)));
    }
  });

  it('tftp-hpa with serve_secrets: the files with credentials too, byte-identical', async () => {
    for (const f of byName().filter((x) => x.secrets)) {
      const got = await hpaGet('127.0.0.1', secret.tftp!.port, f.path, local());
      expect(sha(got.bytes), f.path).toBe(sha(await expected(f)));
    }
  });

  it('netascii (tftp-hpa ascii mode) round-trips to the same bytes', async () => {
    const f = byName().find((x) => !x.secrets && x.path.endsWith('.cfg'))!;
    const got = await hpaGet('127.0.0.1', open.tftp!.port, `/${f.path}`, local(), { mode: 'netascii' });
    expect(sha(got.bytes)).toBe(sha(await expected(f)));
  });

  it('firmware: a small image, by its path, with a leading slash or without', async () => {
    for (const name of [SMALL_FW, `/${SMALL_FW}`]) {
      const got = await atftpGet('127.0.0.1', open.tftp!.port, name, local(), { tsize: 0 });
      expect(got.bytes?.toString()).toBe('123456789');
    }
  });

  it('a 50 MB image with blksize 1428, windowsize 8 arrives intact', async () => {
    const got = await atftpGet('127.0.0.1', open.tftp!.port, BIG, local(), { blksize: 1428, windowsize: 8, tsize: 0 }, { timeoutMs: 120_000 });
    expect(got.bytes?.length).toBe(BIG_BYTES);
    expect(sha(got.bytes)).toBe(bigSha);
  }, 150_000);

  it('the same image without options: 102,400 blocks of 512, past the 65,535 rollover, intact', async () => {
    const got = await hpaGet('127.0.0.1', open.tftp!.port, BIG, local(), { timeoutMs: 150_000 });
    expect(got.bytes?.length).toBe(BIG_BYTES);
    expect(sha(got.bytes)).toBe(bigSha);
  }, 180_000);

  it('the access log has a line per fetch, as HTTP does', async () => {
    await atftpGet('127.0.0.1', open.tftp!.port, SMALL_FW, local());
    const lines = openLog.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.method === 'RRQ');
    expect(lines.some((l) => l.path === `/${SMALL_FW}` && l.status === 200 && l.bytes === 9 && l.ip === '127.0.0.1')).toBe(true);
    expect(lines.some((l) => l.path === `/${BIG}` && l.status === 200 && l.bytes === BIG_BYTES)).toBe(true);
    const refused = lines.find((l) => l.status !== 200 && typeof l.reason === 'string' && (l.reason as string).includes('credentials'));
    expect(refused).toBeDefined();
  });
});

describe.skipIf(!HAVE_CLIENTS)('refusals', () => {
  it('a write request gets ERROR 2 (access violation) and writes nothing', async () => {
    const src = path.join(scratch, 'upload.cfg');
    await fs.writeFile(src, 'evil=1\n');
    const r = await hpaPut('127.0.0.1', open.tftp!.port, src, 'y000000000044.cfg');
    expect(r.output).toMatch(/Error code 2/);
    await expect(fs.stat(root.file('y000000000044.cfg'))).rejects.toThrow();
  });

  it('traversal, a missing file and a directory: file not found', async () => {
    for (const name of ['../deskset.yaml', '/../../etc/passwd', 'firmware/../deskset.yaml', 'nope.cfg', 'firmware', 'profiles/global.yaml']) {
      const got = await hpaGet('127.0.0.1', open.tftp!.port, name, local());
      expect(got.bytes?.length ?? 0, name).toBe(0);
      expect(got.output, name).toMatch(/Error code 1/);
    }
  });

  it('a device file withheld for its credentials is refused exactly as an unknown MAC is (no oracle)', async () => {
    const withCreds = byName().find((f) => f.secrets && /^[0-9a-f]{12}\.cfg$/.test(f.path))!;
    const known = await hpaGet('127.0.0.1', open.tftp!.port, withCreds.path, local());
    const unknown = await hpaGet('127.0.0.1', open.tftp!.port, withCreds.path.replace(/^[0-9a-f]{12}/, '805ec0ffffff'), local());
    expect(known.output.trim()).toBe(unknown.output.trim());
  });
});

describe('hostile datagrams', () => {
  it('garbage, stray ACKs, bad modes and an unknown TID change nothing; the server still serves', async () => {
    const s = await rawSocket();
    const port = open.tftp!.port;
    for (const g of [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 9, 1, 2]), Buffer.from([0, 1, 0x61]), encodeAck(1), Buffer.alloc(65000, 0x41)]) s.send(g, port);
    s.send(encodeRequest('rrq', SMALL_FW, 'mail'), port);
    await sleep(200);
    // Garbage gets no answer (no reflection); the bad mode gets ERROR 4.
    expect(s.received.map((r) => r.msg.readUInt16BE(2))).toEqual([4]);
    // Start a transfer (a 2,000-byte file: four blocks), then ACK its TID from another port: the
    // transfer's socket only hears its client, so the stranger changes nothing.
    s.send(encodeRequest('rrq', FOUR_BLOCKS, 'octet'), port);
    await sleep(200);
    const data = s.received.find((r) => r.msg.readUInt16BE(0) === 3)!;
    expect(data.msg.readUInt16BE(2)).toBe(1);
    const other = await rawSocket();
    other.send(encodeAck(1), data.port);
    other.send(encodeAck(2), data.port);
    await sleep(200);
    expect(other.received).toEqual([]);
    expect(s.received.filter((r) => r.msg.readUInt16BE(0) === 3).map((r) => r.msg.readUInt16BE(2))).toEqual([1]);
    // The client's own ACK moves it on; a repeat of the request while it runs is not a second transfer.
    s.send(encodeRequest('rrq', FOUR_BLOCKS, 'octet'), port);
    s.send(encodeAck(1), data.port);
    await sleep(200);
    expect(s.received.filter((r) => r.msg.readUInt16BE(0) === 3).map((r) => [r.port, r.msg.readUInt16BE(2)])).toEqual([[data.port, 1], [data.port, 2]]);
    other.close();
    // The client leaves mid-transfer: its closed port ends the transfer at once (no 30 s of retries).
    s.close();
    await sleep(1500);
    const line = openLog.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.path === `/${FOUR_BLOCKS}`);
    expect(line).toMatchObject({ status: 499, reason: 'client gone', bytes: 512 });
    const again = await rawSocket();
    again.send(encodeRequest('rrq', SMALL_FW, 'octet'), port);
    await sleep(200);
    expect(again.received[0]?.msg.subarray(4).toString()).toBe('123456789');
    again.send(encodeAck(1), again.received[0]!.port);
    again.close();
  });

  it('a flood from one address is cut to its rate: the rest get no answer at all', async () => {
    const s = await rawSocket('127.0.0.77');
    for (let i = 0; i < 200; i++) s.send(encodeRequest('rrq', `nope-${i}.cfg`, 'octet'), open.tftp!.port);
    await sleep(500);
    // Burst 40 (rate 20/s by default); nothing past it is answered.
    expect(s.received.length).toBeGreaterThanOrEqual(35);
    expect(s.received.length).toBeLessThanOrEqual(60);
    s.close();
  });
});

describe.skipIf(!HAVE_CLIENTS)('deskset serve --tftp-port (the real CLI)', () => {
  it('prints where TFTP listens and serves there; a bad port is a usage error', async () => {
    const child = spawnCli(['serve', root.dir, '--host', '127.0.0.1', '--port', '0', '--tftp-port', '0', '--no-watch', '--warm-up', '0']);
    try {
      const port = await tftpPortOf(child);
      const got = await atftpGet('127.0.0.1', port, SMALL_FW, local(), { tsize: 0 });
      expect(got.bytes?.toString()).toBe('123456789');
    } finally {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    const bad = await runCli(['serve', root.dir, '--tftp-port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tftp-port/);
  });
});

describe('tftp.allow and tftp.serve_secrets decide by the sender address', () => {
  const sourceWith = (config: Partial<typeof DEFAULT_TFTP>) =>
    desksetSource({ handle: open.handle, provisioner: open.provisioner, gate: open.gate, log: memoryLogger().log, config: { ...DEFAULT_TFTP, ...config } });

  it('allow: other addresses are refused before anything is looked up', async () => {
    const src = sourceWith({ allow: ['10.20.0.0/16'] });
    const shared = byName().find((f) => !f.secrets)!.path;
    expect(await src.open(shared, { address: '10.20.3.4', port: 1 })).toMatchObject({ ok: true });
    expect(await src.open(shared, { address: '10.21.3.4', port: 1 })).toMatchObject({ ok: false, code: 2, status: 403, log: { reason: 'address not allowed' } });
  });

  it('serve_secrets: credentials go to allowed addresses only, byte-identical to render', async () => {
    const withCreds = byName().find((f) => f.secrets)!;
    const src = sourceWith({ serveSecrets: true, allow: ['10.20.0.0/16', '192.0.2.1'] });
    const got = await src.open(withCreds.path, { address: '192.0.2.1', port: 1 });
    expect(got.ok && Buffer.isBuffer(got.body) ? sha(got.body) : got).toBe(sha(await expected(withCreds)));
    expect(await src.open(withCreds.path, { address: '192.0.2.2', port: 1 })).toMatchObject({ ok: false, code: 2 });
    // Without serve_secrets an allowed address gets the file refused all the same.
    expect(await sourceWith({ allow: ['192.0.2.1'] }).open(withCreds.path, { address: '192.0.2.1', port: 1 })).toMatchObject({ ok: false, log: { reason: expect.stringContaining('credentials') } });
  });
});

describe('tftp: in deskset.yaml', () => {
  it('serve_secrets without allow is an error at its line; with allow, a warning that check prints', () => {
    const bad = parseRootConfig('listen:\n  port: 8080\ntftp:\n  serve_secrets: true\n', 'deskset.yaml');
    expect(bad.diagnostics).toMatchObject([{ severity: 'error', code: 'CONFIG', loc: { file: 'deskset.yaml', line: 4, col: 3 } }]);
    const ok = parseRootConfig('tftp:\n  listen: {port: 69}\n  serve_secrets: true\n  allow: [10.1.0.0/16]\n', 'deskset.yaml');
    expect(ok.diagnostics.map((d) => [d.code, d.severity, d.loc?.line])).toEqual([['TFTP_SECRETS', 'warning', 3]]);
    expect(ok.config.tftp).toMatchObject({ listen: { port: 69 }, serveSecrets: true, allow: ['10.1.0.0/16'] });
    const unknown = parseRootConfig('tftp:\n  blocksize: 1428\n', 'deskset.yaml');
    expect(unknown.diagnostics[0]).toMatchObject({ severity: 'error', loc: { line: 2 } });
    expect(parseRootConfig('tftp:\n  allow: [not-an-address]\n').diagnostics[0]?.severity).toBe('error');
    expect(parseRootConfig(undefined).config.tftp.listen).toBeUndefined();
  });

  it('deskset check warns that serve_secrets is weaker', async () => {
    const r2 = await makeTmpRoot({ 'deskset.yaml': (old) => `${old}\ntftp:\n  serve_secrets: true\n  allow: [10.1.0.0/16]\n` });
    try {
      const r = await runCli(['check', r2.dir]);
      expect(r.stdout + r.stderr).toMatch(/TFTP_SECRETS|serve_secrets/);
      expect(r.stdout + r.stderr).toMatch(/weaker/);
    } finally {
      await r2.cleanup();
    }
  });
});
