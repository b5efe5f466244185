// Which upload backend a root uses (`uploads.store`, docs/state.md): the state database when
// it is PostgreSQL (so every replica serves what a phone wrote to any of them), else files in
// the state directory. Used by `serve` and the CLI, so both read the same place.

import path from 'node:path';
import type { RootConfig } from '../config/root-config.js';
import { isInside } from '../io/confine.js';
import type { StateStore } from '../store/contract.js';
import { openStateStore } from '../store/open.js';
import type { UploadBackend, UploadLimits } from './upload-backend.js';
import { UploadStore } from './upload-store.js';

/** Where a root's uploads are kept. Pure. */
export function uploadsWhere(config: Pick<RootConfig, 'uploads' | 'state'>): 'disk' | 'database' {
  return config.uploads.store ?? (config.state.kind === 'postgres' ? 'database' : 'disk');
}

export function uploadLimits(config: Pick<RootConfig, 'uploads'>): UploadLimits {
  const up = config.uploads;
  return { maxFileBytes: up.maxFileBytes, maxLogBytes: up.maxLogBytes, maxDeviceBytes: up.maxDeviceBytes, logRetentionDays: up.logRetentionDays, maxConcurrentPerDevice: up.maxConcurrentPerDevice };
}

/**
 * The root's upload backend. `store` is its opened state store: needed for database uploads
 * (the configuration check already refused `store: database` without PostgreSQL).
 */
export function openUploads(rootDir: string, config: Pick<RootConfig, 'uploads' | 'state' | 'stateDir'>, store: StateStore | undefined): UploadBackend {
  if (uploadsWhere(config) === 'database') {
    if (!store?.uploadBackend) throw new Error('uploads.store: database needs the PostgreSQL state store');
    return store.uploadBackend(uploadLimits(config));
  }
  const stateDir = path.resolve(rootDir, config.stateDir);
  // A state directory inside the root (the default var/) must stay there: no writes through a symlink out.
  return new UploadStore({ dir: stateDir, within: isInside(rootDir, stateDir) ? rootDir : undefined, ...uploadLimits(config) });
}

/** For the CLI: run `fn` with the root's uploads, opening (and closing) the state store when they live there. */
export async function withRootUploads<T>(rootDir: string, config: RootConfig, fn: (uploads: UploadBackend) => Promise<T>): Promise<T> {
  const store = uploadsWhere(config) === 'database' ? await openStateStore(rootDir, config) : undefined;
  try {
    return await fn(openUploads(rootDir, config, store));
  } finally {
    await store?.close();
  }
}
