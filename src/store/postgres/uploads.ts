// Phone uploads in PostgreSQL (migration 0004): every server on one database serves back what a
// phone wrote to any of them, and appends to the same day log. The limits are the disk
// store's (upload-backend.ts): the per-file caps before anything is read, the per-device
// concurrency in this process, and the per-device quota inside the writing statement itself.
//
// Each write is one transaction: a per-device advisory lock (so two replicas writing one
// device take turns and each sees the other's bytes), then one INSERT … ON CONFLICT that
// replaces a file, or appends to the day's log (`body = body || $new`), only WHERE the device's
// total after it stays within the quota. A refused, aborted or failed write changes nothing:
// the old body stays (PostgreSQL rolls the whole statement back).
//
// Bodies are read into memory before the transaction starts (at most the per-file cap, 1 MiB or
// 5 MiB by default), so no connection is held while a slow phone sends.

import type pg from 'pg';
import { etagForBytes } from '../../pipeline/conditional.js';
import { UploadQuota } from '../../service/upload-quota.js';
import {
  byName,
  classifyUpload,
  dayLogName,
  deviceMac,
  firstKeptDay,
  KINDS,
  planPut,
  readBounded,
  resolveLimits,
  UPLOAD_KINDS,
  utcDay,
  type PutPlan,
  type PutResult,
  type ResolvedLimits,
  type StoredUpload,
  type STREAMED,
  type UploadBackend,
  type UploadBody,
  type UploadedFile,
  type UploadKind,
  type UploadLimits,
} from '../../service/upload-backend.js';

/** Advisory lock class for uploads (the second key is the device): arbitrary, fixed. */
export const LOCK_UPLOADS = 0x6473_7570;

/** Everything a device holds, except `$2`'s row when it is a file that this write replaces. */
const USAGE = `(SELECT coalesce(sum(size), 0) FROM upload_files WHERE mac = $1 AND kind <> $2) + (SELECT coalesce(sum(size), 0) FROM upload_log_days WHERE mac = $1)`;

// $1 mac, $2 kind, $3 body, $4 size, $5 etag, $6 mtime, $7 quota.
const REPLACE_FILE = `
INSERT INTO upload_files (mac, kind, body, size, etag, mtime)
SELECT $1::text, $2::text, $3::bytea, $4::bigint, $5::text, $6::text WHERE ${USAGE} + $4::bigint <= $7::bigint
ON CONFLICT (mac, kind) DO UPDATE SET body = excluded.body, size = excluded.size, etag = excluded.etag, mtime = excluded.mtime
RETURNING (xmax = 0) AS created`;

// $1 mac, $2 kind, $3 body, $4 size, $5 day, $6 mtime, $7 quota. The USAGE of a log counts all
// files ($2 is a log kind, never a file's) and all days, today's included: append, not replace.
const APPEND_LOG = `
INSERT INTO upload_log_days (mac, day, kind, body, size, mtime)
SELECT $1::text, $5::text, $2::text, $3::bytea, $4::bigint, $6::text WHERE ${USAGE} + $4::bigint <= $7::bigint
ON CONFLICT (mac, day, kind) DO UPDATE SET body = upload_log_days.body || excluded.body, size = upload_log_days.size + excluded.size, mtime = excluded.mtime
RETURNING (xmax = 0) AS created`;

export class PgUploads implements UploadBackend {
  readonly where = 'database';
  private readonly limits: ResolvedLimits;
  private readonly quota: UploadQuota;

  constructor(
    private readonly pool: pg.Pool,
    limits: UploadLimits = {},
  ) {
    this.limits = resolveLimits(limits);
    this.quota = new UploadQuota(this.limits.maxDeviceBytes, this.limits.maxConcurrentPerDevice);
  }

  classify(name: string): { mac: string; kind: UploadKind } | undefined {
    return classifyUpload(name);
  }

  async put(name: string, body: UploadBody, declaredLength: number | typeof STREAMED | undefined): Promise<PutResult> {
    const plan = planPut(name, declaredLength, this.limits);
    if ('status' in plan) return plan;
    // Waits (body unread) while the device has maxConcurrentPerDevice uploads running here.
    const slot = await this.quota.begin(plan.mac);
    if (!slot) return { status: 429, reason: 'too many uploads waiting for this device', bytes: 0 };
    try {
      // Refuse a body that cannot fit before reading it; the statement checks again at commit.
      const u = await this.usage(plan.mac, plan.kind);
      slot.measured(u.total);
      if (plan.storage === 'file') slot.replaces(plan.kind, u.current);
      if (!slot.reserve(plan.declared ?? 0)) return { status: 413, reason: 'exceeds device quota', bytes: 0 };
      const chunks: Buffer[] = [];
      const r = await readBounded(body, plan.declared, plan.cap, (c) => void chunks.push(c), plan.declared === undefined ? (n) => slot.reserve(n) : undefined);
      if (r.status) return { status: r.status, reason: r.reason, bytes: r.bytes };
      return await this.commit(plan, Buffer.concat(chunks, r.bytes));
    } finally {
      slot.release();
    }
  }

  private async commit(plan: PutPlan, body: Buffer): Promise<PutResult> {
    const now = this.limits.now();
    const params =
      plan.storage === 'log'
        ? [plan.mac, plan.kind, body, body.length, utcDay(now), now.toISOString(), this.limits.maxDeviceBytes]
        : [plan.mac, plan.kind, body, body.length, etagForBytes(body), now.toISOString(), this.limits.maxDeviceBytes];
    const c = await this.pool.connect();
    let rows: Array<{ created: boolean }>;
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_UPLOADS, plan.mac]);
      rows = (await c.query<{ created: boolean }>(plan.storage === 'log' ? APPEND_LOG : REPLACE_FILE, params)).rows;
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      // A connection that failed mid-transaction (the server restarted, it was terminated) is
      // discarded, not handed to the next caller.
      c.release(e instanceof Error ? e : true);
      throw e;
    }
    c.release();
    if (!rows.length) return { status: 413, reason: 'exceeds device quota', bytes: body.length };
    if (rows[0]!.created) return { status: 201, reason: 'created', bytes: body.length };
    return { status: 204, reason: plan.storage === 'log' ? 'appended' : 'replaced', bytes: body.length };
  }

  /** The device's stored bytes, and those of the file `kind` among them (what a replace frees). */
  private async usage(mac: string, kind: UploadKind): Promise<{ total: number; current: number }> {
    const r = (
      await this.pool.query<{ total: string; current: string }>(
        `SELECT (SELECT coalesce(sum(size), 0) FROM upload_files WHERE mac = $1) + (SELECT coalesce(sum(size), 0) FROM upload_log_days WHERE mac = $1) AS total,
                (SELECT coalesce(sum(size), 0) FROM upload_files WHERE mac = $1 AND kind = $2) AS current`,
        [mac, kind],
      )
    ).rows[0]!;
    return { total: Number(r.total), current: Number(r.current) };
  }

  async get(name: string): Promise<StoredUpload | undefined> {
    const c = classifyUpload(name);
    if (!c || UPLOAD_KINDS[c.kind].storage === 'log') return undefined;
    const r = (await this.pool.query<{ body: Buffer; etag: string; mtime: string }>('SELECT body, etag, mtime FROM upload_files WHERE mac = $1 AND kind = $2', [c.mac, c.kind])).rows[0];
    if (!r) return undefined;
    return { kind: 'bytes', body: r.body, size: r.body.length, etag: r.etag, mtime: new Date(r.mtime) };
  }

  async listForDevice(mac: string): Promise<UploadedFile[]> {
    const m = deviceMac(mac);
    if (m === undefined) return [];
    type Row = { kind: string; size: string; mtime: string; day?: string };
    const files = (await this.pool.query<Row>('SELECT kind, size, mtime FROM upload_files WHERE mac = $1', [m])).rows;
    const logs = (await this.pool.query<Row>('SELECT day, kind, size, mtime FROM upload_log_days WHERE mac = $1', [m])).rows;
    // Kinds a later deskset no longer knows are not listed (the disk store skips them too).
    const known = (r: Row) => KINDS.has(r.kind);
    const entry = (name: string, r: Row): UploadedFile => ({ name, kind: r.kind, size: Number(r.size), mtime: new Date(r.mtime) });
    return [...files.filter(known).map((r) => entry(`${m}-${r.kind}`, r)).sort(byName), ...logs.filter(known).map((r) => entry(dayLogName(r.day!, r.kind), r)).sort(byName)];
  }

  async pruneLogs(): Promise<number> {
    const keep = firstKeptDay(this.limits.now(), this.limits.logRetentionDays);
    return (await this.pool.query('DELETE FROM upload_log_days WHERE day < $1', [keep])).rowCount ?? 0;
  }

  /** Nothing to clean: a write that did not commit left nothing behind. */
  async removeStaleTemps(): Promise<number> {
    return 0;
  }
}
