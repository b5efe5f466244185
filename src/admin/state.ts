// What the admin API keeps between calls: the audit log, API tokens (hashed) and the lockout
// counters. The state store (src/store/) implements this; MemoryAdminState is for a server
// started without one and for tests of the pure parts.

import type { AdminRole } from '../config/root-config.js';

export interface AuditEntry {
  /** ISO 8601 time of the call. */
  at: string;
  /** User name, `token:<id>`, or `-` when nobody authenticated. */
  who: string;
  /** Source address of the call. */
  ip: string;
  /** `GET /api/v1/devices/…` (path only: query strings can be long and are not needed). */
  what: string;
  /** HTTP status answered. */
  status: number;
  /** ok, denied (401/403/429) or error. */
  result: 'ok' | 'denied' | 'error';
  /** A note for the few calls that need one (`secrets shown`, `import applied: 3 devices`). */
  detail?: string;
}

export interface AuditQuery {
  limit: number;
  offset: number;
  who?: string;
  ip?: string;
  result?: AuditEntry['result'];
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
}

export interface ApiTokenRecord {
  id: string;
  role: AdminRole;
  /** A label for people (`ci`), shown in lists and the audit log. */
  label?: string;
  createdAt: string;
}

export interface AdminState {
  appendAudit(e: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(q: AuditQuery): Promise<{ total: number; entries: AuditEntry[] }>;
  /** The token whose SHA-256 this is, if any. */
  findApiToken(sha256: string): Promise<ApiTokenRecord | undefined>;
  /** Failures for this key since `sinceMs` (epoch ms). */
  countFailures(key: string, sinceMs: number): Promise<number>;
  recordFailure(key: string, atMs: number): Promise<void>;
  clearFailures(key: string): Promise<void>;
}

/** Bounds keep a flood of bad logins from many addresses from growing memory without end. */
const MAX_KEYS = 10_000;
const MAX_AUDIT = 100_000;

export class MemoryAdminState implements AdminState {
  private readonly audit: AuditEntry[] = [];
  private readonly failures = new Map<string, number[]>();
  readonly tokens = new Map<string, ApiTokenRecord>();

  async appendAudit(e: AuditEntry): Promise<void> {
    this.audit.push(e);
    if (this.audit.length > MAX_AUDIT) this.audit.splice(0, this.audit.length - MAX_AUDIT);
  }

  async listAudit(q: AuditQuery): Promise<{ total: number; entries: AuditEntry[] }> {
    const hits = this.audit.filter((e) => (!q.who || e.who === q.who) && (!q.ip || e.ip === q.ip) && (!q.result || e.result === q.result) && (!q.since || e.at >= q.since) && (!q.until || e.at <= q.until)).reverse();
    return { total: hits.length, entries: hits.slice(q.offset, q.offset + q.limit) };
  }

  async findApiToken(sha256: string): Promise<ApiTokenRecord | undefined> {
    return this.tokens.get(sha256);
  }

  async countFailures(key: string, sinceMs: number): Promise<number> {
    return (this.failures.get(key) ?? []).filter((t) => t >= sinceMs).length;
  }

  async recordFailure(key: string, atMs: number): Promise<void> {
    const list = this.failures.get(key) ?? [];
    list.push(atMs);
    if (list.length > 100) list.splice(0, list.length - 100);
    this.failures.delete(key);
    this.failures.set(key, list);
    while (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value as string);
  }

  async clearFailures(key: string): Promise<void> {
    this.failures.delete(key);
  }
}
