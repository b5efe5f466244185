// Test certificates made with selfsigned (node-forge): a CA, server leaves, device leaves
// with CN=<mac>. Nothing here is trusted by anything outside the test that made it.

import { generate } from 'selfsigned';

export const DAY = 24 * 60 * 60 * 1000;

export interface Pair {
  cert: string;
  key: string;
}

export async function makeCa(cn: string): Promise<Pair> {
  const p = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - DAY),
    notAfterDate: new Date(Date.now() + 3650 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

export interface LeafOptions {
  usage: 'server' | 'client';
  /** DNS names; IP addresses go in `ips`. */
  dns?: string[];
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

export async function makeLeaf(cn: string, ca: Pair | undefined, o: LeafOptions): Promise<Pair> {
  const altNames = [...(o.dns ?? []).map((value) => ({ type: 2 as const, value })), ...(o.ips ?? []).map((ip) => ({ type: 7 as const, ip }))];
  const p = await generate([{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'deskset qa' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: o.notBefore ?? new Date(Date.now() - DAY),
    notAfterDate: o.notAfter ?? new Date(Date.now() + 365 * DAY),
    ...(ca ? { ca } : {}),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      o.usage === 'server' ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true },
      ...(altNames.length ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
  });
  return { cert: p.cert, key: p.private };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`. */
export function makeServerCert(ca: Pair, o: Partial<LeafOptions> = {}, cn = 'localhost'): Promise<Pair> {
  return makeLeaf(cn, ca, { usage: 'server', dns: ['localhost'], ips: ['127.0.0.1'], ...o });
}
