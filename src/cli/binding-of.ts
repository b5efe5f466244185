// The binding a code made for one MAC, for CLI commands that explain a device (explain).
// Read from the state store only when enrollment is on, so a root without a store is untouched.

import { existsSync } from 'node:fs';
import type { Diagnostic } from '../check/diagnostics.js';
import type { Binding } from '../enroll/bindings.js';
import { boundDevices } from '../enroll/bindings.js';
import { StoreError } from '../store/contract.js';
import { openStateStore, sqliteFile } from '../store/open.js';
import type { DeviceEntry } from '../config/profiles.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { openRootState } from './state.js';

export interface BoundDevice {
  binding: Binding;
  /** The device the binding makes, unless a file wins or the binding cannot apply. */
  device?: DeviceEntry;
}

export async function bindingOf(snap: Snapshot, mac: string, command: string): Promise<BoundDevice | undefined> {
  if (!snap.config.enrollment.enabled) return undefined;
  const state = await openRootState(snap.rootDir, command);
  try {
    const binding = (await state?.store?.listBindings())?.find((b) => b.mac === mac);
    if (!binding) return undefined;
    return { binding, device: boundDevices(snap.profiles, snap.catalog, [binding]).devices[0] };
  } finally {
    await state?.store?.close();
  }
}

/** `bound by activation code …1234 on 2026-12-02T10:11:12Z, from 10.1.2.3 (enrolled)` */
export function describeBinding(b: Binding): string {
  return `bound by ${b.kind} code …${b.tail} on ${b.boundAt}, from ${b.boundFrom} (${b.state})`;
}

/**
 * For `check`: bindings a device file now shadows, and bindings that no longer apply. Read
 * only where a state store already is (check never makes one); one that cannot be reached is
 * a note, not an error: CI checks a root without the fleet's database.
 */
export async function bindingFindings(snap: Snapshot): Promise<Diagnostic[]> {
  if (!snap.config.enrollment.enabled) return [];
  const file = sqliteFile(snap.rootDir, snap.config);
  if (file !== undefined && !existsSync(file)) return [];
  try {
    const store = await openStateStore(snap.rootDir, snap.config);
    if (!store) return [];
    try {
      return boundDevices(snap.profiles, snap.catalog, await store.listBindings()).diagnostics;
    } finally {
      await store.close();
    }
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    return [{ code: 'BINDINGS_UNREAD', severity: 'info', message: `the bindings made by codes were not checked: ${e.message}` }];
  }
}
