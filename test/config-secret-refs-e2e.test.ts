import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import https from 'node:https';
import { DiagnosticsError, formatLoc } from '../src/check/diagnostics.js';
import { parseRootConfig } from '../src/config/root-config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { makeCa, makeLeaf, type Pair } from './helpers/pki.js';
import { memoryLogger } from './helpers/serve-root.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

// Secret references in deskset.yaml (issue 14 §8): the example in docs/security.md,
// `tls: {pfx: tls/srv.p12, passphrase: "${env:P12PW}"}`, must start an HTTPS listener that
// answers over a real socket, and so must every other secret-bearing key. A missing secret is
// an error at deskset.yaml:line:col, and the resolved value never reaches the log.

const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const PASS = 'p12-Pass-from-env-9f3';
const ENV_NAMES = ['DESKSET_TEST_P12PW', 'DESKSET_TEST_KEYPW', 'DESKSET_TEST_KEYFILE'];

let pair: Pair;
let encrypted: Pair;
beforeAll(async () => {
  const ca = await makeCa('deskset test CA');
  pair = await makeLeaf('localhost', ca, { usage: 'server', dns: ['localhost'], ips: ['127.0.0.1'] });
  // An encrypted PEM key (PKCS#8 with a passphrase), written by node:crypto.
  const { createPrivateKey } = await import('node:crypto');
  const key = createPrivateKey(pair.key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASS }) as string;
  encrypted = { cert: pair.cert, key };
});

const roots: TmpRoot[] = [];
const running: RunningServer[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
  for (const r of roots.splice(0)) await r.cleanup();
  for (const n of ENV_NAMES) delete process.env[n];
});

async function rootWith(tls: string, files: Record<string, string> = {}): Promise<TmpRoot> {
  const r = await makeTmpRoot({ 'deskset.yaml': (old) => `${old}\ntls:\n${tls}\n`, ...files });
  roots.push(r);
  return r;
}

async function start(root: TmpRoot) {
  const mem = memoryLogger();
  const s = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, httpsPort: 0, watch: false, log: mem.log });
  running.push(s);
  return { s, lines: mem.lines };
}

function httpsStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: target, rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startError(root: TmpRoot): Promise<DiagnosticsError> {
  try {
    await start(root);
  } catch (e) {
    if (e instanceof DiagnosticsError) return e;
    throw e;
  }
  throw new Error('the server started');
}

describe('secret references in deskset.yaml', () => {
  describe.skipIf(!OPENSSL)('tls.passphrase for a PKCS#12 file (the docs/security.md example; openssl makes the .p12)', () => {
    const withP12 = async (passphraseValue: string, files: Record<string, string> = {}) => {
      const r = await rootWith(`  port: 0\n  pfx: tls/srv.p12\n  passphrase: "${passphraseValue}"`, { 'tls/pair.pem': pair.cert, 'tls/pair.key': pair.key, ...files });
      execFileSync('openssl', ['pkcs12', '-export', '-in', 'pair.pem', '-inkey', 'pair.key', '-out', 'srv.p12', '-passout', `pass:${PASS}`], { cwd: r.file('tls'), stdio: 'pipe' });
      await fsp.rm(r.file('tls/pair.key'));
      return r;
    };

    it('${env:P12PW} opens the file and HTTPS answers', async () => {
      process.env.DESKSET_TEST_P12PW = PASS;
      const { s, lines } = await start(await withP12('${env:DESKSET_TEST_P12PW}'));
      expect(s.https).toBeDefined();
      expect(await httpsStatus(s.https!.port, '/healthz')).toBe(200);
      expect(s.provisioner.current().secrets.has(PASS)).toBe(true);
      expect(lines.join('\n')).not.toContain(PASS);
    });

    it('${file:secrets/p12pw} opens the file too', async () => {
      const { s } = await start(await withP12('${file:secrets/p12pw}', { 'secrets/p12pw': `${PASS}\n` }));
      expect(await httpsStatus(s.https!.port, '/healthz')).toBe(200);
    });

    it('a wrong resolved passphrase is still TLS_PFX_INVALID, and the message does not quote it', async () => {
      process.env.DESKSET_TEST_P12PW = 'not-the-passphrase';
      const e = await startError(await withP12('${env:DESKSET_TEST_P12PW}'));
      expect(e.diagnostics.map((d) => d.code)).toContain('TLS_PFX_INVALID');
      expect(JSON.stringify(e.diagnostics)).not.toContain('not-the-passphrase');
    });
  });

  it('tls.passphrase decrypts an encrypted PEM key from ${env:}', async () => {
    process.env.DESKSET_TEST_KEYPW = PASS;
    const r = await rootWith('  port: 0\n  cert: tls/server.pem\n  key: tls/server.key\n  passphrase: "${env:DESKSET_TEST_KEYPW}"', { 'tls/server.pem': encrypted.cert, 'tls/server.key': encrypted.key });
    const { s } = await start(r);
    expect(await httpsStatus(s.https!.port, '/healthz')).toBe(200);
  });

  it('tls.key (and so cert, pfx, client_ca) may name its file through ${env:}', async () => {
    process.env.DESKSET_TEST_KEYFILE = 'tls/elsewhere.key';
    const r = await rootWith('  port: 0\n  cert: tls/server.pem\n  key: "${env:DESKSET_TEST_KEYFILE}"', { 'tls/server.pem': pair.cert, 'tls/elsewhere.key': pair.key });
    const { s } = await start(r);
    expect(await httpsStatus(s.https!.port, '/healthz')).toBe(200);
  });

  it('an unset variable refuses the start with deskset.yaml:line:col, naming the reference only', async () => {
    const r = await rootWith('  port: 0\n  cert: tls/server.pem\n  key: tls/server.key\n  passphrase: "${env:DESKSET_TEST_KEYPW}"', { 'tls/server.pem': encrypted.cert, 'tls/server.key': encrypted.key });
    const e = await startError(r);
    const d = e.diagnostics.find((x) => x.code === 'SECRET_REF_MISSING');
    expect(d?.message).toContain('DESKSET_TEST_KEYPW');
    const lines = (await fsp.readFile(r.file('deskset.yaml'), 'utf8')).split('\n');
    const line = lines.findIndex((l) => l.includes('passphrase:')) + 1;
    expect(formatLoc(d!.loc!)).toMatch(new RegExp(`deskset\\.yaml:${line}:\\d+$`));
  });

  it('a ${file:} reference may not leave the root', () => {
    const r = parseRootConfig('tls:\n  cert: a.pem\n  key: a.key\n  passphrase: "${file:../outside}"\n', 'deskset.yaml', { env: () => undefined, readFile: () => 'leaked' });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['SECRET_REF_ESCAPES']);
    expect(r.config.tls).toBeUndefined();
  });

  it('without a resolver (tools that only read state_dir) references stay text; $${…} is a literal', () => {
    expect(parseRootConfig('tls:\n  pfx: a.p12\n  passphrase: "${env:X}"\n').config.tls?.passphrase).toBe('${env:X}');
    const lit = parseRootConfig('tls:\n  pfx: a.p12\n  passphrase: "$${not-a-ref}"\n', 'deskset.yaml', { env: () => 'no', readFile: () => 'no' });
    expect(lit.config.tls?.passphrase).toBe('${not-a-ref}');
    expect(lit.secrets.size).toBe(0);
  });
});


