// The stored form of a password, as configuration reads it: is this value an scrypt hash, and
// what are its parts. Pure (no crypto): deskset.yaml parsing and the verifier both use it.

// Bounds for parameters read back from a stored hash. The stored value comes from an admin's
// YAML, but a typo (or a hostile merge request) must not make one login allocate gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MIN_HASH_BYTES = 16;
const MAX_HASH_BYTES = 64;

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const INT = /^[1-9][0-9]{0,7}$/;

/** The parts of a stored scrypt hash, or undefined for anything else (never throws). */
export function parseScryptHash(stored: string): ParsedHash | undefined {
  if (typeof stored !== 'string' || stored.length > 512) return undefined;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  if (!INT.test(n) || !INT.test(r) || !INT.test(p) || !B64.test(salt) || !B64.test(hash)) return undefined;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  // N must be a power of two greater than 1 (scrypt's own rule).
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || R > MAX_R || P > MAX_P) return undefined;
  const saltBuf = Buffer.from(salt, 'base64');
  const hashBuf = Buffer.from(hash, 'base64');
  if (saltBuf.length < 8 || hashBuf.length < MIN_HASH_BYTES || hashBuf.length > MAX_HASH_BYTES) return undefined;
  return { N, r: R, p: P, salt: saltBuf, hash: hashBuf };
}

export function isPasswordHash(stored: string): boolean {
  return parseScryptHash(stored) !== undefined;
}

/**
 * What a password is checked against. A plain secret is accepted ONLY as `kind: 'secret'`,
 * which the config loader sets for values that came from a secret reference
 * (`${env:…}`/`${file:…}`, see config/secret-refs.ts). A plain password typed into a profile
 * is never a credential: the caller must not construct `secret` from it.
 */
export type StoredCredential = { kind: 'hash'; value: string } | { kind: 'secret'; value: string };
