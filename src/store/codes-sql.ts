// Codes and bindings as both stores read and write them: row shapes, and the one decision
// a redemption makes from the rows it locked. Each store runs it inside its own transaction
// (SQLite: BEGIN IMMEDIATE; PostgreSQL: the code's row FOR UPDATE).

import type { Binding, BindingState } from '../enroll/bindings.js';
import type { CodeKind } from '../enroll/codes.js';
import type { CodeRecord, RedeemRefusal } from '../enroll/contract.js';

export interface CodeRow {
  id: string;
  hash: string;
  tail: string;
  kind: string;
  placeholder: string | null;
  mac: string | null;
  site: string | null;
  groups: string;
  max_devices: number | string | null;
  used: number | string;
  issued_at: string;
  expires_at: string | null;
  released_at: string | null;
  issued_by: string;
}

export interface BindingRow {
  mac: string;
  code_id: string;
  tail: string;
  kind: string;
  placeholder: string | null;
  site: string | null;
  groups: string;
  model: string | null;
  bound_at: string;
  bound_from: string;
  state: string;
  code_hash: string;
}

export const INSERT_CODE = `INSERT INTO codes (id, hash, tail, kind, placeholder, mac, site, groups, max_devices, used, issued_at, expires_at, released_at, issued_by)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function codeParams(c: CodeRecord): unknown[] {
  return [c.id, c.hash, c.tail, c.kind, c.placeholder ?? null, c.mac ?? null, c.site ?? null, JSON.stringify(c.groups), c.maxDevices, c.used, c.issuedAt, c.expiresAt, c.releasedAt ?? null, c.issuedBy];
}

/** Insert a binding, or take the MAC's row over when it holds no enrolled binding (released, adopted). */
export const UPSERT_BINDING = `INSERT INTO bindings (mac, code_id, tail, kind, placeholder, site, groups, model, bound_at, bound_from, state, code_hash, changed_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (mac) DO UPDATE SET code_id = excluded.code_id, tail = excluded.tail, kind = excluded.kind, placeholder = excluded.placeholder,
    site = excluded.site, groups = excluded.groups, model = excluded.model, bound_at = excluded.bound_at, bound_from = excluded.bound_from,
    state = excluded.state, code_hash = excluded.code_hash, changed_at = excluded.changed_at
  WHERE bindings.state <> 'enrolled'`;

export function bindingParams(b: Binding): unknown[] {
  return [b.mac, b.codeId, b.tail, b.kind, b.placeholder ?? null, b.site ?? null, JSON.stringify(b.groups), b.model ?? null, b.boundAt, b.boundFrom, b.state, b.codeHash, b.boundAt];
}

export function codeOf(r: CodeRow): CodeRecord {
  const c: CodeRecord = {
    id: r.id,
    hash: r.hash,
    tail: r.tail,
    kind: r.kind as CodeKind,
    groups: JSON.parse(r.groups) as string[],
    maxDevices: r.max_devices === null ? null : Number(r.max_devices),
    used: Number(r.used),
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    issuedBy: r.issued_by,
  };
  if (r.placeholder !== null) c.placeholder = r.placeholder;
  if (r.mac !== null) c.mac = r.mac;
  if (r.site !== null) c.site = r.site;
  if (r.released_at !== null) c.releasedAt = r.released_at;
  return c;
}

export function bindingOf(r: BindingRow): Binding {
  const b: Binding = { mac: r.mac, codeId: r.code_id, tail: r.tail, kind: r.kind as CodeKind, groups: JSON.parse(r.groups) as string[], boundAt: r.bound_at, boundFrom: r.bound_from, state: r.state as BindingState, codeHash: r.code_hash };
  if (r.placeholder !== null) b.placeholder = r.placeholder;
  if (r.site !== null) b.site = r.site;
  if (r.model !== null) b.model = r.model;
  return b;
}

export type RedeemDecision = { write: true } | { write: false; same: Binding } | { write: false; refused: RedeemRefusal };

/**
 * What a redemption does, from the rows its transaction holds: the code, the MAC's current
 * binding, and whether the code's placeholder is already bound to another phone.
 */
export function decideRedeem(code: CodeRecord | undefined, existing: Binding | undefined, placeholderTaken: boolean, at: string): RedeemDecision {
  if (!code || code.releasedAt) return { write: false, refused: 'released' };
  if (code.expiresAt !== null && code.expiresAt <= at) return { write: false, refused: 'expired' };
  if (existing?.state === 'enrolled') return existing.codeId === code.id ? { write: false, same: existing } : { write: false, refused: 'already bound' };
  if (code.kind === 'activation') {
    if (code.used >= 1) return { write: false, refused: 'used' };
    if (placeholderTaken) return { write: false, refused: 'placeholder taken' };
  } else if (code.maxDevices !== null && code.used >= code.maxDevices) {
    return { write: false, refused: 'cap reached' };
  }
  return { write: true };
}

export const RELEASE_CODE = 'UPDATE codes SET released_at = ? WHERE id = ? AND released_at IS NULL';
export const RELEASE_BINDINGS = "UPDATE bindings SET state = 'released', changed_at = ? WHERE code_id = ? AND state = 'enrolled'";
