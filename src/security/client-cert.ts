// Device identity from a TLS client certificate, and the per-site decision whether a request
// may proceed. The identity and decision rules are pure functions over plain values; only
// clientCertFromSocket touches a socket, so the rules are tested as tables without sockets.
//
// Avaya's Device Enrollment Services issues device identity certificates whose subject is
// `CN=<MAC>,OU=Devices SV,O=Avaya India Private Limited,...` (their admin guide shows exactly
// that shape in the ENROLLMENT log). Other vendors and private CAs put the MAC in the
// subjectAltName instead, so both places are read, under the rules documented below.

import type { PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import { TLSSocket } from 'node:tls';
import { normalizeMac, ZERO_MAC } from '../config/mac.js';

/** One subjectAltName entry as Node prints it: `DNS:x` -> { type: 'DNS', value: 'x' }. */
export interface AltName {
  /** `DNS`, `URI`, `email`, `IP Address`, `othername`, `DirName`, `Registered ID`, ... */
  type: string;
  value: string;
}

// Node (since the CVE-2021-44532 fix) prints a SAN value that contains a comma, quote or
// control character as a JSON string literal, so `, ` inside a value cannot be confused with
// the separator. This is the same grammar node:tls's own splitEscapedAltNames accepts.
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;

/**
 * Split Node's `subjectaltname` / `X509Certificate.subjectAltName` text into entries.
 * Unparseable quoting yields an empty list rather than a guess: identity must not be
 * derived from text we could not read exactly.
 */
export function parseSubjectAltName(text: string | undefined): AltName[] {
  if (!text) return [];
  const tokens: string[] = [];
  let current = '';
  let offset = 0;
  while (offset < text.length) {
    const nextSep = text.indexOf(',', offset);
    const nextQuote = text.indexOf('"', offset);
    if (nextQuote !== -1 && (nextSep === -1 || nextQuote < nextSep)) {
      current += text.slice(offset, nextQuote);
      const m = JSON_STRING.exec(text.slice(nextQuote));
      if (!m) return [];
      current += JSON.parse(m[0]) as string;
      offset = nextQuote + m[0].length;
    } else if (nextSep !== -1) {
      current += text.slice(offset, nextSep);
      tokens.push(current);
      current = '';
      offset = nextSep + 1;
      if (text[offset] === ' ') offset++; // Node separates with ", "
    } else {
      current += text.slice(offset);
      offset = text.length;
    }
  }
  tokens.push(current);
  const out: AltName[] = [];
  for (const t of tokens) {
    const i = t.indexOf(':');
    if (i > 0) out.push({ type: t.slice(0, i), value: t.slice(i + 1) });
  }
  return out;
}

/** The MAC a URI carries in its last component: `urn:dev:mac:c81fea83e85a`, `https://h/devices/c8-1f-ea-83-e8-5a`. */
function macFromUri(uri: string): string | undefined {
  // A colon-separated MAC at the end of a URN would be cut apart by the ':' split below,
  // so try the final 17 characters first when they are delimited.
  if (uri.length > 17 && /[:/]/.test(uri[uri.length - 18] ?? '')) {
    const tail = normalizeMac(uri.slice(-17));
    if (tail) return tail;
  }
  const last = uri.split(/[:/]/).pop() ?? '';
  return normalizeMac(last);
}

/**
 * The MACs a certificate names, from these places and only these (each value must be a
 * MAC in a notation normalizeMac accepts; substrings of longer names are NOT searched,
 * because `deadbeefcafe.example.com` is a host name, not an identity claim):
 *
 * | where                       | accepted form                                  | example                              |
 * |-----------------------------|------------------------------------------------|--------------------------------------|
 * | subject CN (every CN)       | the whole value                                | `CN=C8:1F:EA:83:E8:5A` (Avaya DES)   |
 * | SAN `DNS:`                  | the whole value                                | `DNS:c81fea83e85a`                   |
 * | SAN `URI:`                  | the last `:`/`/` component, or a trailing      | `URI:urn:dev:mac:c81fea83e85a`       |
 * |                             | colon/dash-separated MAC                       | (RFC 9039 device URN)                |
 * | SAN `othername:<Type>:`     | the whole value, where Node can print it as    | `othername:UPN:c81fea83e85a`         |
 * |                             | text (UPN, SRVName, XmppAddr, NAIRealm,        |                                      |
 * |                             | SmtpUTF8Mailbox)                               |                                      |
 *
 * Not read: `email:` (names a person), `IP Address:`, `DirName:`, and any otherName that
 * Node prints as `othername:<unsupported>` (its value is not available as text).
 */
export function macsInCertificate(subjectCn: string | readonly string[] | undefined, subjectAltName: string | undefined): Set<string> {
  const found = new Set<string>();
  const add = (m: string | undefined): void => {
    if (m) found.add(m);
  };
  const cns = subjectCn === undefined ? [] : typeof subjectCn === 'string' ? [subjectCn] : subjectCn;
  for (const cn of cns) add(normalizeMac(cn.trim()));
  for (const alt of parseSubjectAltName(subjectAltName)) {
    if (alt.type === 'DNS') add(normalizeMac(alt.value));
    else if (alt.type === 'URI') add(macFromUri(alt.value));
    else if (alt.type === 'othername') {
      const i = alt.value.indexOf(':');
      if (i > 0) add(normalizeMac(alt.value.slice(i + 1)));
    }
  }
  return found;
}

/**
 * The device MAC a client certificate identifies, canonical (12 lowercase hex), or
 * undefined when the certificate is absent, names no MAC, or names several different MACs
 * (an ambiguous certificate is no identity at all: we must never pick one of two claims).
 * Node returns `{}` from getPeerCertificate() when no certificate was sent; that is "absent".
 */
export function macFromPeerCertificate(cert: PeerCertificate | DetailedPeerCertificate | undefined | null): string | undefined {
  if (!cert || typeof cert !== 'object') return undefined;
  // The typings say `subject` is always there, but Node gives `{}` for "no certificate".
  const subject = (cert as Partial<PeerCertificate>).subject;
  const macs = macsInCertificate(subject?.CN, (cert as Partial<PeerCertificate>).subjectaltname);
  return macs.size === 1 ? [...macs][0] : undefined;
}

/** What the HTTP edge knows about the client certificate on one connection. */
export interface PresentedClientCert {
  /** The connection is TLS and the client sent a certificate (trusted or not). */
  presented: boolean;
  /** The certificate chains to the configured client CA (Node's `socket.authorized`). */
  authorized: boolean;
  /** OpenSSL's reason when not authorized, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`; for logs. */
  authorizationError?: string;
  /** The device MAC in the certificate, when exactly one is named. Set even when unauthorized (for logs); decideClientCert ignores it then. */
  mac?: string;
}

/**
 * Read the client certificate from a request's socket (in Koa: `ctx.req.socket`). A plain
 * HTTP socket, or a TLS socket whose client sent nothing, reads as not presented.
 */
export function clientCertFromSocket(socket: unknown): PresentedClientCert {
  if (!(socket instanceof TLSSocket)) return { presented: false, authorized: false };
  const peer = socket.getPeerCertificate();
  const presented = !!peer && Object.keys(peer).length > 0;
  if (!presented) return { presented: false, authorized: false };
  const out: PresentedClientCert = { presented: true, authorized: socket.authorized === true };
  if (socket.authorizationError) out.authorizationError = String(socket.authorizationError);
  const mac = macFromPeerCertificate(peer);
  if (mac) out.mac = mac;
  return out;
}

/** Per site: is a client certificate ignored, used when present, or demanded. */
export type ClientCertRequirement = 'none' | 'optional' | 'required';

export type ClientCertDecision =
  | { ok: true; mac?: string }
  // 403, not nginx's non-standard 495: phones treat any 4xx as "no file", and 403 is what
  // every proxy, log tool and admin already reads as "not allowed".
  | { ok: false; status: 403; event: ClientCertEvent };

export type ClientCertEvent = 'client_cert_required' | 'client_cert_no_mac' | 'client_cert_mac_mismatch';

/**
 * Whether a request may proceed, given the site's requirement, the certificate on the
 * connection, and the MAC whose files the request asks for (undefined for files every
 * device shares, such as `46xxsettings.txt`; the all-zero Poly MAC counts as undefined).
 *
 * "trusted" = `authorized` (chains to the configured client CA); "Y" = the cert's MAC.
 *
 * | requirement | cert                       | requested MAC | result                               |
 * |-------------|----------------------------|---------------|--------------------------------------|
 * | none        | anything                   | anything      | ok, no identity (cert ignored)       |
 * | optional    | none or untrusted          | anything      | ok, no identity (treated as none)    |
 * | optional    | trusted, no MAC            | anything      | ok, no identity                      |
 * | optional    | trusted, MAC Y             | none or Y     | ok, mac Y                            |
 * | optional    | trusted, MAC Y             | X != Y        | 403 client_cert_mac_mismatch         |
 * | required    | none or untrusted          | anything      | 403 client_cert_required             |
 * | required    | trusted, no MAC            | none          | ok, no identity (CA vouches; shared  |
 * |             |                            |               | files name no device)                |
 * | required    | trusted, no MAC            | X             | 403 client_cert_no_mac (cannot prove |
 * |             |                            |               | it is X)                             |
 * | required    | trusted, MAC Y             | none or Y     | ok, mac Y                            |
 * | required    | trusted, MAC Y             | X != Y        | 403 client_cert_mac_mismatch         |
 *
 * Why a mismatch is refused even when certificates are optional: a trusted certificate
 * is a claim we have verified, and a device that proves it is Y asking for X's files
 * (SIP credentials live there) is exactly what mutual TLS exists to stop.
 */
export function decideClientCert(
  req: ClientCertRequirement,
  presented: { authorized: boolean; mac?: string },
  requestedMac: string | undefined,
): ClientCertDecision {
  if (req === 'none') return { ok: true };
  const wanted = requestedMac === undefined ? undefined : canonical(requestedMac);
  const asked = wanted === ZERO_MAC ? undefined : wanted;
  // An untrusted certificate's contents are attacker-chosen text: never an identity.
  const mac = presented.authorized && presented.mac !== undefined ? canonical(presented.mac) : undefined;
  if (!presented.authorized) return req === 'required' ? { ok: false, status: 403, event: 'client_cert_required' } : { ok: true };
  if (mac === undefined) {
    if (req === 'required' && asked !== undefined) return { ok: false, status: 403, event: 'client_cert_no_mac' };
    return { ok: true };
  }
  if (asked !== undefined && asked !== mac) return { ok: false, status: 403, event: 'client_cert_mac_mismatch' };
  return { ok: true, mac };
}

function canonical(mac: string): string {
  return normalizeMac(mac) ?? mac.toLowerCase();
}
