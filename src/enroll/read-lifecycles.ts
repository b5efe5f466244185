// The facts the enrollment lifecycles are judged from, read from the state store. Locks are
// read from the audit log, where every replica writes the ones its enumeration guard makes, so
// the CLI and each server see them all.

import type { AuditEntry, AuditQuery, Page } from '../store/contract.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Lifecycles } from '../inventory/view.js';
import type { CodeStore } from './contract.js';
import type { Binding } from './bindings.js';
import { LOCK_AUDIT_ACTION, macLifecycles, placeholderLifecycles } from './lifecycle.js';

export type LifecycleStore = Pick<CodeStore, 'listCodes' | 'listBindings'> & { listAudit(q?: AuditQuery): Promise<Page<AuditEntry>> };

/** Undefined when enrollment is off: no row gets a state. `bindings`: when the caller has read them already. */
export async function readLifecycles(store: LifecycleStore, snap: Snapshot, now: Date, read?: { bindings: readonly Binding[] }): Promise<Lifecycles | undefined> {
  if (!snap.config.enrollment.enabled) return undefined;
  const [codes, bindings] = await Promise.all([store.listCodes(), read?.bindings ?? store.listBindings()]);
  const since = new Date(now.getTime() - snap.config.security.lockout.durationS * 1000).toISOString();
  const locks = new Set((await store.listAudit({ action: LOCK_AUDIT_ACTION, since, limit: 1000 })).items.flatMap((e) => (e.target ? [e.target] : [])));
  return { macs: macLifecycles({ codes, bindings, locked: locks, now }), placeholders: placeholderLifecycles(snap.profiles.placeholders.keys(), { codes, bindings, now }) };
}
