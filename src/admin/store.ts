// The part of the state store (src/store/contract.ts) the admin API uses, and opening the
// store a root's deskset.yaml names (`state:`), for the server and `deskset admin token`.
// NOTE: if src/store/ grows its own opener, this one should defer to it.

import path from 'node:path';
import type { RootConfig } from '../config/root-config.js';
import { STATE_DB_FILE } from '../store/config.js';
import type { StateStore } from '../store/contract.js';
import { openPostgresStore } from '../store/postgres/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';

export type AdminStore = Pick<
  StateStore,
  'appendAudit' | 'listAudit' | 'recordLoginFailure' | 'clearLoginFailures' | 'countLoginFailures' | 'verifyApiToken' | 'getDevice' | 'listDevices'
>;

/** The store `state:` names, or undefined for `state: off`. */
export async function openStateStore(rootDir: string, config: Pick<RootConfig, 'state' | 'stateDir'>): Promise<StateStore | undefined> {
  const stateDir = path.resolve(rootDir, config.stateDir);
  const s = config.state;
  if (s.kind === 'off') return undefined;
  if (s.kind === 'postgres') return openPostgresStore({ url: s.url, stateDir });
  return openSqliteStore({ file: s.file ? path.resolve(rootDir, s.file) : path.join(stateDir, STATE_DB_FILE), stateDir });
}
