// The embedded default: SQLite through better-sqlite3 (12.x; 13.x needs Node 22), WAL mode,
// so the CLI can read while the server writes. better-sqlite3 is synchronous: the async
// methods keep the contract PostgreSQL needs, and a batch is one short transaction.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  apiTokenId,
  newApiToken,
  keepFailuresSince,
  pageOf,
  sha256Hex,
  StoreError,
  type ApiRole,
  type ApiTokenInfo,
  type AuditEntry,
  type AuditInput,
  type AuditQuery,
  type DeviceQuery,
  type DeviceRecord,
  type Observation,
  type ObservationWriter,
  type Page,
  type ProvisionResult,
  type RecordOptions,
  type StateStore,
  type UrlTokenEntry,
} from '../contract.js';
import { BUSY_WAIT_MS, observationStatements, tuneConnection, type ObservationStatements } from './observations.js';
import { startWriterThread } from './writer.js';
import { MIGRATIONS_TABLE, pending, statements, type MigrationContext } from '../migrations/index.js';
import { bindingOf, bindingParams, codeOf, codeParams, decideRedeem, INSERT_CODE, RELEASE_BINDINGS, RELEASE_CODE, UPSERT_BINDING, type BindingRow, type CodeRow } from '../codes-sql.js';
import type { Binding, BindingState } from '../../enroll/bindings.js';
import type { CodeRecord, Redeemed } from '../../enroll/contract.js';
import { apiInfo, auditFilter, auditOf, deviceFilter, deviceOf, emptyCounts, type ApiRowT, type AuditRow, type DeviceRow, type FileRow } from '../sql.js';

export interface SqliteOptions {
  /** The database file (created with its directory); `:memory:` for tests. */
  file: string;
  /** For migrations that import old files (tokens.json). */
  stateDir?: string;
}

/** How long opening the store waits for another process's migration. */
const MIGRATION_WAIT_MS = 60_000;

export async function openSqliteStore(opts: SqliteOptions): Promise<SqliteStore> {
  let db: Database.Database;
  try {
    if (opts.file !== ':memory:') {
      fs.mkdirSync(path.dirname(opts.file), { recursive: true, mode: 0o700 });
      // 0600 before SQLite opens it: its -wal and -shm files take the database file's mode.
      fs.closeSync(fs.openSync(opts.file, 'a', 0o600));
      fs.chmodSync(opts.file, 0o600);
    }
    db = new Database(opts.file);
    tuneConnection(db);
  } catch (e) {
    throw new StoreError('UNAVAILABLE', `${opts.file}: cannot open the state database (${(e as Error).message})`);
  }
  try {
    // `serve --workers N` migrates one file from N processes at once: each waits for the
    // others' migrations, which on a loaded machine can take longer than a request may wait.
    db.pragma(`busy_timeout = ${MIGRATION_WAIT_MS}`);
    await migrate(db, opts.file, { stateDir: opts.stateDir });
    db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  } catch (e) {
    db.close();
    throw e;
  }
  return new SqliteStore(db, opts.file);
}

async function migrate(db: Database.Database, where: string, ctx: MigrationContext): Promise<void> {
  db.exec(MIGRATIONS_TABLE);
  // The version is read inside each migration's write transaction: `serve --workers N`
  // opens the database from N processes at once, and only one may apply a given version.
  for (;;) {
    const after: Array<() => void> = [];
    // better-sqlite3's transaction() cannot wrap async code: BEGIN/COMMIT by hand. Nothing
    // else uses this connection until the store is returned.
    db.exec('BEGIN IMMEDIATE');
    const current = (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
    let m;
    try {
      m = pending(current, where)[0];
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
    if (!m) {
      db.exec('COMMIT');
      return;
    }
    try {
      for (const s of statements(m.sqlite)) db.exec(s);
      const tx = { run: async (sql: string, params: unknown[] = []) => void db.prepare(sql).run(...params) };
      await m.after?.(tx, { ...ctx, onCommitted: (fn) => after.push(fn) });
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw new StoreError('MIGRATION_FAILED', `${where}: migration ${m.version} (${m.name}) failed, nothing of it applied: ${(e as Error).message}`);
    }
    for (const fn of after) fn();
  }
}

export class SqliteStore implements StateStore {
  readonly kind = 'sqlite';
  private readonly obs: ObservationStatements;

  constructor(
    private readonly db: Database.Database,
    readonly where: string,
  ) {
    this.obs = observationStatements(db);
  }

  private readDevice(mac: string): DeviceRecord | undefined {
    return this.obs.readDevice(mac);
  }

  observationWriter(): ObservationWriter | undefined {
    return startWriterThread(this.where);
  }

  async recordObservations(batch: readonly Observation[], opts: RecordOptions): Promise<void> {
    if (batch.length) this.obs.record(batch, opts);
  }

  async getDevice(mac: string): Promise<DeviceRecord | undefined> {
    return this.readDevice(mac);
  }

  async listDevices(q?: DeviceQuery): Promise<Page<DeviceRecord>> {
    const { offset, limit } = pageOf(q);
    const f = deviceFilter(q);
    const total = (this.db.prepare(`SELECT count(*) AS n FROM devices${f.sql}`).get(...f.params) as { n: number }).n;
    const rows = this.db.prepare(`SELECT * FROM devices${f.sql} ORDER BY mac LIMIT ? OFFSET ?`).all(...f.params, limit, offset) as DeviceRow[];
    const files = new Map<string, FileRow[]>();
    if (rows.length) {
      const all = this.db.prepare(`SELECT * FROM device_files WHERE mac IN (${rows.map(() => '?').join(', ')}) ORDER BY mac, name`).all(...rows.map((r) => r.mac)) as FileRow[];
      for (const r of all) (files.get(r.mac) ?? files.set(r.mac, []).get(r.mac)!).push(r);
    }
    return { total, items: rows.map((r) => deviceOf(r, files.get(r.mac) ?? [])) };
  }

  async countByResult(): Promise<Record<ProvisionResult, number>> {
    const out = emptyCounts();
    for (const r of this.db.prepare('SELECT result, count(*) AS n FROM devices GROUP BY result').all() as Array<{ result: ProvisionResult; n: number }>) out[r.result] = r.n;
    return out;
  }

  async forgetDevice(mac: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM devices WHERE mac = ?').run(mac).changes > 0;
  }

  async appendAudit(e: AuditInput): Promise<AuditEntry> {
    const r = this.db.prepare('INSERT INTO audit (at, actor, source, action, result, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)').run(e.at, e.actor, e.source, e.action, e.result, e.target ?? null, e.detail === undefined ? null : JSON.stringify(e.detail));
    return { ...e, id: Number(r.lastInsertRowid) };
  }

  async listAudit(q?: AuditQuery): Promise<Page<AuditEntry>> {
    const { offset, limit } = pageOf(q);
    const f = auditFilter(q);
    const total = (this.db.prepare(`SELECT count(*) AS n FROM audit${f.sql}`).get(...f.params) as { n: number }).n;
    const rows = this.db.prepare(`SELECT * FROM audit${f.sql} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...f.params, limit, offset) as AuditRow[];
    return { total, items: rows.map(auditOf) };
  }

  async recordLoginFailure(source: string, user: string, at: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM login_failures WHERE at < ?').run(keepFailuresSince(at));
      this.db.prepare('INSERT INTO login_failures (source, username, at) VALUES (?, ?, ?)').run(source, user, at);
    })();
  }

  async clearLoginFailures(source: string, user: string): Promise<void> {
    this.db.prepare('DELETE FROM login_failures WHERE source = ? AND username = ?').run(source, user);
  }

  async countLoginFailures(source: string, user: string, since: string): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM login_failures WHERE source = ? AND username = ? AND at >= ?').get(source, user, since) as { n: number }).n;
  }

  async putUrlToken(e: UrlTokenEntry): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM url_tokens WHERE mac = ? OR hash = ?').run(e.mac, e.hash);
      this.db.prepare('INSERT INTO url_tokens (hash, mac, issued_at) VALUES (?, ?, ?)').run(e.hash, e.mac, e.issuedAt);
    })();
  }

  async getUrlToken(hash: string): Promise<UrlTokenEntry | undefined> {
    const r = this.db.prepare('SELECT hash, mac, issued_at FROM url_tokens WHERE hash = ?').get(hash) as { hash: string; mac: string; issued_at: string } | undefined;
    return r && { hash: r.hash, mac: r.mac, issuedAt: r.issued_at };
  }

  async deleteUrlToken(mac: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM url_tokens WHERE mac = ?').run(mac).changes > 0;
  }

  async listUrlTokens(): Promise<UrlTokenEntry[]> {
    return (this.db.prepare('SELECT hash, mac, issued_at FROM url_tokens ORDER BY mac').all() as Array<{ hash: string; mac: string; issued_at: string }>).map((r) => ({ hash: r.hash, mac: r.mac, issuedAt: r.issued_at }));
  }

  async issueApiToken(role: ApiRole, label: string, at = new Date().toISOString()): Promise<{ token: string; info: ApiTokenInfo }> {
    const t = newApiToken();
    this.db.prepare('INSERT INTO api_tokens (id, hash, role, label, created_at) VALUES (?, ?, ?, ?, ?)').run(t.id, t.hash, role, label, at);
    return { token: t.token, info: { id: t.id, role, label, createdAt: at } };
  }

  async verifyApiToken(token: string, at = new Date().toISOString()): Promise<ApiTokenInfo | undefined> {
    const id = apiTokenId(token);
    if (!id) return undefined;
    const r = this.db.prepare('SELECT * FROM api_tokens WHERE id = ? AND hash = ?').get(id, sha256Hex(token)) as ApiRowT | undefined;
    if (!r) return undefined;
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
    return { ...apiInfo(r), lastUsedAt: at };
  }

  async listApiTokens(): Promise<ApiTokenInfo[]> {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as ApiRowT[]).map(apiInfo);
  }

  async revokeApiToken(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM api_tokens WHERE id = ?').run(id).changes > 0;
  }

  // ── codes and bindings
  async insertCode(c: CodeRecord): Promise<void> {
    this.db.prepare(INSERT_CODE).run(...codeParams(c));
  }

  async findCodeByHash(hash: string): Promise<CodeRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM codes WHERE hash = ?').get(hash) as CodeRow | undefined;
    return r && codeOf(r);
  }

  async listCodes(): Promise<CodeRecord[]> {
    return (this.db.prepare('SELECT * FROM codes ORDER BY issued_at, id').all() as CodeRow[]).map(codeOf);
  }

  async releaseCode(id: string, at: string): Promise<boolean> {
    return this.db.transaction(() => {
      const n = this.db.prepare(RELEASE_CODE).run(at, id).changes;
      if (n) this.db.prepare(RELEASE_BINDINGS).run(at, id);
      return n > 0;
    })();
  }

  async redeem(codeId: string, binding: Binding): Promise<Redeemed> {
    // IMMEDIATE takes the write lock first: `serve --workers` processes redeem one at a time.
    const run = this.db.transaction((): Redeemed => {
      const code = this.db.prepare('SELECT * FROM codes WHERE id = ?').get(codeId) as CodeRow | undefined;
      const existing = this.db.prepare('SELECT * FROM bindings WHERE mac = ?').get(binding.mac) as BindingRow | undefined;
      const c = code && codeOf(code);
      const taken = !!c?.placeholder && !!this.db.prepare("SELECT 1 FROM bindings WHERE placeholder = ? AND state = 'enrolled'").get(c.placeholder);
      const d = decideRedeem(c, existing && bindingOf(existing), taken, binding.boundAt);
      if (!d.write) return 'same' in d ? { ok: true, binding: d.same } : { ok: false, reason: d.refused };
      if (this.db.prepare(UPSERT_BINDING).run(...bindingParams(binding)).changes === 0) return { ok: false, reason: 'already bound' };
      this.db.prepare('UPDATE codes SET used = used + 1 WHERE id = ?').run(codeId);
      return { ok: true, binding };
    });
    return run.immediate();
  }

  async listBindings(): Promise<Binding[]> {
    return (this.db.prepare('SELECT * FROM bindings ORDER BY mac').all() as BindingRow[]).map(bindingOf);
  }

  async setBindingState(mac: string, state: BindingState, at: string): Promise<boolean> {
    return this.db.prepare('UPDATE bindings SET state = ?, changed_at = ? WHERE mac = ?').run(state, at, mac).changes > 0;
  }

  async schemaVersion(): Promise<number> {
    return (this.db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  }

  /** `PRAGMA integrity_check`: 'ok' or the problems (for tests and `deskset migrate`). */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('\n');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
