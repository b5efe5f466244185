// What the pipeline needs from wherever phone uploads are kept: put (with the per-file caps,
// the per-device quota and the per-device concurrency limit), get for serving an override
// back, listForDevice (explain, the admin API), log append per UTC day and pruning.
// Two implementations: files in the state directory (upload-store.ts, the default) and
// PostgreSQL (upload-pg.ts, so that every replica on one database serves what a phone wrote to
// any of them). The pure parts both share live here: names, limits, bounded reading.

import { ZERO_MAC, normalizeMac } from '../config/mac.js';
import { DEFAULT_UPLOADS } from '../config/root-config.js';
import type { Confinement } from '../io/confine.js';
import type { UploadKindSpec } from '../vendors/contract.js';
import { UPLOAD_KIND_SPECS } from '../vendors/registry.js';

/**
 * The allow-list: every vendor's upload kinds. The name a phone uploads is `<mac>-<key>`.
 * Keys are matched exactly (lowercase, as phones send them); only the MAC part may vary in case.
 */
export const UPLOAD_KINDS: Readonly<Record<string, UploadKindSpec>> = Object.freeze(Object.assign(Object.create(null) as Record<string, UploadKindSpec>, Object.fromEntries(UPLOAD_KIND_SPECS)));

export type UploadKind = string;

// A Map, not `key in UPLOAD_KINDS`: an object lookup would also accept `constructor`, `__proto__`...
export const KINDS: ReadonlyMap<string, UploadKindSpec> = UPLOAD_KIND_SPECS;

/** 12 hex + '-' + the longest suffix is far below this; longer names are refused before any regex. */
const MAX_NAME = 64;
// The suffix is taken loosely here and checked exactly against the table, so a new kind needs
// no regex change.
const NAME = /^([0-9a-fA-F]{12})-(.+)$/;

export type PutStatus = 201 | 204 | 400 | 403 | 411 | 413 | 429 | 507;

/** A body whose length is not known up front (chunked): bounded while it streams instead. */
export const STREAMED = 'streamed';
export interface PutResult {
  status: PutStatus;
  /** Short text for logs; never sent to the client. */
  reason: string;
  bytes?: number;
}

export interface UploadedFile {
  name: string;
  kind: UploadKind;
  size: number;
  mtime: Date;
}

/** An uploaded file to serve back: on disk (the reader opens and checks it) or bytes from the database. */
export type StoredUpload =
  | { kind: 'file'; path: string; size: number; confine: Confinement }
  | { kind: 'bytes'; body: Buffer; size: number; etag: string; mtime: Date };

export type UploadBody = AsyncIterable<Buffer> | NodeJS.ReadableStream;

export interface UploadBackend {
  /** `disk` or `database`, for logs and docs. */
  readonly where: 'disk' | 'database';
  /** `<mac>-<suffix>` with a known suffix, or undefined. Pure: no I/O. */
  classify(name: string): { mac: string; kind: UploadKind } | undefined;
  /**
   * Store one upload (see UploadStore.put for the statuses). `declaredLength` is the
   * Content-Length, STREAMED for a chunked body, undefined for neither (411).
   */
  put(name: string, body: UploadBody, declaredLength: number | typeof STREAMED | undefined): Promise<PutResult>;
  /** An uploaded non-log file, for serving it back; undefined for logs and absent files. */
  get(name: string): Promise<StoredUpload | undefined>;
  /** Everything a device has stored, sorted by name: its uploaded files, then its day logs. */
  listForDevice(mac: string): Promise<UploadedFile[]>;
  /** Delete day logs older than the retention; returns how many. */
  pruneLogs(): Promise<number>;
  /** Clean up what a crashed writer left (temp files, half-done appends); returns how many. */
  removeStaleTemps(): Promise<number>;
}

export interface UploadLimits {
  /** Cap for one upload of a non-log kind (cfg/xml). Default 1 MiB. */
  maxFileBytes?: number;
  /** Cap for one log upload (the body of one PUT, not the day file). Default 5 MiB. */
  maxLogBytes?: number;
  /** Quota for everything one device has stored (uploads and logs). Default 20 MiB. */
  maxDeviceBytes?: number;
  /** Day logs older than this many days are deleted by pruneLogs(). Default 10. */
  logRetentionDays?: number;
  /** Uploads one device may have running at once; more wait (unread), up to 16× as many, then 429. Default 4. */
  maxConcurrentPerDevice?: number;
  /** Clock, for tests. Log days are UTC days of this clock. */
  now?: () => Date;
}

export type ResolvedLimits = Required<UploadLimits>;

export function resolveLimits(o: UploadLimits): ResolvedLimits {
  return {
    maxFileBytes: o.maxFileBytes ?? DEFAULT_UPLOADS.maxFileBytes,
    maxLogBytes: o.maxLogBytes ?? DEFAULT_UPLOADS.maxLogBytes,
    maxDeviceBytes: o.maxDeviceBytes ?? DEFAULT_UPLOADS.maxDeviceBytes,
    logRetentionDays: o.logRetentionDays ?? DEFAULT_UPLOADS.logRetentionDays,
    maxConcurrentPerDevice: o.maxConcurrentPerDevice ?? DEFAULT_UPLOADS.maxConcurrentPerDevice,
    now: o.now ?? (() => new Date()),
  };
}

/** `<mac>-<suffix>` with a known suffix, or undefined. */
export function classifyUpload(name: string): { mac: string; kind: UploadKind } | undefined {
  if (typeof name !== 'string' || name.length > MAX_NAME) return undefined;
  const m = NAME.exec(name);
  if (!m) return undefined;
  const mac = normalizeMac(m[1]!);
  // The all-zero MAC names files for every phone (000000000000.cfg); no phone is 000000000000.
  if (mac === undefined || mac === ZERO_MAC) return undefined;
  if (!KINDS.has(m[2]!)) return undefined;
  return { mac, kind: m[2] as UploadKind };
}

/** A device's MAC as stored (canonical), or undefined for a bad or all-zero one. */
export function deviceMac(mac: string): string | undefined {
  const m = normalizeMac(mac);
  return m === undefined || m === ZERO_MAC ? undefined : m;
}

export interface PutPlan {
  mac: string;
  kind: UploadKind;
  storage: 'log' | 'file';
  /** The per-file cap that applies. */
  cap: number;
  /** The declared length; undefined for a streamed body. */
  declared: number | undefined;
}

/** What a PUT is, or its refusal before anything is read. Pure. */
export function planPut(name: string, declaredLength: number | typeof STREAMED | undefined, limits: Pick<ResolvedLimits, 'maxFileBytes' | 'maxLogBytes'>): PutPlan | PutResult {
  const c = classifyUpload(name);
  if (!c) return { status: 403, reason: 'not an allowed upload name' };
  if (declaredLength === undefined) return { status: 411, reason: 'length required' };
  const streamed = declaredLength === STREAMED;
  if (!streamed && (!Number.isSafeInteger(declaredLength) || declaredLength < 0)) return { status: 400, reason: 'bad declared length' };
  const storage = UPLOAD_KINDS[c.kind]!.storage;
  const cap = storage === 'log' ? limits.maxLogBytes : limits.maxFileBytes;
  if (!streamed && declaredLength > cap) return { status: 413, reason: 'exceeds per-file cap', bytes: 0 };
  return { mac: c.mac, kind: c.kind, storage, cap, declared: streamed ? undefined : declaredLength };
}

export interface Received {
  bytes: number;
  status?: 400 | 413;
  reason: string;
}

/**
 * Read `body` chunk by chunk into `sink`, counting bytes: a refusal as soon as the cap, the
 * declared length or the quota (`reserve`, asked before each chunk) is crossed, or a body
 * shorter than declared. On an early stop the body is left unconsumed and not destroyed
 * (destroying an HTTP request destroys its socket, and the caller still has to answer).
 */
export async function readBounded(body: UploadBody, declared: number | undefined, cap: number, sink: (chunk: Buffer) => Promise<void> | void, reserve?: (bytes: number) => boolean): Promise<Received> {
  let bytes = 0;
  // Iterate by hand: `for await` + `break` would call return(), which destroys an
  // IncomingMessage and its socket before the caller can send 413.
  const it = (body as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await it.next();
    } catch {
      // The client went away (ECONNRESET/aborted) or the source failed: nothing is committed.
      return { bytes, status: 400, reason: 'upload aborted' };
    }
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    bytes += chunk.length;
    if (bytes > cap) return { bytes, status: 413, reason: 'exceeds per-file cap' };
    // The HTTP parser never delivers more than Content-Length; other callers might.
    if (declared !== undefined && bytes > declared) return { bytes, status: 400, reason: 'body longer than declared length' };
    if (reserve && !reserve(chunk.length)) return { bytes, status: 413, reason: 'exceeds device quota' };
    await sink(chunk);
  }
  // A lying Content-Length or a client that stopped early: keep nothing.
  if (declared !== undefined && bytes < declared) return { bytes, status: 400, reason: 'body shorter than declared length' };
  return { bytes, reason: 'received' };
}

/** The UTC day (`YYYY-MM-DD`) a log upload at `d` belongs to. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The first UTC day kept by pruning on `today` with `retentionDays` (10 on 2024-05-20: 2024-05-10). */
export function firstKeptDay(today: Date, retentionDays: number): string {
  return utcDay(new Date(Date.parse(`${utcDay(today)}T00:00:00Z`) - retentionDays * 86_400_000));
}

/** The listing name of a day log: `<YYYY-MM-DD>-<kind>` (kind ends in `.log`), as on disk. */
export function dayLogName(day: string, kind: UploadKind): string {
  return `${day}-${kind}`;
}

export function byName(a: UploadedFile, b: UploadedFile): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
