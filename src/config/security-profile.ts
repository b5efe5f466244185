// Who may fetch a device's files, from its merged layers: `auth` (HTTP Basic credentials,
// settable globally, per site, group or device) and `access` (CIDR allow-list, client
// certificate requirement). Computed once per device per snapshot.

import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';
import { findPath, type EMap, type LayerKind } from './merge.js';
import { toPlain } from './yaml-tree.js';
import { IpAllowList } from './ip-allow.js';

export type CertRequirement = 'none' | 'optional' | 'required';

export interface AuthPolicy {
  user?: string;
  /** A scrypt hash, or a secret resolved from a reference (never a plaintext from git). */
  credential: { kind: 'hash' | 'secret'; value: string };
  /** The layer that set the password: `device` credentials are scoped to that device. */
  level: LayerKind;
  loc: SourceLoc;
}

export interface SecurityPolicy {
  auth?: AuthPolicy;
  allow?: string[];
  allowLoc?: SourceLoc;
  clientCert: CertRequirement;
}

const SCRYPT = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

/**
 * Read the policy from an effective tree. A password that is neither a scrypt hash nor one of those is a plaintext from the profile,
 * reported (and unusable) rather than silently accepted.
 */
export function securityPolicy(effective: EMap): { policy: SecurityPolicy; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const leaf = (p: string) => {
    const f = findPath(effective, p);
    return f?.node.kind === 'leaf' ? { value: toPlain(f.node.node), origin: f.node.origin, fromRef: f.node.node.kind === 'scalar' && f.node.node.fromRef === true } : undefined;
  };
  const policy: SecurityPolicy = { clientCert: (leaf('access.client_cert')?.value as CertRequirement | undefined) ?? 'none' };
  const allow = leaf('access.allow');
  if (allow) {
    const list = (Array.isArray(allow.value) ? allow.value : [allow.value]).map(String);
    try {
      new IpAllowList(list);
      policy.allow = list;
      policy.allowLoc = allow.origin.valueLoc;
    } catch (e) {
      // An unusable allow-list must not fail open: refuse everyone and report it.
      policy.allow = [];
      diagnostics.push({ code: 'ACCESS_CIDR', severity: 'error', message: `access.allow: ${(e as Error).message}`, loc: allow.origin.valueLoc });
    }
  }
  const pw = leaf('auth.password');
  if (pw) {
    const value = String(pw.value);
    // Only a value that was itself written as ${env:…}/${file:…} is a secret; a plaintext that
    // happens to equal some other secret is still a plaintext.
    const kind = SCRYPT.test(value) ? 'hash' : pw.fromRef ? 'secret' : undefined;
    if (!kind) {
      diagnostics.push({
        code: 'AUTH_PLAINTEXT',
        severity: 'error',
        message: 'auth.password must be a scrypt hash (deskset hash-password) or a ${env:…}/${file:…} reference, never a plaintext password',
        loc: pw.origin.valueLoc,
      });
    } else {
      const user = leaf('auth.user');
      policy.auth = { user: user === undefined ? undefined : String(user.value), credential: { kind, value }, level: pw.origin.layer.kind, loc: pw.origin.valueLoc };
    }
  }
  return { policy, diagnostics };
}
