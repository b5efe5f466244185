// The state store: what happened (which phones asked, who did what, lockouts, tokens), as
// opposed to what a phone should get (the YAML root, the source of truth). One interface,
// one folder per implementation (sqlite/, postgres/), one contract suite
// (test/store-contract.case.ts) that each implementation passes, the way Hono runs one
// router suite over each router.
//
// Async throughout because PostgreSQL is. Times are ISO 8601 strings in UTC (they sort as
// text, compare equal across both databases, and read well in JSON). The store never sees a
// raw token: URL and API tokens are stored as SHA-256 digests.

import crypto from 'node:crypto';
import { DEVICE_COLUMNS, type DeviceColumn, type Where } from './where.js';

export { DEVICE_COLUMNS, type DeviceColumn };
import type { CodeStore } from '../enroll/contract.js';
import type { UploadBackend, UploadLimits } from '../service/upload-backend.js';
import type { Required } from './provision-result.js';

/** What a phone's last requests add up to (see docs/state.md). */
export type ProvisionResult = 'ok' | 'stale' | 'failing' | 'never' | 'unknown';
export const PROVISION_RESULTS: readonly ProvisionResult[] = ['ok', 'stale', 'failing', 'never', 'unknown'];

/** One file a phone fetched, as the last request for it went. */
export interface FileFetch {
  /** The file name the phone asked for (`0004f2aabbcc.cfg`), without any token prefix. */
  name: string;
  /** The manifest's file id it resolved to (`master`, `settings`), which the boot sequence names. */
  fileId?: string;
  status: number;
  bytes: number;
  etag?: string;
  /** ISO 8601 UTC. */
  at: string;
}

/** One identified request, as the hot path saw it. Several for one MAC merge in order. */
export interface Observation {
  mac: string;
  /** ISO 8601 UTC. */
  at: string;
  /** Whether the root configures this MAC (a device profile); unknown ones are capped. */
  configured: boolean;
  vendor?: string;
  model?: string;
  firmware?: string;
  hardware?: string;
  ip?: string;
  site?: string;
  file?: FileFetch;
}

/** A phone as the inventory knows it. */
export interface DeviceRecord {
  mac: string;
  vendor?: string;
  model?: string;
  firmware?: string;
  hardware?: string;
  ip?: string;
  site?: string;
  configured: boolean;
  firstSeen: string;
  lastSeen: string;
  result: ProvisionResult;
  /** By file name, sorted. */
  files: FileFetch[];
}


/** A device's columns as plain strings ('' when absent), which is what `--where` compares. */
export function deviceRow(d: Omit<DeviceRecord, 'files' | 'configured'>): Record<DeviceColumn, string> {
  return {
    mac: d.mac,
    vendor: d.vendor ?? '',
    model: d.model ?? '',
    firmware: d.firmware ?? '',
    hardware: d.hardware ?? '',
    ip: d.ip ?? '',
    site: d.site ?? '',
    result: d.result,
    first_seen: d.firstSeen,
    last_seen: d.lastSeen,
    state: '',
  };
}

/**
 * Decides a device's provision result from its merged record (the inventory knows the
 * current snapshot; the store does not). Called inside the batch's transaction, so two
 * servers writing the same device each judge the merged files.
 */
export type Judge = (d: DeviceRecord) => ProvisionResult;

/** Inventory batches written off the server's thread (SQLite: store/sqlite/writer.ts). */
export interface ObservationWriter {
  /** What recordObservations does, judged from `required`: per MAC its boot files and their current ETags, null when not configured. */
  record(batch: readonly Observation[], required: ReadonlyMap<string, Required[] | null>, maxUnknown: number): Promise<void>;
  /** False once the thread has failed (it could not open the database, or died): write on the server's thread instead. */
  alive(): boolean;
  /** After the last batch: the thread closes its connection and ends. */
  close(): Promise<void>;
}

export interface RecordOptions {
  judge: Judge;
  /** Most `configured: false` devices kept; the least recently seen go first. */
  maxUnknown: number;
}

export interface Page<T> {
  items: T[];
  /** Matches before paging. */
  total: number;
}

export interface DeviceQuery {
  where?: Where;
  /** Only these results. */
  results?: readonly ProvisionResult[];
  /** Only devices last seen strictly before this time (ISO). */
  seenBefore?: string;
  offset?: number;
  /** Default DEFAULT_PAGE, at most MAX_PAGE. */
  limit?: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  /** A user name, `token:<id>`, or `cli`. */
  actor: string;
  /** Source address, or `local` for the CLI. */
  source: string;
  /** e.g. `GET /api/v1/devices`, `token.issue`. */
  action: string;
  /** e.g. `ok`, `denied`, `400`. */
  result: string;
  target?: string;
  /** Extra facts, never secrets. */
  detail?: Record<string, unknown>;
}
export type AuditInput = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  actor?: string;
  action?: string;
  /** Prefix of action, e.g. `POST ` or `token.`. */
  actionPrefix?: string;
  result?: string;
  since?: string;
  until?: string;
  offset?: number;
  limit?: number;
}

export interface UrlTokenEntry {
  /** sha256(token), hex. */
  hash: string;
  mac: string;
  issuedAt: string;
}

export type ApiRole = 'admin' | 'viewer';
export const API_ROLES: readonly ApiRole[] = ['admin', 'viewer'];

export interface ApiTokenInfo {
  /** Short public id (shown in lists and audit lines; not a secret). */
  id: string;
  role: ApiRole;
  label: string;
  createdAt: string;
  lastUsedAt?: string;
}

/** Codes and bindings (enroll/contract.ts) are part of the same store and contract suite. */
export interface StateStore extends CodeStore {
  /** `sqlite` or `postgres`. */
  readonly kind: string;
  /** Where it lives, for messages (a path, or a URL without its password). */
  readonly where: string;

  // ── inventory
  /** Merge a batch of observations (one transaction) and re-judge each device touched. */
  recordObservations(batch: readonly Observation[], opts: RecordOptions): Promise<void>;
  /** A writer on a thread of its own, where the store has one (SQLite on a file). */
  observationWriter?(): ObservationWriter | undefined;
  getDevice(mac: string): Promise<DeviceRecord | undefined>;
  /** Ordered by MAC. Files are included. */
  listDevices(q?: DeviceQuery): Promise<Page<DeviceRecord>>;
  countByResult(): Promise<Record<ProvisionResult, number>>;
  /** Remove a device from the inventory (the admin forgot a phone). */
  forgetDevice(mac: string): Promise<boolean>;

  // ── audit log (append only)
  appendAudit(e: AuditInput): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(q?: AuditQuery): Promise<Page<AuditEntry>>;

  // ── admin lockout: failures per source address and user name (kept a day, then pruned)
  recordLoginFailure(source: string, user: string, at: string): Promise<void>;
  clearLoginFailures(source: string, user: string): Promise<void>;
  /** Failures at or after `since` for this source and user (other sources do not count). */
  countLoginFailures(source: string, user: string, since: string): Promise<number>;

  // ── URL tokens (per device; the store keeps digests only)
  /** Store a token digest for `mac`, replacing the device's previous one. */
  putUrlToken(e: UrlTokenEntry): Promise<void>;
  getUrlToken(hash: string): Promise<UrlTokenEntry | undefined>;
  /** Remove the device's token; false when it had none. */
  deleteUrlToken(mac: string): Promise<boolean>;
  /** Ordered by MAC. */
  listUrlTokens(): Promise<UrlTokenEntry[]>;

  // ── API tokens for the admin API (shown once; the store keeps digests only)
  issueApiToken(role: ApiRole, label: string, at?: string): Promise<{ token: string; info: ApiTokenInfo }>;
  /** The token's info (and its last use noted), or undefined for an unknown or revoked token. */
  verifyApiToken(token: string, at?: string): Promise<ApiTokenInfo | undefined>;
  /** Ordered by creation. */
  listApiTokens(): Promise<ApiTokenInfo[]>;
  revokeApiToken(id: string): Promise<boolean>;

  // ── phone uploads, in stores that keep them (PostgreSQL: every replica serves them back)
  /** A backend for phone uploads in this database; absent where uploads stay on disk (SQLite). */
  uploadBackend?(limits: UploadLimits): UploadBackend;

  // ── schema
  /** The highest migration applied. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
/** Unknown MACs kept in the inventory unless `inventory.max_unknown` says otherwise. */
export const DEFAULT_MAX_UNKNOWN = 10_000;

export type StoreErrorCode =
  /** The database was migrated by a newer deskset. */
  | 'NEWER_SCHEMA'
  /** Cannot open or reach the database. */
  | 'UNAVAILABLE'
  /** A query the store refuses (bad paging, unknown column, bad MAC). */
  | 'BAD_QUERY'
  /** A migration failed (nothing of it was applied). */
  | 'MIGRATION_FAILED';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

// ── helpers every implementation shares

export function sha256Hex(s: string): string {
  return crypto.createHash('sha256').update(s, 'utf8').digest('hex');
}

/** API tokens: `dsk_<id>_<secret>`, so a token names its row and the digest check is one lookup. */
export function newApiToken(): { id: string; token: string; hash: string } {
  const id = crypto.randomBytes(6).toString('hex');
  const token = `dsk_${id}_${crypto.randomBytes(32).toString('base64url')}`;
  return { id, token, hash: sha256Hex(token) };
}

export function apiTokenId(token: string): string | undefined {
  const m = /^dsk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(token);
  return m?.[1];
}

/** Login failures older than a day are pruned as new ones come: no lockout window is that long. */
export const LOGIN_FAILURE_RETENTION_MS = 24 * 3600_000;

export function keepFailuresSince(at: string): string {
  const t = Date.parse(at);
  return Number.isFinite(t) ? new Date(t - LOGIN_FAILURE_RETENTION_MS).toISOString() : '';
}

export function pageOf(q: { offset?: number; limit?: number } | undefined): { offset: number; limit: number } {
  const offset = q?.offset ?? 0;
  const limit = q?.limit ?? DEFAULT_PAGE;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new StoreError('BAD_QUERY', `offset must be a whole number ≥ 0, not ${offset}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new StoreError('BAD_QUERY', `limit must be 1–${MAX_PAGE}, not ${limit}`);
  return { offset, limit };
}

/** A URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '••••';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//••••@');
  }
}
