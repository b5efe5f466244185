import { describe, it, expect } from 'vitest';
import type { PeerCertificate } from 'node:tls';
import {
  clientCertFromSocket,
  decideClientCert,
  macFromPeerCertificate,
  parseSubjectAltName,
  type ClientCertDecision,
  type ClientCertRequirement,
} from '../src/security/client-cert.js';

// Tables over plain values, in the shapes Node produces (getPeerCertificate() objects and its
// escaped subjectaltname text); the same functions run against real sockets in tls-e2e.

const peer = (subject: Record<string, string | string[]>, subjectaltname?: string): PeerCertificate =>
  ({ subject, ...(subjectaltname !== undefined ? { subjectaltname } : {}) }) as unknown as PeerCertificate;

describe('parseSubjectAltName', () => {
  it.each([
    ['DNS:a.example, DNS:b.example', [['DNS', 'a.example'], ['DNS', 'b.example']]],
    ['IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1', [['IP Address', '127.0.0.1'], ['IP Address', '0:0:0:0:0:0:0:1']]],
    // Node JSON-quotes values holding a comma, so the separator cannot be forged.
    ['DNS:"a\\u002c DNS:evil", URI:urn:x', [['DNS', 'a, DNS:evil'], ['URI', 'urn:x']]],
    ['othername:UPN:c81fea83e85a@corp, othername:<unsupported>', [['othername', 'UPN:c81fea83e85a@corp'], ['othername', '<unsupported>']]],
    ['', []],
  ])('%s', (text, want) => {
    expect(parseSubjectAltName(text).map((a) => [a.type, a.value])).toEqual(want);
  });

  it('reads nothing from malformed quoting rather than guessing', () => {
    expect(parseSubjectAltName('DNS:"unterminated, DNS:c81fea83e85a')).toEqual([]);
  });
});

describe('macFromPeerCertificate', () => {
  it.each<[string, PeerCertificate | undefined, string | undefined]>([
    ['no certificate', undefined, undefined],
    ["Node's {} for none sent", {} as PeerCertificate, undefined],
    ['Avaya CN, bare', peer({ CN: 'C81FEA83E85A', OU: 'Devices SV', O: 'Avaya India Private Limited' }), 'c81fea83e85a'],
    ['CN, colons', peer({ CN: 'c8:1f:ea:83:e8:5a' }), 'c81fea83e85a'],
    ['CN, dashes', peer({ CN: 'C8-1F-EA-83-E8-5A' }), 'c81fea83e85a'],
    ['CN, Cisco dotted', peer({ CN: 'c81f.ea83.e85a' }), 'c81fea83e85a'],
    ['CN not a MAC', peer({ CN: 'phone.example.com' }), undefined],
    ['MAC inside a longer CN is not an identity', peer({ CN: 'SEPc81fea83e85a' }), undefined],
    ['SAN DNS', peer({ CN: 'phone' }, 'DNS:c8-1f-ea-83-e8-5a'), 'c81fea83e85a'],
    ['SAN DNS as a longer host name is not an identity', peer({ CN: 'phone' }, 'DNS:c81fea83e85a.phones.example.com'), undefined],
    ['SAN URI, RFC 9039 device URN', peer({ CN: 'phone' }, 'URI:urn:dev:mac:c81fea83e85a'), 'c81fea83e85a'],
    ['SAN URI, URN ending in a colon MAC', peer({ CN: 'phone' }, 'URI:urn:example:mac:c8:1f:ea:83:e8:5a'), 'c81fea83e85a'],
    ['SAN URI, path segment', peer({ CN: 'phone' }, 'URI:https://pki.example.com/devices/C81FEA83E85A'), 'c81fea83e85a'],
    ['SAN otherName printed as text', peer({ CN: 'phone' }, 'othername:UPN:c81fea83e85a'), 'c81fea83e85a'],
    ['SAN email is a person, not a device', peer({ CN: 'phone' }, 'email:c81fea83e85a@example.com'), undefined],
    ['CN and SAN agree', peer({ CN: 'c81fea83e85a' }, 'DNS:c8:1f:ea:83:e8:5a, URI:urn:dev:mac:c81fea83e85a'), 'c81fea83e85a'],
    ['CN and SAN disagree: ambiguous', peer({ CN: 'c81fea83e85a' }, 'DNS:001122334455'), undefined],
    ['two CNs disagree: ambiguous', peer({ CN: ['c81fea83e85a', '001122334455'] }), undefined],
    ['quoted SAN cannot smuggle a second MAC', peer({ CN: 'c81fea83e85a' }, 'DNS:"x\\u002c DNS:001122334455"'), 'c81fea83e85a'],
  ])('%s', (_name, cert, want) => {
    expect(macFromPeerCertificate(cert)).toBe(want);
  });
});

describe('decideClientCert', () => {
  const X = 'c81fea83e85a';
  const Y = '001122334455';
  const none = { authorized: false };
  const untrustedY = { authorized: false, mac: Y };
  const trustedNoMac = { authorized: true };
  const trustedY = { authorized: true, mac: Y };
  const ok = (mac?: string): ClientCertDecision => (mac ? { ok: true, mac } : { ok: true });
  const deny = (event: string): ClientCertDecision => ({ ok: false, status: 403, event }) as ClientCertDecision;

  // The table in the decideClientCert comment, row for row.
  it.each<[ClientCertRequirement, { authorized: boolean; mac?: string }, string | undefined, ClientCertDecision]>([
    ['none', none, X, ok()],
    ['none', trustedY, X, ok()], // ignored entirely, even a mismatch
    ['none', untrustedY, undefined, ok()],
    ['optional', none, X, ok()],
    ['optional', none, undefined, ok()],
    ['optional', untrustedY, X, ok()], // untrusted = none: its MAC is not an identity
    ['optional', untrustedY, Y, ok()],
    ['optional', trustedNoMac, X, ok()],
    ['optional', trustedY, undefined, ok(Y)],
    ['optional', trustedY, Y, ok(Y)],
    ['optional', trustedY, X, deny('client_cert_mac_mismatch')],
    ['required', none, undefined, deny('client_cert_required')],
    ['required', none, X, deny('client_cert_required')],
    ['required', untrustedY, Y, deny('client_cert_required')],
    ['required', trustedNoMac, undefined, ok()],
    ['required', trustedNoMac, X, deny('client_cert_no_mac')],
    ['required', trustedY, undefined, ok(Y)],
    ['required', trustedY, Y, ok(Y)],
    ['required', trustedY, X, deny('client_cert_mac_mismatch')],
  ])('%s, cert %j, asking %s', (req, presented, asked, want) => {
    expect(decideClientCert(req, presented, asked)).toEqual(want);
  });

  it('compares MACs in any notation', () => {
    expect(decideClientCert('required', { authorized: true, mac: 'C8:1F:EA:83:E8:5A' }, 'c8-1f-ea-83-e8-5a')).toEqual(ok(X));
  });

  it("treats Poly's all-zero MAC as a shared file, not another device's", () => {
    expect(decideClientCert('required', trustedY, '000000000000')).toEqual(ok(Y));
    expect(decideClientCert('required', trustedNoMac, '000000000000')).toEqual(ok());
  });
});

describe('clientCertFromSocket', () => {
  it('reads a plain (non-TLS) socket as no certificate', () => {
    expect(clientCertFromSocket({})).toEqual({ presented: false, authorized: false });
    expect(clientCertFromSocket(undefined)).toEqual({ presented: false, authorized: false });
  });
});
