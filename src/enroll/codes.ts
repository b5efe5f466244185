// Activation and enrollment codes, as values: how they are made, typed, stored and aged.
// Pure, except for the CSPRNG. Seeds 004 (Cisco activation codes: 16 digits, single use,
// 168 hours by default) and 000 (Avaya DES enrollment codes: 8 or 12 digits, a device cap,
// an expiry such as 72 hours, 90 days, 12 weeks, 3 months or never).

import crypto from 'node:crypto';

export type CodeKind = 'activation' | 'enrollment';

/** Activation codes are Cisco's 16 digits; enrollment codes DES's 8 or 12. */
export const ACTIVATION_DIGITS = 16;
export const ENROLLMENT_DIGITS = [8, 12] as const;
/** Cisco's default lifetime of an activation code. */
export const DEFAULT_ACTIVATION_TTL_HOURS = 168;

/** `digits` random decimal digits from the CSPRNG, without modulo bias. */
export function newCode(digits: number): string {
  let out = '';
  while (out.length < digits) {
    for (const b of crypto.randomBytes(digits)) {
      // 250 is the largest multiple of 10 below 256: bytes above it would favour 0–5.
      if (b < 250 && out.length < digits) out += String(b % 10);
    }
  }
  return out;
}

/**
 * What a person typed, as the code it may be: digits only, with spaces and dashes (codes are
 * printed in groups of four) taken out. Undefined for anything else, so a password that is
 * not a code is never looked up.
 */
export function normalizeCode(typed: string): string | undefined {
  const digits = typed.replace(/[\s-]/g, '');
  return /^\d{8,16}$/.test(digits) ? digits : undefined;
}

/** `1234-5678-9012-3456`: how a code is printed for a person to read out and type. */
export function formatCode(code: string): string {
  return code.replace(/(\d{4})(?=\d)/g, '$1-');
}

/**
 * How a code is stored: its SHA-256. The code itself is printed once and never kept; a code
 * is 8–16 random digits and single-use or capped, and lookups must be one indexed read.
 */
export function codeHash(code: string): string {
  return crypto.createHash('sha256').update(`deskset-code:${code}`, 'utf8').digest('hex');
}

/** A public id for lists and audit lines (never the code): short, random, unrelated to it. */
export function newCodeId(): string {
  return crypto.randomBytes(5).toString('hex');
}

/** The last four digits, which `explain` and lists show (`…3456`) so a person can tell codes apart. */
export function codeTail(code: string): string {
  return code.slice(-4);
}

export type Lifetime = { ok: true; ms: number | null } | { ok: false; message: string };

const UNIT_MS: Record<string, number> = { h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * DES's expiry choices: `72h`, `90d`, `12w`, `3mo` or `never` (null: no expiry). Months are
 * calendar months, so they are added to a date (see expiresAt), not converted to ms here:
 * the result carries them as a negative count.
 */
export function parseLifetime(text: string): Lifetime {
  const t = text.trim().toLowerCase();
  if (t === 'never') return { ok: true, ms: null };
  const m = /^(\d{1,5})(h|d|w|mo)$/.exec(t);
  if (!m) return { ok: false, message: `"${text}" is not a lifetime: use e.g. 72h, 90d, 12w, 3mo or never` };
  const n = Number(m[1]);
  if (n === 0) return { ok: false, message: 'a lifetime must be longer than zero' };
  if (m[2] === 'mo') return n > 120 ? { ok: false, message: 'at most 120 months (use never for no expiry)' } : { ok: true, ms: -n };
  const ms = n * UNIT_MS[m[2]!]!;
  return ms > 10 * 365 * 86_400_000 ? { ok: false, message: 'at most ten years (use never for no expiry)' } : { ok: true, ms };
}

/** When a code issued at `issued` with lifetime `ms` (from parseLifetime) expires; null for never. */
export function expiresAt(issued: Date, ms: number | null): Date | null {
  if (ms === null) return null;
  if (ms > 0) return new Date(issued.getTime() + ms);
  const d = new Date(issued.getTime());
  d.setUTCMonth(d.getUTCMonth() - ms);
  return d;
}

/** The states a code or a bound device is in, as `deskset devices`, `codes list` and the API show them. */
export type CodeState = 'code-issued' | 'enrolled' | 'expired' | 'released' | 'exhausted';

export interface CodeFacts {
  kind: CodeKind;
  expiresAt: string | null;
  releasedAt?: string | null;
  used: number;
  maxDevices: number | null;
}

export function codeState(c: CodeFacts, now: Date): CodeState {
  if (c.releasedAt) return 'released';
  if (c.expiresAt !== null && Date.parse(c.expiresAt) <= now.getTime()) return 'expired';
  if (c.kind === 'activation') return c.used > 0 ? 'enrolled' : 'code-issued';
  if (c.maxDevices !== null && c.used >= c.maxDevices) return 'exhausted';
  return 'code-issued';
}
