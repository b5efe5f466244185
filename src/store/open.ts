// Open the state store deskset.yaml names (`state:`), migrating it to this deskset's schema.

import path from 'node:path';
import type { RootConfig } from '../config/root-config.js';
import { STATE_DB_FILE } from './config.js';
import type { StateStore } from './contract.js';
import { openPostgresStore } from './postgres/index.js';
import { openSqliteStore } from './sqlite/index.js';

/** The SQLite file a root uses (absolute), or undefined when its store is PostgreSQL or off. */
export function sqliteFile(rootDir: string, config: RootConfig): string | undefined {
  if (config.state.kind !== 'sqlite') return undefined;
  return config.state.file ? path.resolve(rootDir, config.state.file) : path.join(path.resolve(rootDir, config.stateDir), STATE_DB_FILE);
}

/** The root's state store, migrated; undefined for `state: off`. Throws StoreError when it cannot. */
export async function openStateStore(rootDir: string, config: RootConfig): Promise<StateStore | undefined> {
  const stateDir = path.resolve(rootDir, config.stateDir);
  if (config.state.kind === 'off') return undefined;
  if (config.state.kind === 'postgres') return openPostgresStore({ url: config.state.url, stateDir });
  return openSqliteStore({ file: sqliteFile(rootDir, config)!, stateDir });
}
