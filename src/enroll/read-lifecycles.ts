// The facts the enrollment lifecycles are judged from, read from the state store. A server
// knows its own locks (the enumeration guard); the CLI, which has none, reads the locks every
// replica wrote to the audit log within the lockout time.

import type { AuditEntry, AuditQuery, Page } from '../store/contract.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Lifecycles } from '../inventory/view.js';
import type { CodeStore } from './contract.js';
import { LOCK_AUDIT_ACTION, macLifecycles, placeholderLifecycles } from './lifecycle.js';

export type LifecycleStore = Pick<CodeStore, 'listCodes' | 'listBindings'> & { listAudit(q?: AuditQuery): Promise<Page<AuditEntry>> };

/** Undefined when enrollment is off: no row gets a state. */
export async function readLifecycles(store: LifecycleStore, snap: Snapshot, now: Date, locked?: ReadonlySet<string>): Promise<Lifecycles | undefined> {
  if (!snap.config.enrollment.enabled) return undefined;
  const [codes, bindings] = await Promise.all([store.listCodes(), store.listBindings()]);
  const since = new Date(now.getTime() - snap.config.security.lockout.durationS * 1000).toISOString();
  const locks = locked ?? new Set((await store.listAudit({ action: LOCK_AUDIT_ACTION, since, limit: 1000 })).items.flatMap((e) => (e.target ? [e.target] : [])));
  return { macs: macLifecycles({ codes, bindings, locked: locks, now }), placeholders: placeholderLifecycles(snap.profiles.placeholders.keys(), { codes, bindings, now }) };
}
