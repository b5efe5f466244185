// Who is calling: HTTP Basic (admin.users in deskset.yaml) or a Bearer API token (issued by
// `deskset admin token issue`, stored hashed). Pure parsing and the lockout rule live here;
// the credential check itself is security/password.ts.

import crypto from 'node:crypto';
import type { AdminRole } from '../config/root-config.js';

export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'bad'; why: string };

/** Longer headers are refused before any parsing or hashing. */
const MAX_AUTH_HEADER = 4096;

/** RFC 7617 (Basic) and RFC 6750 (Bearer); scheme names are case-insensitive (RFC 9110 §11.1). */
export function parseAuthorization(header: string | undefined): Credentials {
  if (header === undefined || header === '') return { kind: 'none' };
  if (header.length > MAX_AUTH_HEADER) return { kind: 'bad', why: 'Authorization header too long' };
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (!m) return { kind: 'bad', why: 'Authorization header is not "<scheme> <credentials>"' };
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return { kind: 'bearer', token: m[2]! };
  if (scheme !== 'basic') return { kind: 'bad', why: `unsupported scheme "${m[1]}" (Basic or Bearer)` };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(m[2]!)) return { kind: 'bad', why: 'Basic credentials are not base64' };
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return { kind: 'bad', why: 'Basic credentials are not "user:password"' };
  return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** API tokens: a recognisable prefix (secret scanners find leaked ones) and 256 random bits. */
export const API_TOKEN_PREFIX = 'dsk_';

export function newApiToken(): string {
  return API_TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
}

/** What the store keeps of a token: its SHA-256. A 256-bit random token needs no slow hash. */
export function hashApiToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export function looksLikeApiToken(token: string): boolean {
  return token.length === API_TOKEN_PREFIX.length + 43 && token.startsWith(API_TOKEN_PREFIX) && /^[A-Za-z0-9_-]+$/.test(token.slice(API_TOKEN_PREFIX.length));
}

/** The caller, once authenticated. `name` is what the audit log says: a user name or `token:<id>`. */
export interface Principal {
  name: string;
  role: AdminRole;
  via: 'basic' | 'token';
}

export const ROLE_RANK: Record<AdminRole, number> = { viewer: 1, admin: 2 };

export function mayAct(p: Principal, needs: AdminRole): boolean {
  return ROLE_RANK[p.role] >= ROLE_RANK[needs];
}

/**
 * The lockout key: source address AND user name, so a guesser locks only itself out of that
 * user, and the real user keeps working from their own address (as IP Office's manager does).
 */
export function lockoutKey(ip: string, user: string): string {
  return `${ip}\u0000${user}`;
}
