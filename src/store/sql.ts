// SQL the two stores share: the device-list filter and row mapping. Placeholders are `?`;
// the PostgreSQL store renumbers them.

import { PROVISION_RESULTS, StoreError, type ApiRole, type ApiTokenInfo, type AuditEntry, type AuditQuery, type DeviceQuery, type DeviceRecord, type FileFetch, type ProvisionResult } from './contract.js';
import { whereSql } from './where.js';

export interface DeviceRow {
  mac: string;
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  hardware: string | null;
  ip: string | null;
  site: string | null;
  configured: number | boolean;
  first_seen: string;
  last_seen: string;
  result: string;
}
export interface FileRow {
  mac: string;
  name: string;
  file_id: string | null;
  status: number;
  bytes: number | string;
  etag: string | null;
  at: string;
}
export interface AuditRow {
  id: number | string;
  at: string;
  actor: string;
  source: string;
  action: string;
  result: string;
  target: string | null;
  detail: string | null;
}

const opt = (v: string | null): string | undefined => (v === null ? undefined : v);

export function deviceOf(r: DeviceRow, files: FileRow[]): DeviceRecord {
  const d: DeviceRecord = { mac: r.mac, configured: !!r.configured, firstSeen: r.first_seen, lastSeen: r.last_seen, result: r.result as ProvisionResult, files: files.map(fileOf) };
  for (const k of ['vendor', 'model', 'firmware', 'hardware', 'ip', 'site'] as const) {
    const v = opt(r[k]);
    if (v !== undefined) d[k] = v;
  }
  return d;
}

export function fileOf(r: FileRow): FileFetch {
  const f: FileFetch = { name: r.name, status: Number(r.status), bytes: Number(r.bytes), at: r.at };
  if (r.file_id !== null) f.fileId = r.file_id;
  if (r.etag !== null) f.etag = r.etag;
  return f;
}

export function auditOf(r: AuditRow): AuditEntry {
  const e: AuditEntry = { id: Number(r.id), at: r.at, actor: r.actor, source: r.source, action: r.action, result: r.result };
  if (r.target !== null) e.target = r.target;
  if (r.detail !== null) e.detail = JSON.parse(r.detail) as Record<string, unknown>;
  return e;
}

/** The WHERE clause (with leading ' WHERE ' or '') and its parameters for a device query. */
export function deviceFilter(q: DeviceQuery | undefined): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (q?.where) {
    // `state` (the enrollment lifecycle) is joined in by the view, not stored: '' here.
    const w = whereSql(q.where, (c) => (c === 'state' ? 'NULL' : c));
    parts.push(w.sql);
    params.push(...w.params);
  }
  if (q?.results) {
    for (const r of q.results) if (!PROVISION_RESULTS.includes(r)) throw new StoreError('BAD_QUERY', `unknown provision result ${JSON.stringify(r)}`);
    parts.push(q.results.length ? `result IN (${q.results.map(() => '?').join(', ')})` : '1 = 0');
    params.push(...q.results);
  }
  if (q?.seenBefore !== undefined) {
    parts.push('last_seen < ?');
    params.push(q.seenBefore);
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

export function auditFilter(q: AuditQuery | undefined): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const eq = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    parts.push(`${col} = ?`);
    params.push(v);
  };
  eq('actor', q?.actor);
  eq('action', q?.action);
  eq('result', q?.result);
  if (q?.actionPrefix !== undefined) {
    parts.push(`action LIKE ? ESCAPE '\\'`);
    params.push(`${q.actionPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (q?.since !== undefined) {
    parts.push('at >= ?');
    params.push(q.since);
  }
  if (q?.until !== undefined) {
    parts.push('at < ?');
    params.push(q.until);
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

export function emptyCounts(): Record<ProvisionResult, number> {
  return Object.fromEntries(PROVISION_RESULTS.map((r) => [r, 0])) as Record<ProvisionResult, number>;
}

/** A row of api_tokens (the hash stays in the database). */
export interface ApiRowT {
  id: string;
  role: ApiRole;
  label: string;
  created_at: string;
  last_used_at: string | null;
}

export function apiInfo(r: ApiRowT): ApiTokenInfo {
  const i: ApiTokenInfo = { id: r.id, role: r.role, label: r.label, createdAt: r.created_at };
  if (r.last_used_at !== null) i.lastUsedAt = r.last_used_at;
  return i;
}
