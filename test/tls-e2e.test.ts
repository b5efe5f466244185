import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fsp from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { clientCertFromSocket, macFromPeerCertificate } from '../src/security/client-cert.js';
import { ensureDevCertificate } from '../src/security/dev-cert.js';
import { loadTlsMaterial, type TlsServerOptions } from '../src/security/tls-config.js';

// Real HTTPS servers on 127.0.0.1:0 built from loadTlsMaterial's output, real clients with
// real client certificates. What is asserted is what a phone would see on the wire.

const DAY = 24 * 60 * 60 * 1000;
const MAC = 'c81fea83e85a';

interface Pair {
  cert: string;
  key: string;
}

async function makeCa(cn: string): Promise<Pair> {
  const p = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

type Alt = { type: 2 | 6; value: string } | { type: 7; ip: string };

async function makeLeaf(cn: string, ca: Pair, altNames: Alt[], usage: 'server' | 'client'): Promise<Pair> {
  const p = await generate([{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'deskset test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - DAY),
    notAfterDate: new Date(Date.now() + 365 * DAY),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      usage === 'server' ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true },
      ...(altNames.length ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
  });
  return { cert: p.cert, key: p.private };
}

interface Seen {
  status: number;
  body: { mac?: string; authorized: boolean; protocol: string | null; presented: boolean; authorizationError?: string };
}

interface Running {
  url: URL;
  server: https.Server;
  clientErrors: Array<{ code?: string; message: string }>;
  close(): Promise<void>;
}

/** A tiny HTTPS server: it reports what the TLS layer told it about the client. */
async function serve(options: TlsServerOptions): Promise<Running> {
  const clientErrors: Array<{ code?: string; message: string }> = [];
  const server = https.createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const fromSocket = clientCertFromSocket(socket);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        mac: macFromPeerCertificate(socket.getPeerCertificate()),
        authorized: socket.authorized,
        protocol: socket.getProtocol(),
        presented: fromSocket.presented,
        authorizationError: fromSocket.authorizationError,
      }),
    );
  });
  server.on('tlsClientError', (e: NodeJS.ErrnoException) => clientErrors.push({ code: e.code, message: e.message }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: new URL(`https://127.0.0.1:${port}/`),
    server,
    clientErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * One request on a fresh connection (`agent: false`: no pooled socket and no TLS session
 * cache, so each call's client certificate and protocol limits really are negotiated).
 */
function get(url: URL, opts: https.RequestOptions): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = https.request({ hostname: url.hostname, port: url.port, path: '/', method: 'GET', agent: false, ...opts }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Seen['body'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let base: string;
let root: string;
let ca: Pair;
let untrustedCa: Pair;
let running: Running;

beforeAll(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'deskset-tls-e2e-'));
  root = path.join(base, 'root');
  await fsp.mkdir(path.join(root, 'tls'), { recursive: true });
  ca = await makeCa('deskset test CA');
  untrustedCa = await makeCa('someone else');
  const server = await makeLeaf('localhost', ca, [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }], 'server');
  await fsp.writeFile(path.join(root, 'tls/server.pem'), server.cert);
  await fsp.writeFile(path.join(root, 'tls/server.key'), server.key);
  await fsp.writeFile(path.join(root, 'tls/devices-ca.pem'), ca.cert);
  const m = await loadTlsMaterial(root, { cert: 'tls/server.pem', key: 'tls/server.key', clientCa: 'tls/devices-ca.pem' });
  expect(m.diagnostics).toEqual([]);
  running = await serve(m.options as TlsServerOptions);
});

afterAll(async () => {
  await running?.close();
  await fsp.rm(base, { recursive: true, force: true });
});

describe('HTTPS with loadTlsMaterial options', () => {
  it('serves TLS 1.2 and TLS 1.3', async () => {
    const v12 = await get(running.url, { ca: ca.cert, maxVersion: 'TLSv1.2' });
    expect(v12.body.protocol).toBe('TLSv1.2');
    const v13 = await get(running.url, { ca: ca.cert });
    expect(v13.body.protocol).toBe('TLSv1.3');
  });

  it('establishes no session below TLS 1.2', async () => {
    // A default Node client will not even offer TLS 1.1 (OpenSSL 3's security level forbids
    // it: ERR_SSL_NO_PROTOCOLS_AVAILABLE before a byte is sent). SECLEVEL=0 makes it offer
    // 1.1 for real, so what is tested is the SERVER's refusal, seen on both ends.
    const before = running.clientErrors.length;
    const err = await get(running.url, { ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }).then(
      (seen) => ({ unexpected: seen }),
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') return; // this build cannot offer 1.1 at all: still no session
    expect((err as Error).message).toMatch(/protocol version|unsupported protocol/i);
    await new Promise((r) => setTimeout(r, 50)); // the server's event may trail the client's error
    expect(running.clientErrors.slice(before).map((e) => e.code)).toContain('ERR_SSL_UNSUPPORTED_PROTOCOL');
  });

  it('control: the same 1.1 client IS served by a server whose floor is lowered, so the refusal above is minVersion', async () => {
    const m = await loadTlsMaterial(root, { cert: 'tls/server.pem', key: 'tls/server.key' });
    const lowered = await serve({ ...(m.options as TlsServerOptions), minVersion: 'TLSv1' as never, ciphers: 'DEFAULT@SECLEVEL=0' });
    try {
      const seen = await get(lowered.url, { ca: ca.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }).catch((e: NodeJS.ErrnoException) => e);
      if (seen instanceof Error && (seen as NodeJS.ErrnoException).code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') return;
      expect(seen).not.toBeInstanceOf(Error);
      expect((seen as Seen).body.protocol).toBe('TLSv1.1');
    } finally {
      await lowered.close();
    }
  });

  it('serves a client without a certificate (the app, not the handshake, decides)', async () => {
    const seen = await get(running.url, { ca: ca.cert });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ authorized: false, presented: false });
    expect(seen.body.mac).toBeUndefined();
  });

  it('reads the device MAC from a trusted certificate with CN=<MAC>', async () => {
    const device = await makeLeaf(MAC, ca, [], 'client');
    const seen = await get(running.url, { ca: ca.cert, cert: device.cert, key: device.key });
    expect(seen.body).toMatchObject({ mac: MAC, authorized: true, presented: true });
  });

  it.each<[string, string, Alt[]]>([
    ['CN in colon notation', 'C8:1F:EA:83:E8:5A', []],
    ['SAN DNS', 'Avaya J179', [{ type: 2, value: 'c8-1f-ea-83-e8-5a' }]],
    ['SAN URI (RFC 9039 URN)', 'Avaya J179', [{ type: 6, value: `urn:dev:mac:${MAC}` }]],
    ['SAN URI (path)', 'Avaya J179', [{ type: 6, value: `https://pki.example.com/devices/${MAC.toUpperCase()}` }]],
  ])('reads the device MAC from %s', async (_name, cn, alt) => {
    const device = await makeLeaf(cn, ca, alt, 'client');
    const seen = await get(running.url, { ca: ca.cert, cert: device.cert, key: device.key });
    expect(seen.body).toMatchObject({ mac: MAC, authorized: true });
  });

  it.skipIf(!hasOpenssl())('reads the device MAC from an otherName (UPN) that Node prints as text', async () => {
    // selfsigned cannot write otherName SANs; the openssl CLI can.
    const dir = path.join(base, 'upn');
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(dir, 'ca.pem'), ca.cert);
    await fsp.writeFile(path.join(dir, 'ca.key'), ca.key);
    await fsp.writeFile(path.join(dir, 'ext.cnf'), `subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${MAC}\nextendedKeyUsage=clientAuth\n`);
    const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'dev.key']);
    run(['req', '-new', '-key', 'dev.key', '-subj', '/CN=Avaya J179', '-out', 'dev.csr']);
    run(['x509', '-req', '-in', 'dev.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'dev.pem']);
    const cert = await fsp.readFile(path.join(dir, 'dev.pem'), 'utf8');
    expect(new X509Certificate(cert).subjectAltName).toBe(`othername:UPN:${MAC}`);
    const seen = await get(running.url, { ca: ca.cert, cert, key: await fsp.readFile(path.join(dir, 'dev.key'), 'utf8') });
    expect(seen.body).toMatchObject({ mac: MAC, authorized: true });
  });

  it('marks a certificate from an untrusted CA as unauthorized (but still reads what it claims)', async () => {
    const forged = await makeLeaf(MAC, untrustedCa, [], 'client');
    const seen = await get(running.url, { ca: ca.cert, cert: forged.cert, key: forged.key });
    expect(seen.status).toBe(200);
    expect(seen.body.authorized).toBe(false);
    expect(seen.body.presented).toBe(true);
    expect(seen.body.authorizationError).toBeTruthy();
    // The claim is visible (for logs); decideClientCert is what refuses to believe it.
    expect(seen.body.mac).toBe(MAC);
  });

  it('gives no identity for a certificate naming two different MACs', async () => {
    const both = await makeLeaf(MAC, ca, [{ type: 2, value: '001122334455' }], 'client');
    const seen = await get(running.url, { ca: ca.cert, cert: both.cert, key: both.key });
    expect(seen.body.authorized).toBe(true);
    expect(seen.body.mac).toBeUndefined();
  });
});

describe('ensureDevCertificate', () => {
  let state: string;
  beforeAll(async () => {
    state = path.join(base, 'state');
  });

  it('creates a key (mode 0600) and certificate once, then reuses them', async () => {
    const first = await ensureDevCertificate(state);
    expect(first.created).toBe(true);
    expect(first.certPath).toBe(path.join(state, 'tls', 'dev-cert.pem'));
    expect(first.keyPath).toBe(path.join(state, 'tls', 'dev-key.pem'));
    const cert = new X509Certificate(await fsp.readFile(first.certPath));
    expect(first.fingerprint256).toBe(cert.fingerprint256);
    expect(first.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    if (process.platform !== 'win32') expect((await fsp.stat(first.keyPath)).mode & 0o777).toBe(0o600);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBeDefined();
    expect(cert.checkHost(os.hostname().toLowerCase())).toBeDefined();
    expect(cert.ca).toBe(false);

    const keyBefore = await fsp.readFile(first.keyPath, 'utf8');
    const second = await ensureDevCertificate(state);
    expect(second).toEqual({ ...first, created: false });
    expect(await fsp.readFile(second.keyPath, 'utf8')).toBe(keyBefore);
    expect((await fsp.readdir(path.join(state, 'tls'))).sort()).toEqual(['dev-cert.pem', 'dev-key.pem']); // no temp files left
  });

  it('is trusted by an HTTPS client that pins it, connecting to localhost', async () => {
    const dev = await ensureDevCertificate(state);
    const certPem = await fsp.readFile(dev.certPath, 'utf8');
    const srv = await serve({ cert: certPem, key: await fsp.readFile(dev.keyPath, 'utf8'), minVersion: 'TLSv1.2' });
    try {
      // Connect by the NAME localhost (so hostname verification is against the name), but
      // pin resolution to the IPv4 loopback the server listens on: localhost may resolve to
      // ::1 first on this machine. Node 20 asks for all addresses (autoSelectFamily).
      const lookup = ((_host: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as https.RequestOptions['lookup'];
      const byName = await get(new URL(`https://localhost:${srv.url.port}/`), { ca: certPem, lookup });
      expect(byName.status).toBe(200);
      const byIp = await get(srv.url, { ca: certPem });
      expect(byIp.status).toBe(200);
      // And a client that does not pin it refuses it: it is self-signed.
      await expect(get(srv.url, {})).rejects.toThrow(/self[- ]signed/i);
    } finally {
      await srv.close();
    }
  });

  it('regenerates when asked for a name the certificate lacks', async () => {
    const before = await ensureDevCertificate(state);
    const after = await ensureDevCertificate(state, ['prov.lab.example', '10.1.2.3']);
    expect(after.created).toBe(true);
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    const cert = new X509Certificate(await fsp.readFile(after.certPath));
    expect(cert.checkHost('prov.lab.example')).toBe('prov.lab.example');
    expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect((await ensureDevCertificate(state, ['prov.lab.example', '10.1.2.3'])).created).toBe(false);
  });

  it('regenerates a certificate that expires within 30 days, or whose key does not match', async () => {
    const dir = path.join(base, 'state-expiring');
    const dev = await ensureDevCertificate(dir);
    const short = await generate([{ name: 'commonName', value: 'localhost' }], {
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 10 * DAY),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
    });
    await fsp.writeFile(dev.certPath, short.cert);
    await fsp.writeFile(dev.keyPath, short.private);
    const renewed = await ensureDevCertificate(dir);
    expect(renewed.created).toBe(true);
    expect(Date.parse(new X509Certificate(await fsp.readFile(renewed.certPath)).validTo)).toBeGreaterThan(Date.now() + 300 * DAY);

    const other = await generate([{ name: 'commonName', value: 'x' }], { algorithm: 'sha256' });
    await fsp.writeFile(renewed.keyPath, other.private);
    const repaired = await ensureDevCertificate(dir);
    expect(repaired.created).toBe(true);
  });
});
