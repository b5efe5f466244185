// Codes as values: made from the CSPRNG, typed with spaces or dashes, stored as digests, aged
// by DES's lifetimes.

import { describe, expect, it } from 'vitest';
import { codeHash, codeState, codeTail, expiresAt, formatCode, newCode, normalizeCode, parseLifetime } from '../src/enroll/codes.js';

describe('newCode', () => {
  it('gives exactly the digits asked for, and different codes each time', () => {
    for (const n of [8, 12, 16]) expect(newCode(n)).toMatch(new RegExp(`^\\d{${n}}$`));
    const seen = new Set(Array.from({ length: 200 }, () => newCode(16)));
    expect(seen.size).toBe(200);
  });

  it('uses every digit about equally (no modulo bias toward 0–5)', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 2000; i++) for (const c of newCode(16)) counts[Number(c)]++;
    // 32,000 digits: each expected 3,200; a biased generator puts 0–5 near 3,390 and 6–9 near 2,910.
    for (const c of counts) expect(Math.abs(c - 3200)).toBeLessThan(250);
  });
});

describe('normalizeCode', () => {
  it.each([
    ['1234567812345678', '1234567812345678'],
    ['1234-5678-1234-5678', '1234567812345678'],
    [' 1234 5678 ', '12345678'],
    ['123456789012', '123456789012'],
    ['1234567', undefined], // too short to be any code
    ['12345678901234567', undefined], // too long
    ['1234abcd', undefined],
    ['hunter2', undefined],
    ['', undefined],
    ['１２３４５６７８', undefined], // full-width digits are not typed on a phone keypad
  ])('%j → %j', (typed, expected) => {
    expect(normalizeCode(typed)).toBe(expected);
  });
});

describe('formatting and storing', () => {
  it('prints in groups of four and keeps only a digest and the last four digits', () => {
    expect(formatCode('1234567812345678')).toBe('1234-5678-1234-5678');
    expect(formatCode('12345678')).toBe('1234-5678');
    expect(codeTail('1234567812349876')).toBe('9876');
    const h = codeHash('1234567812345678');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain('12345678');
    expect(codeHash('1234567812345678')).toBe(h);
    expect(codeHash('1234567812345679')).not.toBe(h);
  });
});

describe('parseLifetime and expiresAt', () => {
  const issued = new Date('2026-01-31T10:00:00Z');
  it.each([
    ['72h', '2026-02-03T10:00:00.000Z'],
    ['90d', '2026-05-01T10:00:00.000Z'],
    ['12w', '2026-04-25T10:00:00.000Z'],
    ['3mo', '2026-05-01T10:00:00.000Z'], // calendar months (Jan 31 + 3 months rolls into May)
    ['1mo', '2026-03-03T10:00:00.000Z'],
    ['168H', '2026-02-07T10:00:00.000Z'],
    ['never', null],
  ])('%s', (text, expected) => {
    const l = parseLifetime(text);
    expect(l.ok).toBe(true);
    if (!l.ok) return;
    expect(expiresAt(issued, l.ms)?.toISOString() ?? null).toBe(expected);
  });

  it.each(['', '0h', '-1d', '3 months', '1y', '12', 'forever', '999999d', '121mo'])('refuses %j with a message', (text) => {
    const l = parseLifetime(text);
    expect(l.ok).toBe(false);
    if (!l.ok) expect(l.message.length).toBeGreaterThan(10);
  });
});

describe('codeState', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  it.each([
    [{ kind: 'activation', expiresAt: '2026-07-01T00:00:00Z', used: 0, maxDevices: 1 }, 'code-issued'],
    [{ kind: 'activation', expiresAt: '2026-07-01T00:00:00Z', used: 1, maxDevices: 1 }, 'enrolled'],
    [{ kind: 'activation', expiresAt: '2026-05-01T00:00:00Z', used: 0, maxDevices: 1 }, 'expired'],
    [{ kind: 'enrollment', expiresAt: null, used: 4, maxDevices: 5 }, 'code-issued'],
    [{ kind: 'enrollment', expiresAt: null, used: 5, maxDevices: 5 }, 'exhausted'],
    [{ kind: 'enrollment', expiresAt: null, used: 500, maxDevices: null }, 'code-issued'],
    [{ kind: 'enrollment', expiresAt: null, used: 0, maxDevices: null, releasedAt: '2026-05-01T00:00:00Z' }, 'released'],
  ] as const)('%j → %s', (facts, state) => {
    expect(codeState(facts, now)).toBe(state);
  });
});
