// PostgreSQL through `pg`: several deskset servers share one inventory, audit log, lockout
// counters and tokens. The same schema and behaviour as SQLite (one contract suite); the
// merge of a batch is the same pure code (merge.ts). Inventory batches from all servers are
// serialised by a transaction-scoped advisory lock: each batch reads, merges and writes its
// devices without another server's batch interleaving (batches are ~1 per second per server).

import pg from 'pg';
import {
  apiTokenId,
  keepFailuresSince,
  newApiToken,
  pageOf,
  redactUrl,
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
  type Page,
  type ProvisionResult,
  type RecordOptions,
  type StateStore,
  type UrlTokenEntry,
} from '../contract.js';
import { byMac, mergeDevice } from '../merge.js';
import { MIGRATIONS_TABLE, pending, statements, type MigrationContext } from '../migrations/index.js';
import { bindingOf, bindingParams, codeOf, codeParams, decideRedeem, INSERT_CODE, RELEASE_BINDINGS, RELEASE_CODE, UPSERT_BINDING, type BindingRow, type CodeRow } from '../codes-sql.js';
import type { Binding, BindingState } from '../../enroll/bindings.js';
import type { CodeRecord, Redeemed } from '../../enroll/contract.js';
import type { UploadBackend, UploadLimits } from '../../service/upload-backend.js';
import { PgUploads } from './uploads.js';
import { apiInfo, auditFilter, auditOf, deviceFilter, deviceOf, emptyCounts, type ApiRowT, type AuditRow, type DeviceRow, type FileRow } from '../sql.js';

/** Advisory lock keys (arbitrary, fixed): migrations, inventory batches. */
const LOCK_MIGRATE = 0x6465736b;
const LOCK_INVENTORY = 0x64657369;

export interface PostgresOptions {
  url: string;
  stateDir?: string;
  /** Connections in the pool (default 4). */
  max?: number;
}

/** `?` placeholders to `$1, $2, …` (our SQL has no `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Querier = Pick<pg.PoolClient, 'query'>;

export async function openPostgresStore(opts: PostgresOptions): Promise<PostgresStore> {
  const shown = redactUrl(opts.url);
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.max ?? 4, connectionTimeoutMillis: 10_000 });
  // An idle client's error (the server restarted) would otherwise be an uncaught 'error' event.
  pool.on('error', () => undefined);
  // The same for a client in use: a connection killed mid-query (a restart, pg_terminate_backend)
  // rejects that query, and then emits 'error' on the client, which would end the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new StoreError('UNAVAILABLE', `${shown}: cannot connect to PostgreSQL (${(e as Error).message})`);
  }
  try {
    await migrate(client, shown, { stateDir: opts.stateDir });
  } catch (e) {
    client.release();
    await pool.end().catch(() => undefined);
    throw e;
  }
  client.release();
  return new PostgresStore(pool, shown);
}

async function migrate(c: pg.PoolClient, where: string, ctx: MigrationContext): Promise<void> {
  // Two servers starting at once: one migrates, the other waits and then finds nothing to do.
  await c.query('SELECT pg_advisory_lock($1)', [LOCK_MIGRATE]);
  try {
    await c.query(MIGRATIONS_TABLE);
    const current = Number((await c.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v);
    for (const m of pending(current, where)) {
      const after: Array<() => void> = [];
      await c.query('BEGIN');
      try {
        for (const s of statements(m.postgres)) await c.query(s);
        await m.after?.({ run: async (sql, params = []) => void (await c.query(numbered(sql), params)) }, { ...ctx, onCommitted: (fn) => after.push(fn) });
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw new StoreError('MIGRATION_FAILED', `${where}: migration ${m.version} (${m.name}) failed, nothing of it applied: ${(e as Error).message}`);
      }
      for (const fn of after) fn();
    }
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [LOCK_MIGRATE]).catch(() => undefined);
  }
}

export class PostgresStore implements StateStore {
  readonly kind = 'postgres';

  constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
  ) {}

  private async q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], on: Querier = this.pool): Promise<R[]> {
    return (await on.query<R>(numbered(sql), params)).rows;
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  private async readDevices(macs: string[], on: Querier = this.pool): Promise<Map<string, DeviceRecord>> {
    const out = new Map<string, DeviceRecord>();
    if (!macs.length) return out;
    const rows = await this.q<DeviceRow>('SELECT * FROM devices WHERE mac = ANY(?)', [macs], on);
    const files = new Map<string, FileRow[]>();
    for (const f of await this.q<FileRow>('SELECT * FROM device_files WHERE mac = ANY(?) ORDER BY mac, name', [macs], on)) (files.get(f.mac) ?? files.set(f.mac, []).get(f.mac)!).push(f);
    for (const r of rows) out.set(r.mac, deviceOf(r, files.get(r.mac) ?? []));
    return out;
  }

  async recordObservations(batch: readonly Observation[], opts: RecordOptions): Promise<void> {
    if (!batch.length) return;
    const groups = byMac(batch);
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_INVENTORY]);
      const existing = await this.readDevices([...groups.keys()], c);
      const d: Record<string, unknown[]> = { mac: [], vendor: [], model: [], firmware: [], hardware: [], ip: [], site: [], configured: [], first_seen: [], last_seen: [], result: [] };
      const f: Record<string, unknown[]> = { mac: [], name: [], file_id: [], status: [], bytes: [], etag: [], at: [] };
      for (const [mac, obs] of groups) {
        const had = existing.get(mac);
        const m = mergeDevice(had, obs);
        const result = opts.judge({ ...m, result: had?.result ?? 'never' });
        const row = { mac, vendor: m.vendor ?? null, model: m.model ?? null, firmware: m.firmware ?? null, hardware: m.hardware ?? null, ip: m.ip ?? null, site: m.site ?? null, configured: m.configured ? 1 : 0, first_seen: m.firstSeen, last_seen: m.lastSeen, result };
        for (const k of Object.keys(d)) d[k]!.push(row[k as keyof typeof row]);
        const touched = new Set(obs.flatMap((o) => (o.file ? [o.file.name] : [])));
        for (const x of m.files) {
          if (!touched.has(x.name)) continue;
          const fr = { mac, name: x.name, file_id: x.fileId ?? null, status: x.status, bytes: x.bytes, etag: x.etag ?? null, at: x.at };
          for (const k of Object.keys(f)) f[k]!.push(fr[k as keyof typeof fr]);
        }
      }
      // One statement per table for the whole batch: unnest() turns the column arrays into rows.
      await c.query(
        `INSERT INTO devices (mac, vendor, model, firmware, hardware, ip, site, configured, first_seen, last_seen, result)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[])
         ON CONFLICT (mac) DO UPDATE SET vendor = excluded.vendor, model = excluded.model, firmware = excluded.firmware, hardware = excluded.hardware,
           ip = excluded.ip, site = excluded.site, configured = excluded.configured, first_seen = excluded.first_seen, last_seen = excluded.last_seen, result = excluded.result`,
        Object.values(d),
      );
      if (f.mac!.length) {
        await c.query(
          `INSERT INTO device_files (mac, name, file_id, status, bytes, etag, at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::text[])
           ON CONFLICT (mac, name) DO UPDATE SET file_id = excluded.file_id, status = excluded.status, bytes = excluded.bytes, etag = excluded.etag, at = excluded.at`,
          Object.values(f),
        );
      }
      const unknown = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM devices WHERE configured = 0')).rows[0]!.n);
      if (unknown > opts.maxUnknown) await c.query('DELETE FROM devices WHERE mac IN (SELECT mac FROM devices WHERE configured = 0 ORDER BY last_seen, mac LIMIT $1)', [unknown - opts.maxUnknown]);
    });
  }

  async getDevice(mac: string): Promise<DeviceRecord | undefined> {
    return (await this.readDevices([mac])).get(mac);
  }

  async listDevices(q?: DeviceQuery): Promise<Page<DeviceRecord>> {
    const { offset, limit } = pageOf(q);
    const f = deviceFilter(q);
    const total = Number((await this.q<{ n: string }>(`SELECT count(*) AS n FROM devices${f.sql}`, f.params))[0]!.n);
    const macs = (await this.q<{ mac: string }>(`SELECT mac FROM devices${f.sql} ORDER BY mac LIMIT ? OFFSET ?`, [...f.params, limit, offset])).map((r) => r.mac);
    const found = await this.readDevices(macs);
    return { total, items: macs.flatMap((m) => found.get(m) ?? []) };
  }

  async countByResult(): Promise<Record<ProvisionResult, number>> {
    const out = emptyCounts();
    for (const r of await this.q<{ result: ProvisionResult; n: string }>('SELECT result, count(*) AS n FROM devices GROUP BY result')) out[r.result] = Number(r.n);
    return out;
  }

  async forgetDevice(mac: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM devices WHERE mac = $1', [mac])).rowCount ?? 0) > 0;
  }

  async appendAudit(e: AuditInput): Promise<AuditEntry> {
    const r = await this.q<{ id: string }>('INSERT INTO audit (at, actor, source, action, result, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id', [e.at, e.actor, e.source, e.action, e.result, e.target ?? null, e.detail === undefined ? null : JSON.stringify(e.detail)]);
    return { ...e, id: Number(r[0]!.id) };
  }

  async listAudit(q?: AuditQuery): Promise<Page<AuditEntry>> {
    const { offset, limit } = pageOf(q);
    const f = auditFilter(q);
    const total = Number((await this.q<{ n: string }>(`SELECT count(*) AS n FROM audit${f.sql}`, f.params))[0]!.n);
    const rows = await this.q<AuditRow>(`SELECT * FROM audit${f.sql} ORDER BY id DESC LIMIT ? OFFSET ?`, [...f.params, limit, offset]);
    return { total, items: rows.map(auditOf) };
  }

  async recordLoginFailure(source: string, user: string, at: string): Promise<void> {
    await this.q('DELETE FROM login_failures WHERE at < ?', [keepFailuresSince(at)]);
    await this.q('INSERT INTO login_failures (source, username, at) VALUES (?, ?, ?)', [source, user, at]);
  }

  async clearLoginFailures(source: string, user: string): Promise<void> {
    await this.q('DELETE FROM login_failures WHERE source = ? AND username = ?', [source, user]);
  }

  async countLoginFailures(source: string, user: string, since: string): Promise<number> {
    return Number((await this.q<{ n: string }>('SELECT count(*) AS n FROM login_failures WHERE source = ? AND username = ? AND at >= ?', [source, user, since]))[0]!.n);
  }

  async putUrlToken(e: UrlTokenEntry): Promise<void> {
    await this.tx(async (c) => {
      await this.q('DELETE FROM url_tokens WHERE mac = ? OR hash = ?', [e.mac, e.hash], c);
      await this.q('INSERT INTO url_tokens (hash, mac, issued_at) VALUES (?, ?, ?)', [e.hash, e.mac, e.issuedAt], c);
    });
  }

  async getUrlToken(hash: string): Promise<UrlTokenEntry | undefined> {
    const r = (await this.q<{ hash: string; mac: string; issued_at: string }>('SELECT hash, mac, issued_at FROM url_tokens WHERE hash = ?', [hash]))[0];
    return r && { hash: r.hash, mac: r.mac, issuedAt: r.issued_at };
  }

  async deleteUrlToken(mac: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM url_tokens WHERE mac = $1', [mac])).rowCount ?? 0) > 0;
  }

  async listUrlTokens(): Promise<UrlTokenEntry[]> {
    return (await this.q<{ hash: string; mac: string; issued_at: string }>('SELECT hash, mac, issued_at FROM url_tokens ORDER BY mac')).map((r) => ({ hash: r.hash, mac: r.mac, issuedAt: r.issued_at }));
  }

  async issueApiToken(role: ApiRole, label: string, at = new Date().toISOString()): Promise<{ token: string; info: ApiTokenInfo }> {
    const t = newApiToken();
    await this.q('INSERT INTO api_tokens (id, hash, role, label, created_at) VALUES (?, ?, ?, ?, ?)', [t.id, t.hash, role, label, at]);
    return { token: t.token, info: { id: t.id, role, label, createdAt: at } };
  }

  async verifyApiToken(token: string, at = new Date().toISOString()): Promise<ApiTokenInfo | undefined> {
    const id = apiTokenId(token);
    if (!id) return undefined;
    const r = (await this.q<ApiRowT>('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND hash = ? RETURNING *', [at, id, sha256Hex(token)]))[0];
    return r && apiInfo(r);
  }

  async listApiTokens(): Promise<ApiTokenInfo[]> {
    return (await this.q<ApiRowT>('SELECT * FROM api_tokens ORDER BY created_at, id')).map(apiInfo);
  }

  async revokeApiToken(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM api_tokens WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  // ── codes and bindings
  async insertCode(c: CodeRecord): Promise<void> {
    await this.q(INSERT_CODE, codeParams(c));
  }

  async findCodeByHash(hash: string): Promise<CodeRecord | undefined> {
    const r = (await this.q<CodeRow>('SELECT * FROM codes WHERE hash = ?', [hash]))[0];
    return r && codeOf(r);
  }

  async listCodes(): Promise<CodeRecord[]> {
    return (await this.q<CodeRow>('SELECT * FROM codes ORDER BY issued_at, id')).map(codeOf);
  }

  async releaseCode(id: string, at: string): Promise<boolean> {
    return this.tx(async (c) => {
      const n = (await c.query(numbered(RELEASE_CODE), [at, id])).rowCount ?? 0;
      if (n) await c.query(numbered(RELEASE_BINDINGS), [at, id]);
      return n > 0;
    });
  }

  async redeem(codeId: string, binding: Binding): Promise<Redeemed> {
    try {
      return await this.tx(async (c) => {
        // The code's row is locked until commit: racing redemptions of one code, from any
        // server, take turns, and each sees the uses the others counted.
        const code = (await this.q<CodeRow>('SELECT * FROM codes WHERE id = ? FOR UPDATE', [codeId], c))[0];
        const existing = (await this.q<BindingRow>('SELECT * FROM bindings WHERE mac = ?', [binding.mac], c))[0];
        const k = code && codeOf(code);
        const taken = !!k?.placeholder && (await this.q("SELECT 1 FROM bindings WHERE placeholder = ? AND state = 'enrolled'", [k.placeholder], c)).length > 0;
        const d = decideRedeem(k, existing && bindingOf(existing), taken, binding.boundAt);
        if (!d.write) return 'same' in d ? { ok: true, binding: d.same } : { ok: false, reason: d.refused };
        if (((await c.query(numbered(UPSERT_BINDING), bindingParams(binding))).rowCount ?? 0) === 0) throw new AlreadyBound();
        await c.query('UPDATE codes SET used = used + 1 WHERE id = $1', [codeId]);
        return { ok: true, binding } as Redeemed;
      });
    } catch (e) {
      // The same MAC racing with two codes, or a placeholder bound through another code: the
      // database's own constraints name the loser, whose transaction was rolled back whole.
      if (e instanceof AlreadyBound) return { ok: false, reason: 'already bound' };
      if ((e as { code?: string }).code === '23505') return { ok: false, reason: 'placeholder taken' };
      throw e;
    }
  }

  async listBindings(): Promise<Binding[]> {
    return (await this.q<BindingRow>('SELECT * FROM bindings ORDER BY mac')).map(bindingOf);
  }

  async setBindingState(mac: string, state: BindingState, at: string): Promise<boolean> {
    return ((await this.pool.query('UPDATE bindings SET state = $1, changed_at = $2 WHERE mac = $3', [state, at, mac])).rowCount ?? 0) > 0;
  }

  uploadBackend(limits: UploadLimits): UploadBackend {
    return new PgUploads(this.pool, limits);
  }

  async schemaVersion(): Promise<number> {
    return Number((await this.q<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations'))[0]!.v);
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

class AlreadyBound extends Error {}
