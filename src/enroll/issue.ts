// What `codes issue` decides before anything is stored: the code's kind and target checked
// against the root (the placeholder, site and groups must exist), its lifetime, and the record
// to keep. Pure, apart from the CSPRNG that makes the code.

import type { ProfileSet } from '../config/profiles.js';
import { ACTIVATION_DIGITS, codeHash, codeTail, DEFAULT_ACTIVATION_TTL_HOURS, expiresAt, newCode, newCodeId, parseLifetime } from './codes.js';
import type { CodeRecord } from './contract.js';

export interface IssueRequest {
  placeholder?: string;
  /** Pins an activation code to this phone. */
  mac?: string;
  site?: string;
  groups?: string[];
  digits?: number;
  maxDevices?: number;
  /** Enrollment codes: `72h`, `90d`, `12w`, `3mo`, `never`. */
  expires?: string;
  /** Activation codes: hours (default 168). */
  ttlHours?: number;
  issuedBy: string;
}

export type Issued = { ok: true; code: string; record: CodeRecord } | { ok: false; message: string };

export function issueCode(profiles: ProfileSet, req: IssueRequest, now: Date): Issued {
  const fail = (message: string): Issued => ({ ok: false, message });
  if ((req.placeholder === undefined) === (req.site === undefined)) return fail('give --placeholder NAME (an activation code) or --site NAME (an enrollment code)');
  if (req.placeholder !== undefined) {
    if (req.groups?.length || req.maxDevices !== undefined || req.digits !== undefined || req.expires !== undefined) return fail('--groups, --max-devices, --digits and --expires are for enrollment codes (--site); an activation code takes --mac and --ttl');
    const p = [...profiles.placeholders.keys()].find((n) => n.toLowerCase() === req.placeholder!.toLowerCase());
    if (!p) return fail(`no placeholder "${req.placeholder}" (profiles/devices/placeholders/${req.placeholder}.yaml)`);
    if (req.mac !== undefined && profiles.devices.has(req.mac)) return fail(`${req.mac} already has a device file: a code cannot bind it`);
    const ttl = req.ttlHours ?? DEFAULT_ACTIVATION_TTL_HOURS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 24 * 3650) return fail('--ttl is a number of hours, 1 to 87600');
    const code = newCode(ACTIVATION_DIGITS);
    const record: CodeRecord = { ...base(code, now, req.issuedBy), kind: 'activation', placeholder: p, groups: [], maxDevices: 1, expiresAt: expiresAt(now, ttl * 3600_000)!.toISOString() };
    if (req.mac !== undefined) record.mac = req.mac;
    return { ok: true, code, record };
  }
  if (req.mac !== undefined || req.ttlHours !== undefined) return fail('--mac and --ttl are for activation codes (--placeholder); an enrollment code takes --expires');
  if (!profiles.sites.has(req.site!)) return fail(`no site "${req.site}" (profiles/sites/${req.site}.yaml)`);
  const missing = (req.groups ?? []).filter((g) => !profiles.groups.has(g));
  if (missing.length) return fail(`no group ${missing.map((g) => `"${g}"`).join(', ')} (profiles/groups/<name>.yaml)`);
  const digits = req.digits ?? 8;
  if (digits !== 8 && digits !== 12) return fail('--digits is 8 or 12');
  if (req.maxDevices !== undefined && (!Number.isInteger(req.maxDevices) || req.maxDevices < 1)) return fail('--max-devices is a whole number of at least 1');
  const life = parseLifetime(req.expires ?? '72h');
  if (!life.ok) return fail(`--expires: ${life.message}`);
  const code = newCode(digits);
  const expires = expiresAt(now, life.ms);
  return { ok: true, code, record: { ...base(code, now, req.issuedBy), kind: 'enrollment', site: req.site, groups: req.groups ?? [], maxDevices: req.maxDevices ?? null, expiresAt: expires ? expires.toISOString() : null } };
}

function base(code: string, now: Date, issuedBy: string) {
  return { id: newCodeId(), hash: codeHash(code), tail: codeTail(code), used: 0, issuedAt: now.toISOString(), issuedBy };
}

/** The audit record of an issued code: who issued it, for what, and its id (never the code). */
export function issueAudit(r: CodeRecord): { at: string; actor: string; source: string; action: string; result: string; target?: string; detail: Record<string, unknown> } {
  return { at: r.issuedAt, actor: r.issuedBy, source: 'local', action: 'code.issue', result: 'ok', target: r.placeholder ?? r.site, detail: { code: r.id, kind: r.kind, ...(r.mac ? { mac: r.mac } : {}) } };
}
