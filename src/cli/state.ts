// Opening a root's state store from the CLI (devices, migrate, token): deskset.yaml read
// with its ${env:…}/${file:…} references resolved (the PostgreSQL URL is usually one), the
// store opened and migrated. Problems are printed; undefined means "exit 1".

import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasErrors } from '../check/diagnostics.js';
import { parseRootConfig, type RootConfig } from '../config/root-config.js';
import { loadRoot, readSecretFile } from '../io/load-root.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { StoreError, type StateStore } from '../store/contract.js';
import { openStateStore } from '../store/open.js';
import { printDiagnostics } from './common.js';

export interface RootState {
  rootDir: string;
  config: RootConfig;
  /** Undefined with `state: off`. */
  store?: StateStore;
}

export async function readRootConfig(root: string, command: string): Promise<{ rootDir: string; config: RootConfig } | undefined> {
  const rootDir = path.resolve(root);
  let text: string | undefined;
  try {
    text = await fsp.readFile(path.join(rootDir, 'deskset.yaml'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // Every key has a default, but the root must exist, or a typo in ROOT would quietly create `<typo>/var/`.
    const st = await fsp.stat(rootDir).catch(() => undefined);
    if (!st?.isDirectory()) {
      process.stderr.write(`deskset ${command}: ${root} is not a directory\n`);
      return undefined;
    }
  }
  const { config, diagnostics, secrets } = parseRootConfig(text, 'deskset.yaml', { env: (n) => process.env[n], readFile: (rel) => readSecretFile(rootDir, rel) });
  if (hasErrors(diagnostics)) {
    printDiagnostics(diagnostics, process.stderr, secrets);
    return undefined;
  }
  return { rootDir, config };
}

export async function openRootState(root: string, command: string): Promise<RootState | undefined> {
  const r = await readRootConfig(root, command);
  if (!r) return undefined;
  try {
    return { ...r, store: await openStateStore(r.rootDir, r.config) };
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    process.stderr.write(`deskset ${command}: ${e.message}\n`);
    return undefined;
  }
}

/**
 * For commands that join the store with the root (devices, devices adopt): the store and a
 * snapshot without errors, handed to `fn`, and the store closed after it. Problems are printed
 * and give 1; `storeOff` is what to say when the store is off (`state: off`).
 */
export async function withStoreAndRoot(root: string, command: string, storeOff: string, fn: (ctx: { rootDir: string; store: StateStore; snap: Snapshot }) => Promise<number>): Promise<number> {
  const state = await openRootState(root, command);
  if (!state) return 1;
  const { rootDir, store } = state;
  try {
    if (!store) {
      process.stderr.write(`deskset ${command}: ${storeOff} (state: off in deskset.yaml)\n`);
      return 1;
    }
    const snap = await loadRoot(rootDir);
    if (hasErrors(snap.diagnostics)) {
      printDiagnostics(snap.diagnostics, process.stderr, snap.secrets);
      return 1;
    }
    return await fn({ rootDir, store, snap });
  } finally {
    await store?.close();
  }
}
