// A self-signed certificate for trying HTTPS without a PKI: `deskset serve` on a laptop or a
// lab box. Made once and kept in the state directory, so its fingerprint stays the same
// across restarts (an admin who pinned or uploaded it to a phone does not have to do it
// again); remade only when it is missing, unreadable, near expiry, or lacks a name asked for.
//
// It is NOT for production: no phone trusts it unless an admin installs it (Avaya
// TRUSTCERTS, Poly/Yealink custom CA upload).

import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { parseSubjectAltName } from './client-cert.js';
import { EXPIRY_WARNING_DAYS } from './tls-config.js';

export interface DevCertificate {
  certPath: string;
  keyPath: string;
  /** `AB:CD:...`, as X509Certificate.fingerprint256 prints it (and as phones' and browsers' UIs show it). */
  fingerprint256: string;
  /** True when this call generated the files, false when it reused them. */
  created: boolean;
}

const VALID_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;
// Phones often boot with a wrong clock until NTP answers; a certificate that becomes valid
// "now" would be refused by a phone whose clock is a few hours behind.
const BACKDATE_MS = DAY_MS;
const CERT_FILE = 'dev-cert.pem';
const KEY_FILE = 'dev-key.pem';

/**
 * Ensure `<stateDir>/tls/dev-cert.pem` and `dev-key.pem` exist and are fit to serve.
 * Names always covered: localhost, 127.0.0.1, ::1, and os.hostname() (which is the FQDN
 * on machines configured that way; no DNS lookup is made, because one can hang for
 * seconds on a box without a resolver). `hostnames` adds names or IP addresses (e.g. the
 * host of public_url). The key is RSA 2048 / SHA-256: every phone we serve speaks it,
 * while ECDSA support is patchy on older firmware.
 *
 * Concurrent callers may both generate; each file is replaced atomically (temp + rename),
 * and a reused pair is checked to belong together, so a torn pair is regenerated rather
 * than served.
 */
export async function ensureDevCertificate(stateDir: string, hostnames: string[] = []): Promise<DevCertificate> {
  const dir = path.join(stateDir, 'tls');
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  const names = wantedNames(hostnames);

  const existing = await reusable(certPath, keyPath, names, new Date());
  if (existing) {
    // Best effort: if someone loosened the key's mode, tighten it again.
    await fs.chmod(keyPath, 0o600).catch(() => undefined);
    return { certPath, keyPath, fingerprint256: existing.fingerprint256, created: false };
  }

  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const dns = names.filter((n) => net.isIP(n) === 0);
  const ips = names.filter((n) => net.isIP(n) !== 0);
  const primary = dns.find((n) => n !== 'localhost') ?? 'localhost';
  const notBeforeDate = new Date(Date.now() - BACKDATE_MS);
  const notAfterDate = new Date(notBeforeDate.getTime() + VALID_DAYS * DAY_MS);
  const pems = await generate(
    [
      // Some phone firmware still matches the host against the CN, not only the SANs.
      { name: 'commonName', value: primary },
      { name: 'organizationName', value: 'deskset development certificate' },
    ],
    {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256', // selfsigned's default is SHA-1, which modern TLS stacks refuse
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
        },
      ],
    },
  );
  // Key first: a reader that sees the new cert with the old key rejects the pair (reusable
  // checks they match) and regenerates, instead of serving a broken pair.
  await writeAtomic(keyPath, pems.private, 0o600);
  await writeAtomic(certPath, pems.cert, 0o644);
  return { certPath, keyPath, fingerprint256: new X509Certificate(pems.cert).fingerprint256, created: true };
}

/** localhost, loopbacks, this machine's name, then the caller's; lowercased, de-duplicated, invalid names dropped. */
function wantedNames(extra: readonly string[]): string[] {
  const out: string[] = [];
  const add = (raw: string | undefined): void => {
    if (!raw) return;
    let n = raw.trim().toLowerCase();
    if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1); // [::1] as written in URLs
    if (net.isIP(n) === 0) {
      n = n.replace(/\.$/, '');
      // A DNS SAN must be LDH labels (underscores tolerated: some hostnames have them).
      if (!/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/.test(n) || n.length > 253) return;
    }
    if (!out.includes(n)) out.push(n);
  };
  for (const n of ['localhost', '127.0.0.1', '::1', os.hostname(), ...extra]) add(n);
  return out;
}

/** The existing pair, when both files parse, belong together, cover `names`, and stay valid beyond the warning window. */
async function reusable(certPath: string, keyPath: string, names: readonly string[], now: Date): Promise<X509Certificate | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([fs.readFile(certPath, 'utf8'), fs.readFile(keyPath, 'utf8')]);
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
    if (now.getTime() < from || to - now.getTime() < EXPIRY_WARNING_DAYS * DAY_MS) return undefined;
    // Compare against the SAN list itself rather than checkHost, so reuse is exact and
    // cannot flap on names OpenSSL's matcher treats specially.
    const dns = new Set(parseSubjectAltName(cert.subjectAltName).filter((a) => a.type === 'DNS').map((a) => a.value.toLowerCase()));
    for (const n of names) {
      if (net.isIP(n) !== 0 ? cert.checkIP(n) === undefined : !dns.has(n)) return undefined;
    }
    return cert;
  } catch {
    return undefined; // missing or unreadable: make a new one
  }
}

async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, data, { mode, flag: 'wx' });
    await fs.chmod(tmp, mode); // the mode given at creation is reduced by the umask
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
