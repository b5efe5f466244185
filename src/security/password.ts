// Passwords phones present (HTTP Basic) and the stored values we check them against.
//
// Stored form: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`, self-describing so the cost can be
// raised later without breaking existing hashes. scrypt because it is in node:crypto (no
// native add-on) and memory-hard, which is what makes a leaked profile repository expensive
// to brute-force.
//
// Cost: N=2^15, r=8, p=1 takes ~70 ms on one core of a small server and 32 MiB of memory.
// Phones repeat Basic credentials on every request, so callers should cache successes
// (`CredentialVerifier` below) rather than lower the cost.
//
// Nothing here throws on bad input: an unknown or corrupt stored value is "does not match".

import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { DEFAULT_CREDENTIALS } from '../vendors/registry.js';
import type { DefaultCredential } from '../vendors/contract.js';
import { isPasswordHash, parseScryptHash, type StoredCredential } from '../config/password-hash.js';

// What deskset.yaml parsing needs of a stored password lives in config/ (no I/O, no crypto).
export { isPasswordHash, parseScryptHash, type StoredCredential };

const scryptAsync = promisify(crypto.scrypt) as (password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

export const SCRYPT_N = 2 ** 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Longer "passwords" are refused before any hashing: Basic headers are capped at 4 KB anyway. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * OpenSSL needs 128*N*r*p for B plus 128*r*(N+2) for V; Node's default maxmem (32 MiB) is
 * exactly 128*N*r at N=2^15, r=8, so it fails by a few KB. Twice the V size covers both.
 */
function maxmemFor(N: number, r: number, p: number): number {
  return 256 * N * r + 256 * r * p + 1024 * 1024;
}

export async function hashPassword(plain: string): Promise<string> {
  if (typeof plain !== 'string') throw new TypeError('password must be a string');
  if (plain.length > MAX_PASSWORD_LENGTH) throw new RangeError(`password longer than ${MAX_PASSWORD_LENGTH} characters`);
  return hashWith(plain.normalize('NFC'), { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P, hashBytes: HASH_BYTES });
}


/** True when `plain` matches the scrypt hash `stored`. Unknown formats (including plain text) are false. */
export async function verifyPassword(plain: string, stored: string): Promise<boolean> {
  if (typeof plain !== 'string' || plain.length > MAX_PASSWORD_LENGTH) return false;
  const parsed = parseScryptHash(stored);
  if (!parsed) return false;
  try {
    const got = await scryptAsync(plain.normalize('NFC'), parsed.salt, parsed.hash.length, { N: parsed.N, r: parsed.r, p: parsed.p, maxmem: maxmemFor(parsed.N, parsed.r, parsed.p) });
    return crypto.timingSafeEqual(got, parsed.hash);
  } catch {
    return false;
  }
}


// A fixed hash with the default cost: checking against it when there is no credential makes
// "unknown user" take as long as "wrong password", so timing does not reveal which MACs exist.
let dummyHash: Promise<string> | undefined;

/**
 * Check `plain` against a stored credential. `undefined` (no such user/device) does the same
 * work as a real check and returns false. Never throws.
 */
export async function verifyCredential(plain: string, stored: StoredCredential | undefined): Promise<boolean> {
  if (typeof plain !== 'string' || plain.length > MAX_PASSWORD_LENGTH) return false;
  if (stored === undefined) {
    dummyHash ??= hashPassword('deskset: no such credential');
    await verifyPassword(plain, await dummyHash);
    return false;
  }
  if (stored.kind === 'hash') return verifyPassword(plain, stored.value);
  if (stored.kind === 'secret') return secretEquals(plain, stored.value);
  return false;
}

/**
 * Constant-time comparison of two secrets of any length: compare their SHA-256 digests,
 * which always have equal length, so neither the content nor the length leaks through timing.
 * An empty stored secret never matches (an unset-but-exported env var must not open the door).
 */
export function secretEquals(plain: string, secret: string): boolean {
  if (typeof plain !== 'string' || typeof secret !== 'string' || secret.length === 0) return false;
  const a = crypto.createHash('sha256').update(plain.normalize('NFC'), 'utf8').digest();
  const b = crypto.createHash('sha256').update(secret.normalize('NFC'), 'utf8').digest();
  return crypto.timingSafeEqual(a, b);
}

/** What checking a credential costs, as a key: `scrypt:N:r:p` (with hash length) or `secret`. */
export function credentialCost(stored: StoredCredential): string {
  if (stored.kind === 'secret') return 'secret';
  const p = parseScryptHash(stored.value);
  return p ? `scrypt:${p.N}:${p.r}:${p.p}:${p.hash.length}` : 'invalid';
}

/**
 * Caches SUCCESSFUL checks, because phones send Basic credentials with every request and a
 * Poly boot is a dozen requests: without a cache each one costs a full scrypt. Failures are
 * never cached, so guessing always pays full price. Keys are HMACs under a per-process random
 * key of (stored value, password), so the cache holds nothing that reveals a password and a
 * changed stored value (re-hash, rotated secret) misses at once.
 */
export class CredentialVerifier {
  /**
   * Full checks done (cache hits excluded), by credentialCost, decoys included: how the gate
   * shows that a refused guess costs the same work whichever MAC it names.
   */
  readonly checks = new Map<string, number>();
  private readonly key = crypto.randomBytes(32);
  private readonly hits = new Map<string, number>(); // key -> expiry (ms), oldest first
  private readonly decoys = new Map<string, Promise<StoredCredential>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: { maxEntries?: number; ttlMs?: number; now?: () => number } = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  async verify(plain: string, stored: StoredCredential | undefined): Promise<boolean> {
    if (stored === undefined) return this.decoy(plain);
    if (typeof plain !== 'string' || plain.length > MAX_PASSWORD_LENGTH) return false;
    const k = crypto.createHmac('sha256', this.key).update(`${stored.kind}\0${stored.value}\0${plain}`).digest('base64');
    const exp = this.hits.get(k);
    const t = this.now();
    if (exp !== undefined && exp > t) return true;
    if (exp !== undefined) this.hits.delete(k);
    const ok = await this.check(plain, stored);
    if (ok) {
      this.hits.delete(k);
      this.hits.set(k, t + this.ttlMs);
      while (this.hits.size > this.maxEntries) this.hits.delete(this.hits.keys().next().value as string);
    }
    return ok;
  }

  /**
   * Do the work of checking `plain` against a credential shaped like `like` (same kind, same
   * scrypt cost; the default cost when there is none), and say no. For "no such device" and
   * every other refusal that would otherwise skip the check and answer faster.
   */
  async decoy(plain: string, like?: StoredCredential): Promise<false> {
    if (typeof plain !== 'string' || plain.length > MAX_PASSWORD_LENGTH) return false;
    await this.check(plain, await this.decoyLike(like));
    return false;
  }

  get size(): number {
    return this.hits.size;
  }

  private check(plain: string, stored: StoredCredential): Promise<boolean> {
    const cost = credentialCost(stored);
    this.checks.set(cost, (this.checks.get(cost) ?? 0) + 1);
    return verifyCredential(plain, stored);
  }

  /** A credential no password matches, of the same kind and cost as `like`; made once per cost. */
  private decoyLike(like: StoredCredential | undefined): Promise<StoredCredential> {
    const cost = like ? credentialCost(like) : DEFAULT_COST;
    let d = this.decoys.get(cost);
    if (!d) this.decoys.set(cost, (d = makeDecoy(like)));
    return d;
  }
}

const DEFAULT_COST = `scrypt:${SCRYPT_N}:${SCRYPT_R}:${SCRYPT_P}:${HASH_BYTES}`;

async function makeDecoy(like: StoredCredential | undefined): Promise<StoredCredential> {
  const secret = crypto.randomBytes(24).toString('base64');
  if (like?.kind === 'secret') return { kind: 'secret', value: secret };
  const p = like ? parseScryptHash(like.value) : undefined;
  // A stored value that is no hash is refused without work, so its decoy is one too.
  if (like && !p) return { kind: 'hash', value: 'invalid' };
  return { kind: 'hash', value: await hashWith(secret, p ? { N: p.N, r: p.r, p: p.p, hashBytes: p.hash.length } : { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P, hashBytes: HASH_BYTES }) };
}

/** A scrypt hash of `plain` at the given cost. */
async function hashWith(plain: string, c: { N: number; r: number; p: number; hashBytes: number }): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const hash = await scryptAsync(plain, salt, c.hashBytes, { N: c.N, r: c.r, p: c.p, maxmem: maxmemFor(c.N, c.r, c.p) });
  return `scrypt$${c.N}$${c.r}$${c.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Factory defaults that ship on phones and in vendor guides, from every vendor's folder
 * (`defaultCredentials`); a profile that uses one is as good as no password (`deskset check`
 * warns). `user: undefined` matches any user name, for vendors whose admin login is a password alone.
 */
export const KNOWN_DEFAULT_CREDENTIALS: ReadonlyArray<DefaultCredential> = DEFAULT_CREDENTIALS;

/** Which vendor default `user`/`password` is, or undefined. User names compare case-insensitively. */
/** Every vendor default these credentials are, joined (admin/admin is several vendors' default). */
export function describeDefaultCredential(user: string | undefined, password: string): string | undefined {
  const found = KNOWN_DEFAULT_CREDENTIALS.filter((d) => d.password === password && (d.user === undefined || (user !== undefined && d.user.toLowerCase() === user.toLowerCase())));
  return found.length ? found.map((d) => d.what).join('; ') : undefined;
}

export function isKnownDefaultCredential(user: string | undefined, password: string): boolean {
  return describeDefaultCredential(user, password) !== undefined;
}
