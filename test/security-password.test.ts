import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CredentialVerifier,
  credentialCost,
  describeDefaultCredential,
  hashPassword,
  isKnownDefaultCredential,
  isPasswordHash,
  parseScryptHash,
  SCRYPT_N,
  secretEquals,
  verifyCredential,
  verifyPassword,
} from '../src/security/password.js';

describe('hashPassword / verifyPassword', () => {
  it('produces scrypt$N$r$p$salt$hash with the documented cost', async () => {
    const h = await hashPassword('correct horse');
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    const p = parseScryptHash(h)!;
    expect(p.N).toBe(SCRYPT_N);
    expect(p.salt.length).toBe(16);
    expect(p.hash.length).toBe(32);
    expect(isPasswordHash(h)).toBe(true);
  });

  it('verifies the right password and rejects others', async () => {
    const h = await hashPassword('s3cret-ü');
    expect(await verifyPassword('s3cret-ü', h)).toBe(true);
    expect(await verifyPassword('s3cret-u', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
    // NFC and NFD spellings of the same text are one password.
    expect(await verifyPassword('s3cret-u\u0308', h)).toBe(true);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('x'), hashPassword('x')]);
    expect(a).not.toBe(b);
  });

  it.each([
    ['plain text', 'PlcmSpIp'],
    ['empty', ''],
    ['wrong scheme', 'bcrypt$2b$10$abc'],
    ['too few parts', 'scrypt$16384$8$1$c2FsdHNhbHQ='],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(44)],
    ['N too large (memory bomb)', 'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(44)],
    ['r too large', 'scrypt$16384$4096$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(44)],
    ['bad base64', 'scrypt$16384$8$1$!!!!$????'],
    ['hash too short', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$AAAA'],
    ['leading zero', 'scrypt$016384$8$1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(44)],
  ])('unknown format (%s) is false, never a throw', async (_what, stored) => {
    expect(parseScryptHash(stored)).toBeUndefined();
    await expect(verifyPassword('PlcmSpIp', stored)).resolves.toBe(false);
  });

  it('does not throw on non-string input', async () => {
    await expect(verifyPassword(undefined as unknown as string, 'x')).resolves.toBe(false);
    await expect(verifyPassword('x', null as unknown as string)).resolves.toBe(false);
  });

  it('refuses absurdly long passwords without hashing them', async () => {
    const h = await hashPassword('a');
    await expect(verifyPassword('a'.repeat(5000), h)).resolves.toBe(false);
    await expect(hashPassword('a'.repeat(5000))).rejects.toThrow(RangeError);
  });
});

describe('verifyCredential', () => {
  it('accepts a plain value only when it is marked as a resolved secret', async () => {
    expect(await verifyCredential('hunter2', { kind: 'secret', value: 'hunter2' })).toBe(true);
    expect(await verifyCredential('hunter3', { kind: 'secret', value: 'hunter2' })).toBe(false);
    // The same plain value as a "hash" is not a credential.
    expect(await verifyCredential('hunter2', { kind: 'hash', value: 'hunter2' })).toBe(false);
  });

  it('checks hashes', async () => {
    const h = await hashPassword('pw');
    expect(await verifyCredential('pw', { kind: 'hash', value: h })).toBe(true);
    expect(await verifyCredential('pw2', { kind: 'hash', value: h })).toBe(false);
  });

  it('never matches an empty secret', async () => {
    expect(await verifyCredential('', { kind: 'secret', value: '' })).toBe(false);
    expect(secretEquals('', '')).toBe(false);
  });

  it('compares secrets of different lengths without throwing', () => {
    expect(secretEquals('a', 'a much longer secret')).toBe(false);
    expect(secretEquals('a much longer secret', 'a')).toBe(false);
  });

  it('an unknown user costs a real scrypt and is false', async () => {
    await verifyCredential('warm-up', undefined); // computes the dummy hash once
    const t0 = performance.now();
    expect(await verifyCredential('anything', undefined)).toBe(false);
    // One scrypt at N=2^15 takes tens of ms; a short-circuit would take microseconds.
    expect(performance.now() - t0).toBeGreaterThan(5);
  });

  it('unknown kinds are false', async () => {
    expect(await verifyCredential('x', { kind: 'plain', value: 'x' } as unknown as { kind: 'secret'; value: string })).toBe(false);
  });
});

describe('CredentialVerifier', () => {
  it('caches successes until the TTL, never failures', async () => {
    let now = 1_000;
    const v = new CredentialVerifier({ ttlMs: 60_000, now: () => now });
    const h = await hashPassword('pw');
    expect(await v.verify('nope', { kind: 'hash', value: h })).toBe(false);
    expect(v.size).toBe(0);
    expect(await v.verify('pw', { kind: 'hash', value: h })).toBe(true);
    expect(v.size).toBe(1);
    const t0 = performance.now();
    expect(await v.verify('pw', { kind: 'hash', value: h })).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5);
    // A different stored value (password rotated) misses.
    const h2 = await hashPassword('pw2');
    expect(await v.verify('pw', { kind: 'hash', value: h2 })).toBe(false);
    now += 60_001;
    expect(await v.verify('pw', { kind: 'hash', value: h })).toBe(true); // recomputed, still right
  });

  it('stays within maxEntries', async () => {
    const v = new CredentialVerifier({ maxEntries: 2 });
    for (const s of ['a1', 'a2', 'a3', 'a4']) expect(await v.verify(s, { kind: 'secret', value: s })).toBe(true);
    expect(v.size).toBe(2);
  });
});

describe('known vendor defaults', () => {
  it.each([
    ['PlcmSpIp', 'PlcmSpIp', true],
    ['plcmspip', 'PlcmSpIp', true],
    ['Polycom', '456', true],
    [undefined, '456', true],
    ['admin', 'admin', true],
    ['admin', 'Admin', false],
    ['PlcmSpIp', 'something-else', false],
    ['alice', 'admin', false],
  ] as const)('%s / %s -> %s', (user, pass, expected) => {
    expect(isKnownDefaultCredential(user, pass)).toBe(expected);
  });

  it('says which default it is', () => {
    expect(describeDefaultCredential('PlcmSpIp', 'PlcmSpIp')).toMatch(/Poly/);
    expect(describeDefaultCredential('admin', 'admin')).toMatch(/Yealink/);
  });

  it('counts every full check by cost, and cache hits not at all', async () => {
    const v = new CredentialVerifier();
    const h = await hashPassword('pw');
    const cost = credentialCost({ kind: 'hash', value: h });
    expect(cost).toBe('scrypt:32768:8:1:32');
    await v.verify('pw', { kind: 'hash', value: h });
    await v.verify('pw', { kind: 'hash', value: h }); // cached
    await v.verify('nope', { kind: 'hash', value: h });
    await v.verify('s', { kind: 'secret', value: 's' });
    expect(Object.fromEntries(v.checks)).toEqual({ [cost]: 2, secret: 1 });
  });

  it('a decoy is one check of the same kind and cost as the credential it mirrors, and never matches', async () => {
    const v = new CredentialVerifier();
    const salt = Buffer.alloc(16, 7);
    const cheap = `scrypt$1024$4$1$${salt.toString('base64')}$${scryptSync('pw', salt, 24, { N: 1024, r: 4, p: 1 }).toString('base64')}`;
    expect(await v.decoy('pw', { kind: 'hash', value: cheap })).toBe(false);
    expect(await v.decoy('', { kind: 'hash', value: cheap })).toBe(false);
    expect(await v.decoy('pw', { kind: 'secret', value: 'pw' })).toBe(false);
    expect(await v.decoy('pw')).toBe(false); // nothing to mirror: the default cost
    expect(Object.fromEntries(v.checks)).toEqual({ 'scrypt:1024:4:1:24': 2, secret: 1, 'scrypt:32768:8:1:32': 1 });
    // Over-long input is refused without work, as a real check refuses it.
    expect(await v.decoy('x'.repeat(2000), { kind: 'secret', value: 'pw' })).toBe(false);
    expect(v.checks.get('secret')).toBe(1);
  });
});
