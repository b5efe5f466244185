// HTTPS end to end: startServer with the `tls:` section of deskset.yaml (certificates made
// here, signed by a throwaway CA), real TLS clients on loopback. Protocol floors, the real
// `deskset serve --dev-tls`, mutual TLS per site, and what `deskset check` says about
// certificates.

import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiagnosticsError } from '../src/check/diagnostics.js';
import { allTargets } from '../src/pipeline/request.js';
import { hashPassword } from '../src/security/password.js';
import { startServer, type RunningServer } from '../src/server.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { appendYaml, basic, desksetYaml, get, memoryLog, settle, stable } from './helpers/e2e-http.js';
import { DAY, makeCa, makeLeaf, makeServerCert, type Pair } from './helpers/pki.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const J179_UA = 'Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-4.1.3.0.6 (MAC:c81fea83e85a)';

interface Seen {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  protocol: string | null;
}

/** One request on a fresh TLS connection (no agent: no pooled socket, no session reuse). */
function tlsGet(port: number, p: string, o: https.RequestOptions = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = https.request({ hostname: '127.0.0.1', port, path: p, method: 'GET', agent: false, timeout: 15_000, ...o }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks), protocol: (res.socket as TLSSocket).getProtocol?.() ?? null });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

let ca: Pair;
let otherCa: Pair;
let server: Pair;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([makeCa('deskset qa CA'), makeCa('someone else’s CA')]);
  server = await makeServerCert(ca);
});

function tlsRoot(tlsYaml: string, extra: Record<string, string | ((old: string) => string)> = {}): Promise<TmpRoot> {
  return makeTmpRoot({
    'deskset.yaml': desksetYaml(`tls:\n${tlsYaml}`),
    'tls/server.pem': server.cert,
    'tls/server.key': server.key,
    ...extra,
  });
}

async function serve(root: TmpRoot) {
  const mem = memoryLog();
  const srv = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, httpsPort: 0, log: mem.log, watch: false });
  expect(srv.https, 'an HTTPS listener').toBeDefined();
  const clientErrors: string[] = [];
  srv.https!.server.on('tlsClientError', (e: NodeJS.ErrnoException) => clientErrors.push(e.code ?? e.message));
  return { srv, mem, httpsPort: srv.https!.port, clientErrors };
}

describe('tls: cert + key (default floor TLSv1.2)', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let httpsPort: number;
  let clientErrors: string[];

  beforeAll(async () => {
    root = await tlsRoot('  cert: tls/server.pem\n  key: tls/server.key\n  port: 0');
    ({ srv, httpsPort, clientErrors } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('HTTP keeps listening beside HTTPS, on another port', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(httpsPort).toBeGreaterThan(0);
    expect(httpsPort).not.toBe(srv.port);
    expect(srv.https!.fingerprint256).toBe(new X509Certificate(server.cert).fingerprint256);
  });

  it('HTTPS serves the same bytes and headers as HTTP, for every rendered file', async () => {
    const paths = allTargets(srv.provisioner.current()).map((t) => `/${t.path}`);
    expect(paths.length).toBeGreaterThan(10);
    for (const p of paths) {
      const plain = await get(srv.url, p);
      const secure = await tlsGet(httpsPort, p, { ca: ca.cert });
      expect(plain.status, p).toBe(200);
      expect(secure.status, p).toBe(200);
      expect(secure.body.equals(plain.body), p).toBe(true);
      expect(stable(secure.headers), p).toEqual(stable(plain.headers));
    }
    const viaUa = await tlsGet(httpsPort, '/46xxsettings.txt', { ca: ca.cert, headers: { 'user-agent': J179_UA } });
    expect(viaUa.status).toBe(200);
    expect(viaUa.body.equals((await get(srv.url, '/c81fea83e85a.txt')).body)).toBe(true);
    expect((await tlsGet(httpsPort, '/0004f2999999.cfg', { ca: ca.cert })).status).toBe(404);
  });

  it('TLS 1.2 works (and 1.3 by default)', async () => {
    const v12 = await tlsGet(httpsPort, '/000000000000.cfg', { ca: ca.cert, maxVersion: 'TLSv1.2' });
    expect(v12.status).toBe(200);
    expect(v12.protocol).toBe('TLSv1.2');
    const v13 = await tlsGet(httpsPort, '/000000000000.cfg', { ca: ca.cert });
    expect(v13.protocol).toBe('TLSv1.3');
  });

  it('TLS 1.1 is refused by the server', async () => {
    const before = clientErrors.length;
    // SECLEVEL=0 lets this OpenSSL client really offer 1.1, so the refusal is the server's.
    const err = await tlsGet(httpsPort, '/000000000000.cfg', { ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }).then(
      (seen) => new Error(`served over ${seen.protocol}`),
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err.message).not.toMatch(/^served over/);
    if ((err as NodeJS.ErrnoException).code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') return; // the client cannot even offer 1.1: no session either
    expect(err.message).toMatch(/protocol version|unsupported protocol/i);
    await settle(100);
    expect(clientErrors.slice(before)).toContain('ERR_SSL_UNSUPPORTED_PROTOCOL');
  });
});

describe('tls.min_version: TLSv1.3', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let httpsPort: number;

  beforeAll(async () => {
    root = await tlsRoot('  cert: tls/server.pem\n  key: tls/server.key\n  min_version: TLSv1.3');
    ({ srv, httpsPort } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('a client that speaks at most TLS 1.2 is refused; a 1.3 client is served', async () => {
    await expect(tlsGet(httpsPort, '/000000000000.cfg', { ca: ca.cert, maxVersion: 'TLSv1.2' })).rejects.toThrow(/protocol version|alert/i);
    const ok = await tlsGet(httpsPort, '/000000000000.cfg', { ca: ca.cert });
    expect(ok.status).toBe(200);
    expect(ok.protocol).toBe('TLSv1.3');
  });
});

describe('the real `deskset serve --dev-tls`', () => {
  let root: TmpRoot;
  beforeAll(async () => {
    root = await makeTmpRoot();
  });
  afterAll(async () => {
    await root?.cleanup();
  });

  it('prints the fingerprint and an https URL, writes var/tls/dev-cert.pem + key (0600), and a client trusting it reaches localhost', async () => {
    const child = spawnCli(['serve', root.dir, '--dev-tls', '--https-port', '0', '--port', '0', '--host', '127.0.0.1', '--no-watch']);
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.stdout!.resume();
    try {
      const seen = await new Promise<{ httpPort: number; httpsPort: number; fingerprint: string }>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`serve did not print its banner: ${stderr}`)), 30_000);
        child.stderr!.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          const h = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
          const s = /HTTPS on https:\/\/localhost:(\d+), certificate SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(stderr);
          if (h && s) {
            clearTimeout(t);
            resolve({ httpPort: Number(h[1]), httpsPort: Number(s[1]), fingerprint: s[2]! });
          }
        });
        void exited.then((x) => reject(new Error(`serve exited early (${JSON.stringify(x)}): ${stderr}`)));
      });
      const certPath = root.file('var/tls/dev-cert.pem');
      const keyPath = root.file('var/tls/dev-key.pem');
      const certPem = await fs.readFile(certPath, 'utf8');
      expect(new X509Certificate(certPem).fingerprint256).toBe(seen.fingerprint);
      expect((await fs.stat(keyPath)).mode & 0o777).toBe(0o600);
      expect(stderr).toContain(certPath);
      // By the NAME localhost (hostname verification against it), resolved to the IPv4 loopback it listens on.
      const lookup = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as https.RequestOptions['lookup'];
      const r = await tlsGet(seen.httpsPort, '/c81fea83e85a.txt', { hostname: 'localhost', ca: certPem, lookup });
      expect(r.status).toBe(200);
      const plain = await get(`http://127.0.0.1:${seen.httpPort}`, '/c81fea83e85a.txt');
      expect(r.body.equals(plain.body)).toBe(true);
      // A client that does not trust the self-signed certificate refuses it.
      await expect(tlsGet(seen.httpsPort, '/c81fea83e85a.txt', { hostname: 'localhost', lookup })).rejects.toThrow(/self[- ]signed|unable to verify/i);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});

describe('mutual TLS: tls.client_ca, access.client_cert required (nyc) and optional (lisbon)', () => {
  let root: TmpRoot;
  let srv: RunningServer;
  let mem: ReturnType<typeof memoryLog>;
  let httpsPort: number;
  const certFor = new Map<string, Pair>();
  const J179 = 'c81fea83e85a'; // nyc
  const J189 = 'c81fea9102aa'; // nyc
  const T46S = '805ec0123456'; // lisbon, device auth
  const TRIO = '64167f0a8800'; // lisbon, no auth
  const T46S_PW = 'T46s-Basic-6612';
  const withCert = (c: Pair) => ({ ca: ca.cert, cert: c.cert, key: c.key });

  beforeAll(async () => {
    for (const mac of [J179, J189, T46S, TRIO]) certFor.set(mac, await makeLeaf(mac, ca, { usage: 'client' }));
    certFor.set('untrusted', await makeLeaf(J179, otherCa, { usage: 'client' }));
    certFor.set('untrusted-t46s', await makeLeaf(T46S, otherCa, { usage: 'client' }));
    certFor.set('no-mac', await makeLeaf('Avaya J179 lab phone', ca, { usage: 'client' }));
    root = await tlsRoot('  cert: tls/server.pem\n  key: tls/server.key\n  client_ca: tls/devices-ca.pem', {
      'tls/devices-ca.pem': ca.cert,
      'profiles/sites/nyc.yaml': appendYaml('access:\n  client_cert: required\n'),
      'profiles/sites/lisbon.yaml': appendYaml('access:\n  client_cert: optional\n'),
      [`profiles/devices/${T46S}.yaml`]: appendYaml(`auth:\n  user: t46s\n  password: "${await hashPassword(T46S_PW)}"\n`),
    });
    ({ srv, mem, httpsPort } = await serve(root));
  });
  afterAll(async () => {
    await srv?.close();
    await root?.cleanup();
  });

  it('required: a device certificate CN=<mac> from the client CA opens that device’s files', async () => {
    for (const p of [`/${J179}.txt`, `/x/J179/${J179}/46xxsettings.txt`, `/J179/${J179}/J100Supgrade.txt`]) {
      const r = await tlsGet(httpsPort, p, withCert(certFor.get(J179)!));
      expect(r.status, p).toBe(200);
    }
    const own = await tlsGet(httpsPort, `/${J179}.txt`, withCert(certFor.get(J179)!));
    expect(own.body.toString()).toContain('SET DISPLAY_NAME "Reception NYC"');
  });

  // A profile here sets auth (T46S), so every refused MAC file gets the one refusal such a
  // root uses, the 401 challenge, known MAC or not (docs/security.md, "No oracle").
  it('required: no certificate is refused (401, as an unknown MAC is), over HTTPS and over plain HTTP', async () => {
    const r = await tlsGet(httpsPort, `/${J179}.txt`, { ca: ca.cert });
    expect(r.status).toBe(401);
    expect(r.body.length).toBe(0);
    expect((await get(srv.url, `/${J179}.txt`)).status).toBe(401);
    const unknown = await tlsGet(httpsPort, '/c81fea000001.txt', { ca: ca.cert });
    expect([unknown.status, unknown.headers['www-authenticate'], unknown.body.length]).toEqual([r.status, r.headers['www-authenticate'], 0]);
  });

  it('required: a trusted certificate for MAC Y asking MAC X’s files is refused (401) with a client_cert_mac_mismatch log line', async () => {
    mem.lines.length = 0;
    const r = await tlsGet(httpsPort, `/${J179}.txt`, withCert(certFor.get(J189)!));
    expect(r.status).toBe(401);
    expect(r.body.length).toBe(0);
    await settle();
    const ev = mem.events('client_cert_mac_mismatch');
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ level: 'warn', ip: '127.0.0.1', mac: J179, cert_mac: J189 });
    // And Y's own files still open with Y's certificate.
    expect((await tlsGet(httpsPort, `/${J189}.txt`, withCert(certFor.get(J189)!))).status).toBe(200);
  });

  it('required: a certificate from an untrusted CA (claiming the right MAC) is refused (401)', async () => {
    mem.lines.length = 0;
    const r = await tlsGet(httpsPort, `/${J179}.txt`, withCert(certFor.get('untrusted')!));
    expect(r.status).toBe(401);
    await settle();
    const refused = mem.records().filter((l) => typeof l.event === 'string' && String(l.event).startsWith('client_cert_'));
    expect(refused).toHaveLength(1);
    expect(refused[0]!.cert_error).toBeTruthy();
  });

  it('required: a trusted certificate that names no MAC cannot prove it is X: refused (401)', async () => {
    expect((await tlsGet(httpsPort, `/${J179}.txt`, withCert(certFor.get('no-mac')!))).status).toBe(401);
  });

  it('optional: no certificate is fine for a device without auth', async () => {
    const r = await tlsGet(httpsPort, `/${TRIO}.cfg`, { ca: ca.cert });
    expect(r.status).toBe(200);
  });

  it('optional: without a certificate Basic applies (401 bare, 200 with the device’s credentials)', async () => {
    expect((await tlsGet(httpsPort, `/${T46S}.cfg`, { ca: ca.cert })).status).toBe(401);
    const ok = await tlsGet(httpsPort, `/${T46S}.cfg`, { ca: ca.cert, headers: basic('t46s', T46S_PW) });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toMatch(/^account\.1\.user_name = 2010$/m);
  });

  it('optional: a trusted matching certificate counts as authentication (200 without Basic)', async () => {
    const r = await tlsGet(httpsPort, `/${T46S}.cfg`, withCert(certFor.get(T46S)!));
    expect(r.status).toBe(200);
    const viaBasic = await tlsGet(httpsPort, `/${T46S}.cfg`, { ca: ca.cert, headers: basic('t46s', T46S_PW) });
    expect(r.body.equals(viaBasic.body)).toBe(true);
  });

  it('optional: an untrusted certificate is no identity (401 bare, Basic still works)', async () => {
    expect((await tlsGet(httpsPort, `/${T46S}.cfg`, withCert(certFor.get('untrusted-t46s')!))).status).toBe(401);
    expect((await tlsGet(httpsPort, `/${T46S}.cfg`, { ...withCert(certFor.get('untrusted-t46s')!), headers: basic('t46s', T46S_PW) })).status).toBe(200);
  });

  it('optional: a trusted certificate for another device is refused even with the right Basic credentials (401)', async () => {
    const r = await tlsGet(httpsPort, `/${T46S}.cfg`, { ...withCert(certFor.get(TRIO)!), headers: basic('t46s', T46S_PW) });
    expect(r.status).toBe(401);
  });
});

describe('deskset check on the server certificate', () => {
  const roots: TmpRoot[] = [];
  afterAll(async () => {
    for (const r of roots) await r.cleanup();
  });
  async function checkWith(pair: Pair): Promise<{ code: number | null; out: string; root: TmpRoot }> {
    const root = await makeTmpRoot({ 'deskset.yaml': desksetYaml('tls:\n  cert: tls/server.pem\n  key: tls/server.key'), 'tls/server.pem': pair.cert, 'tls/server.key': pair.key });
    roots.push(root);
    const r = await runCli(['check', root.dir]);
    return { code: r.code, out: r.stdout + r.stderr, root };
  }

  it('control: a good certificate gives no TLS finding', async () => {
    const r = await checkWith(server);
    expect(r.out).not.toMatch(/TLS_/);
    expect(r.code).toBe(0);
  });

  it('a certificate expiring within 30 days: warning TLS_CERT_EXPIRING', async () => {
    const r = await checkWith(await makeServerCert(ca, { notAfter: new Date(Date.now() + 10 * DAY) }));
    expect(r.out).toMatch(/warning TLS_CERT_EXPIRING\b/);
    expect(r.out).not.toMatch(/error TLS_/);
    expect(r.code).toBe(0);
  });

  it('an expired certificate: error TLS_CERT_EXPIRED (exit 1), and the server refuses to start', async () => {
    const r = await checkWith(await makeServerCert(ca, { notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - DAY) }));
    expect(r.out).toMatch(/error TLS_CERT_EXPIRED\b/);
    expect(r.code).toBe(1);
    await expect(startServer({ root: r.root.dir, host: '127.0.0.1', port: 0, httpsPort: 0, log: memoryLog().log, watch: false })).rejects.toBeInstanceOf(DiagnosticsError);
  });

  it('a wildcard CN: warning TLS_CERT_WILDCARD', async () => {
    const r = await checkWith(await makeServerCert(ca, { dns: ['*.prov.example'], ips: [] }, '*.prov.example'));
    expect(r.out).toMatch(/warning TLS_CERT_WILDCARD\b/);
    expect(r.out).toContain('*.prov.example');
    expect(r.code).toBe(0);
  });

  it('a key that does not belong to the certificate: error TLS_KEY_MISMATCH (exit 1), and the server refuses to start', async () => {
    const other = await makeServerCert(ca);
    const r = await checkWith({ cert: server.cert, key: other.key });
    expect(r.out).toMatch(/error TLS_KEY_MISMATCH\b/);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('PRIVATE KEY');
    await expect(startServer({ root: r.root.dir, host: '127.0.0.1', port: 0, httpsPort: 0, log: memoryLog().log, watch: false })).rejects.toBeInstanceOf(DiagnosticsError);
  });
});

describe('check output names the certificate file', () => {
  it('TLS findings point at tls/server.pem', async () => {
    const root = await makeTmpRoot({ 'deskset.yaml': desksetYaml('tls:\n  cert: tls/server.pem\n  key: tls/server.key'), 'tls/server.pem': (await makeServerCert(await makeCa('x'), { notAfter: new Date(Date.now() + 5 * DAY) })).cert, 'tls/server.key': 'placeholder' });
    try {
      // The key is unreadable here too; both findings are reported, each at its file.
      const r = await runCli(['check', root.dir]);
      expect(r.stdout).toMatch(new RegExp(`${path.basename('server.pem')}:\\d+:\\d+: warning TLS_CERT_EXPIRING`));
      expect(r.stdout).toMatch(/server\.key:\d+:\d+: error TLS_KEY_INVALID/);
      expect(r.code).toBe(1);
    } finally {
      await root.cleanup();
    }
  });
});
