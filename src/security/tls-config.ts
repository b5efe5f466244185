// Turn the TLS settings of a config root into options for https.createServer, and check the
// certificate the way a phone will: expired, expiring, wildcard, key that does not match.
// Problems come back as Diagnostics (collected, not thrown), so `deskset check` can report a
// certificate that expires next week before a phone finds out.
//
// Paths are relative to the config root and may not leave it: the root is what admins keep
// in git and what CI checks, and a config must not be able to make the server read
// /etc/shadow into a TLS context (or into an error message).

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { hasErrors, type Diagnostic, type SourceLoc } from '../check/diagnostics.js';
import { parseSubjectAltName } from './client-cert.js';

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsSettings {
  /** PEM certificate, leaf first, then intermediates. Relative to the config root. */
  cert?: string;
  /** PEM private key (may be encrypted; then `passphrase` decrypts it). Relative to the config root. */
  key?: string;
  /** PKCS#12 (.p12/.pfx) holding key and certificate; instead of cert + key, never with them. */
  pfx?: string;
  /** Decrypts the PKCS#12 file or an encrypted PEM key. */
  passphrase?: string;
  /** Lowest protocol version accepted; TLSv1.2 by default. */
  minVersion?: TlsMinVersion;
  /** PEM bundle of CAs whose client certificates are trusted (mutual TLS). Relative to the config root. */
  clientCa?: string;
}

/**
 * TLS 1.2 unless configured higher: Poly's device management service (PDMS-E) already
 * requires TLS 1.2 of the phones that connect to it, and 1.0/1.1 are deprecated (RFC 8996).
 * Set explicitly, not left to Node's default, so `--tls-min-v1.0` in NODE_OPTIONS cannot
 * lower it.
 */
export const DEFAULT_MIN_VERSION: TlsMinVersion = 'TLSv1.2';
/** A certificate that expires sooner than this is reported as a warning. */
export const EXPIRY_WARNING_DAYS = 30;
/** Certificates, keys and bundles are small; refuse to read anything bigger into memory. */
const MAX_TLS_FILE = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What https.createServer / tls.createServer need, exactly as loaded. */
export type TlsServerOptions = tls.SecureContextOptions & {
  minVersion: TlsMinVersion;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
};

export interface TlsMaterial {
  /** Present only when there are no error diagnostics. */
  options?: TlsServerOptions;
  diagnostics: Diagnostic[];
  /** The server's leaf certificate (for logging its fingerprint and expiry at start). */
  leaf?: X509Certificate;
}

export interface LoadTlsOptions {
  /** The clock for expiry checks (tests pin it). */
  now?: Date;
  /** Where the TLS settings themselves are written (e.g. the `tls:` node in deskset.yaml), for diagnostics about the settings rather than a file. */
  settingsLoc?: SourceLoc;
}

/**
 * Read and check the TLS material a config root names. Either `cert` + `key` (PEM) or `pfx`
 * (+ `passphrase`); with `clientCa`, the server asks every client for a certificate but lets
 * the handshake succeed without one, because whether a certificate is required is a per-site
 * decision the app makes per request (decideClientCert), not a property of the listener.
 */
export async function loadTlsMaterial(rootDir: string, s: TlsSettings, opts: LoadTlsOptions = {}): Promise<TlsMaterial> {
  const now = opts.now ?? new Date();
  const diagnostics: Diagnostic[] = [];
  const setting = (code: string, message: string): void => {
    diagnostics.push({ code, severity: 'error', message, ...(opts.settingsLoc ? { loc: opts.settingsLoc } : {}) });
  };

  const minVersion = s.minVersion ?? DEFAULT_MIN_VERSION;
  // The type says TLSv1.2 | TLSv1.3, but settings come from YAML: check at run time too.
  if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') {
    setting('TLS_MIN_VERSION', `minVersion ${JSON.stringify(minVersion)} is not supported; use TLSv1.2 or TLSv1.3`);
  }

  const hasPem = s.cert !== undefined || s.key !== undefined;
  if (hasPem && s.pfx !== undefined) {
    setting('TLS_CONFIG_CONFLICT', 'both a PEM cert/key and a PKCS#12 pfx are set; set one or the other');
    return { diagnostics };
  }
  if (!hasPem && s.pfx === undefined) {
    setting('TLS_CONFIG_INCOMPLETE', 'no server certificate: set cert and key (PEM) or pfx (PKCS#12)');
    return { diagnostics };
  }
  if (hasPem && (s.cert === undefined || s.key === undefined)) {
    setting('TLS_CONFIG_INCOMPLETE', s.cert === undefined ? 'key is set but cert is not' : 'cert is set but key is not');
    return { diagnostics };
  }

  const options: TlsServerOptions = { minVersion };
  let leaf: X509Certificate | undefined;

  if (s.pfx !== undefined) {
    const pfx = await readConfined(rootDir, s.pfx, 'pfx', diagnostics);
    if (pfx) {
      const found = checkPkcs12(pfx.data, s.passphrase, now, pfx.display);
      diagnostics.push(...found.diagnostics);
      leaf = found.leaf;
      options.pfx = pfx.data;
      if (s.passphrase !== undefined) options.passphrase = s.passphrase;
    }
  } else {
    const cert = await readConfined(rootDir, s.cert as string, 'cert', diagnostics);
    const key = await readConfined(rootDir, s.key as string, 'key', diagnostics);
    if (cert && key) {
      diagnostics.push(...checkCertificate(cert.data, key.data, now, cert.display, s.passphrase, key.display));
      leaf = firstCertificate(cert.data);
      options.cert = cert.data;
      options.key = key.data;
      if (s.passphrase !== undefined) options.passphrase = s.passphrase;
    }
  }

  if (s.clientCa !== undefined) {
    const ca = await readConfined(rootDir, s.clientCa, 'clientCa', diagnostics);
    if (ca) {
      diagnostics.push(...checkClientCaBundle(ca.data, now, ca.display));
      options.ca = ca.data;
      options.requestCert = true;
      // Not a mistake: reject per request in the app, so a site can be "optional" and a
      // phone without a certificate still gets its shared files. req.socket.authorized says
      // whether the certificate chained to `ca`.
      options.rejectUnauthorized = false;
    }
  }

  if (hasErrors(diagnostics)) return { diagnostics, ...(leaf ? { leaf } : {}) };

  // Last gate: OpenSSL itself must accept the whole set (catches what the checks above do
  // not model, e.g. a key type this OpenSSL build refuses). Only reached without errors,
  // so a mismatched key is not reported twice.
  try {
    tls.createSecureContext(options);
  } catch (e) {
    setting('TLS_CONTEXT', `OpenSSL refused the TLS settings: ${(e as Error).message}`);
    return { diagnostics, ...(leaf ? { leaf } : {}) };
  }
  return { options, diagnostics, ...(leaf ? { leaf } : {}) };
}

/**
 * Check a PEM certificate (leaf first, optionally followed by its chain) and, when given, its
 * private key:
 * - error `TLS_CERT_EXPIRED` / `TLS_CERT_NOT_YET_VALID` when `now` is outside a certificate's validity;
 * - warning `TLS_CERT_EXPIRING` when one expires within 30 days;
 * - warning `TLS_CERT_WILDCARD` when the leaf's CN or a DNS SAN is a wildcard (Avaya: "some
 *   devices might not accept a certificate containing FQDNs with wildcards");
 * - error `TLS_KEY_MISMATCH` when the key is not the leaf's key, `TLS_KEY_INVALID` when it
 *   cannot be read (including an encrypted key without the right passphrase);
 * - warning `TLS_CHAIN_ORDER` when a chain certificate did not issue the one before it.
 * Validity is checked for every certificate in the file, because an expired intermediate
 * fails a phone just as surely as an expired leaf.
 */
export function checkCertificate(
  certPem: string | Buffer,
  keyPem: string | Buffer | undefined,
  now: Date,
  file: string,
  passphrase?: string,
  keyFile: string = file,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const loc = (f: string): SourceLoc => ({ file: f, line: 1, col: 1 });
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(certPem);
  } catch (e) {
    return [{ code: 'TLS_CERT_INVALID', severity: 'error', message: `not a readable X.509 certificate: ${(e as Error).message}`, loc: loc(file) }];
  }
  if (certs.length === 0) return [{ code: 'TLS_CERT_INVALID', severity: 'error', message: 'no certificate found (expected PEM "-----BEGIN CERTIFICATE-----")', loc: loc(file) }];

  certs.forEach((c, i) => {
    const what = i === 0 ? `certificate ${describe(c)}` : `chain certificate ${i} ${describe(c)}`;
    out.push(...validityDiagnostics(c, now, what, loc(file)));
  });

  const leaf = certs[0] as X509Certificate;
  const wild = wildcardNames(leaf);
  if (wild.length) {
    out.push({
      code: 'TLS_CERT_WILDCARD',
      severity: 'warning',
      message: `certificate names ${wild.join(', ')}; some phones refuse wildcard certificates (Avaya recommends an explicit FQDN)`,
      loc: loc(file),
    });
  }
  for (let i = 1; i < certs.length; i++) {
    if (!(certs[i - 1] as X509Certificate).checkIssued(certs[i] as X509Certificate)) {
      out.push({
        code: 'TLS_CHAIN_ORDER',
        severity: 'warning',
        message: `chain certificate ${i} ${describe(certs[i] as X509Certificate)} did not issue the certificate before it; list the leaf first, then each issuer in order`,
        loc: loc(file),
      });
      break;
    }
  }

  if (keyPem !== undefined) {
    let key;
    try {
      key = createPrivateKey(passphrase !== undefined ? { key: keyPem, passphrase } : keyPem);
    } catch (e) {
      const msg = (e as Error).message;
      const hint = /passphrase|decrypt|bad decrypt/i.test(msg) ? ' (encrypted key: is the passphrase set and right?)' : '';
      out.push({ code: 'TLS_KEY_INVALID', severity: 'error', message: `private key not readable: ${msg}${hint}`, loc: loc(keyFile) });
      return out;
    }
    if (!leaf.checkPrivateKey(key)) {
      out.push({ code: 'TLS_KEY_MISMATCH', severity: 'error', message: `private key ${keyFile} does not belong to certificate ${describe(leaf)}`, loc: loc(keyFile) });
    }
  }
  return out;
}

/**
 * Check a PKCS#12 file. Node cannot unpack PKCS#12 into PEM, so this works through OpenSSL:
 * - `tls.createSecureContext({ pfx, passphrase })` parses the file. That proves the
 *   passphrase is right (MAC check), the file's encryption is supported by this OpenSSL
 *   (OpenSSL 3 refuses legacy RC2-40 files), and the private key matches the certificate
 *   (OpenSSL picks the certificate that matches the key and refuses the pair otherwise).
 *   Any failure is an error `TLS_PFX_INVALID`.
 * - The leaf certificate is then read back from that context through an unconnected
 *   server-side TLSSocket (`getCertificate()` needs no handshake and no network), and goes
 *   through checkCertificate for validity and wildcard checks.
 * NOT checked for PKCS#12: the validity and order of intermediate certificates inside the
 * file (OpenSSL keeps them in the context, but Node exposes only the leaf).
 */
export function checkPkcs12(pfx: Buffer, passphrase: string | undefined, now: Date, file: string): { diagnostics: Diagnostic[]; leaf?: X509Certificate } {
  const loc: SourceLoc = { file, line: 1, col: 1 };
  let leaf: X509Certificate;
  try {
    leaf = leafFromPkcs12(pfx, passphrase);
  } catch (e) {
    const msg = (e as Error).message;
    let why = msg;
    if (/mac verify/i.test(msg)) why = passphrase === undefined ? 'no passphrase is set and the file needs one' : 'wrong passphrase (or a corrupt file)';
    else if (/unsupported/i.test(msg)) why = `${msg}: legacy encryption (e.g. RC2) that OpenSSL 3 disables; re-export it with OpenSSL 3, or use PEM cert + key`;
    return { diagnostics: [{ code: 'TLS_PFX_INVALID', severity: 'error', message: `PKCS#12 file not usable: ${why}`, loc }] };
  }
  return { diagnostics: checkCertificate(leaf.toString(), undefined, now, file), leaf };
}

/** The leaf certificate inside a PKCS#12 file, via OpenSSL. Throws what OpenSSL throws. */
export function leafFromPkcs12(pfx: Buffer, passphrase: string | undefined): X509Certificate {
  const secureContext = tls.createSecureContext(passphrase !== undefined ? { pfx, passphrase } : { pfx });
  // A server-side TLSSocket over a dummy stream gives public access to the context's own
  // certificate; nothing is written to the stream until a handshake starts, and none does.
  const socket = new tls.TLSSocket(new PassThrough(), { isServer: true, secureContext });
  try {
    const local = socket.getCertificate() as Partial<tls.PeerCertificate> | null;
    if (!local?.raw) throw new Error('the PKCS#12 file holds no certificate for its key');
    return new X509Certificate(local.raw);
  } finally {
    socket.destroy();
  }
}

/** A client CA bundle must hold at least one readable certificate; expired CAs fail every device. */
function checkClientCaBundle(data: Buffer, now: Date, file: string): Diagnostic[] {
  const loc: SourceLoc = { file, line: 1, col: 1 };
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(data);
  } catch (e) {
    return [{ code: 'TLS_CLIENT_CA_INVALID', severity: 'error', message: `client CA bundle not readable: ${(e as Error).message}`, loc }];
  }
  if (certs.length === 0) return [{ code: 'TLS_CLIENT_CA_INVALID', severity: 'error', message: 'client CA bundle holds no PEM certificate', loc }];
  const out: Diagnostic[] = [];
  for (const c of certs) {
    out.push(...validityDiagnostics(c, now, `client CA ${describe(c)}`, loc));
    if (!c.ca) {
      out.push({
        code: 'TLS_CLIENT_CA_NOT_CA',
        severity: 'warning',
        message: `client CA ${describe(c)} is not a CA certificate (basicConstraints CA:FALSE); device certificates it signed will not verify`,
        loc,
      });
    }
  }
  return out;
}

function validityDiagnostics(c: X509Certificate, now: Date, what: string, loc: SourceLoc): Diagnostic[] {
  // Node 20's X509Certificate has only the OpenSSL text form ("Dec 23 19:08:37 2026 GMT"),
  // which Date parses; validToDate arrives in Node 22.
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  const t = now.getTime();
  if (!Number.isNaN(from) && t < from) {
    return [{ code: 'TLS_CERT_NOT_YET_VALID', severity: 'error', message: `${what} is not valid until ${new Date(from).toISOString()}`, loc }];
  }
  if (!Number.isNaN(to) && t >= to) {
    return [{ code: 'TLS_CERT_EXPIRED', severity: 'error', message: `${what} expired on ${new Date(to).toISOString()}`, loc }];
  }
  if (!Number.isNaN(to) && to - t < EXPIRY_WARNING_DAYS * DAY_MS) {
    const days = Math.floor((to - t) / DAY_MS);
    return [{ code: 'TLS_CERT_EXPIRING', severity: 'warning', message: `${what} expires on ${new Date(to).toISOString()} (in ${days} day${days === 1 ? '' : 's'})`, loc }];
  }
  return [];
}

/** Names in the leaf that are wildcards: any CN or DNS SAN whose first label contains `*`. */
function wildcardNames(c: X509Certificate): string[] {
  const names = [...commonNames(c), ...parseSubjectAltName(c.subjectAltName).filter((a) => a.type === 'DNS').map((a) => a.value)];
  return [...new Set(names.filter((n) => (n.split('.')[0] ?? '').includes('*')))];
}

/** CN values from X509Certificate.subject (one `KEY=value` per line, `\,`-style escapes). */
function commonNames(c: X509Certificate): string[] {
  return c.subject
    .split('\n')
    .filter((l) => l.startsWith('CN='))
    .map((l) => l.slice(3).replace(/\\(.)/g, '$1'));
}

function describe(c: X509Certificate): string {
  const cn = commonNames(c)[0];
  return cn !== undefined ? `"${cn}"` : `(${c.subject.replace(/\n/g, ', ')})`;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, in order; a file with no PEM armour is tried as one DER certificate. */
function parseCertificates(data: string | Buffer): X509Certificate[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const blocks = text.match(PEM_CERT);
  if (blocks) return blocks.map((b) => new X509Certificate(b));
  if (typeof data !== 'string' && !text.includes('-----BEGIN')) return [new X509Certificate(data)];
  return [];
}

function firstCertificate(data: Buffer): X509Certificate | undefined {
  try {
    return parseCertificates(data)[0];
  } catch {
    return undefined;
  }
}

/**
 * Read a file named by a setting, confined to the root. Refused (error diagnostic, nothing
 * read): a path that resolves outside the root lexically (`../x`, `/etc/x`), or whose real
 * path does (a symlink out), a missing file, a non-file, or one over MAX_TLS_FILE.
 */
async function readConfined(rootDir: string, rel: string, setting: string, diagnostics: Diagnostic[]): Promise<{ data: Buffer; display: string } | undefined> {
  const err = (code: string, message: string, file: string): undefined => {
    diagnostics.push({ code, severity: 'error', message: `${setting}: ${message}`, loc: { file, line: 1, col: 1 } });
    return undefined;
  };
  if (typeof rel !== 'string' || rel.trim() === '') return err('TLS_PATH', 'empty path', String(rel));
  const root = path.resolve(rootDir);
  let realRoot: string;
  try {
    realRoot = await fs.realpath(root);
  } catch (e) {
    return err('TLS_FILE_UNREADABLE', `config root not readable: ${(e as Error).message}`, rel);
  }
  const abs = path.resolve(root, rel);
  // Lexical check first, so an escape is reported as such even when the target does not
  // exist (and so we never even stat outside the root). Accepted against the root as given
  // and against its real path, so an absolute path through either spelling works.
  if (!inside(root, abs) && !inside(realRoot, abs)) {
    return err('TLS_PATH_OUTSIDE_ROOT', `${rel} is outside the config root; TLS files must live in it`, rel);
  }
  const display = path.relative(inside(root, abs) ? root : realRoot, abs).split(path.sep).join('/');
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch {
    return err('TLS_FILE_MISSING', `${display} does not exist`, display);
  }
  if (!inside(realRoot, real)) return err('TLS_PATH_OUTSIDE_ROOT', `${display} leads outside the config root (symlink); TLS files must live in it`, display);
  const st = await fs.stat(real);
  if (!st.isFile()) return err('TLS_FILE_UNREADABLE', `${display} is not a file`, display);
  if (st.size > MAX_TLS_FILE) return err('TLS_FILE_UNREADABLE', `${display} is ${st.size} bytes, over the ${MAX_TLS_FILE}-byte limit for TLS files`, display);
  try {
    return { data: await fs.readFile(real), display };
  } catch (e) {
    return err('TLS_FILE_UNREADABLE', `${display}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, display);
  }
}

function inside(root: string, p: string): boolean {
  const r = path.relative(root, p);
  // `..` or `../x` escapes; `..cert.pem` is an odd but legal name inside the root.
  return r !== '' && r !== '..' && !r.startsWith(`..${path.sep}`) && !path.isAbsolute(r);
}
