// Forward-only schema migrations, one module per version, each applied in its own
// transaction and recorded in schema_migrations. A database recorded at a version this
// deskset does not know was migrated by a newer one: we refuse to touch it.

import { StoreError } from '../contract.js';
import { m0001 } from './0001_init.js';
import { m0002 } from './0002_import_tokens_json.js';
import { m0003 } from './0003_enrollment.js';
import { m0004 } from './0004_uploads.js';

export type { Migration, MigrationContext, MigrationTx } from './types.js';
import type { Migration } from './types.js';

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004];
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

/** The migrations to apply on a database at `current`, or a refusal when it is newer than us. */
export function pending(current: number, where: string): Migration[] {
  if (current > LATEST_VERSION) {
    throw new StoreError('NEWER_SCHEMA', `${where}: the state database is at schema version ${current}, but this deskset knows versions up to ${LATEST_VERSION}: it was migrated by a newer deskset. Upgrade deskset (or point state: at another database); nothing was changed.`);
  }
  return MIGRATIONS.filter((m) => m.version > current);
}

/** Split a migration's SQL into statements (no semicolons inside our literals). */
export function statements(sql: string): string[] {
  return sql.split(';').map((s) => s.trim()).filter(Boolean);
}
