// Where a phone or a placeholder stands in enrollment, as `deskset devices` and the admin API
// show it (Avaya DES's device states). Pure: codes, bindings and locks in, states out.
//
//   placeholder  a placeholder no code is out for
//   code-issued  a code is out for it (a placeholder, or the MAC an activation code is pinned to)
//   enrolled     bound by a code, served from the binding
//   adopted      bound, and its device file is in the root now
//   released     its binding or its code was released
//   expired      its code expired unused
//   locked       wrong codes from some address locked it (for that address, for a while)

import type { Binding } from './bindings.js';
import { codeState } from './codes.js';
import type { CodeRecord } from './contract.js';

export const LIFECYCLES = ['placeholder', 'code-issued', 'enrolled', 'adopted', 'released', 'expired', 'locked'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

/** The audit action written when the enumeration guard locks a MAC (read back by the CLI, which has no guard). */
export const LOCK_AUDIT_ACTION = 'code.lock';

export interface EnrollmentFacts {
  codes: readonly CodeRecord[];
  bindings: readonly Binding[];
  /** MACs locked now, from any address. */
  locked: ReadonlySet<string>;
  now: Date;
}

/** A state for every MAC enrollment knows of: bound, pinned by a code, or locked. */
export function macLifecycles(f: EnrollmentFacts): Map<string, Lifecycle> {
  const out = new Map<string, Lifecycle>();
  for (const c of f.codes) {
    if (c.kind !== 'activation' || c.mac === undefined) continue;
    const s = codeState(c, f.now);
    // An enrolled pinned code shows through its binding below.
    if (s === 'code-issued' || s === 'expired' || s === 'released') out.set(c.mac, s);
  }
  for (const b of f.bindings) out.set(b.mac, b.state);
  // Last: a lock is what stops the phone now, whatever it was before.
  for (const mac of f.locked) out.set(mac, 'locked');
  return out;
}

/**
 * The state of each placeholder that no phone holds: a bound placeholder is shown on its
 * phone's MAC instead. Several codes for one placeholder: one out wins, then expired, then released.
 */
export function placeholderLifecycles(names: Iterable<string>, f: Omit<EnrollmentFacts, 'locked'>): Map<string, Lifecycle> {
  const held = new Set(f.bindings.filter((b) => b.placeholder !== undefined && b.state !== 'released').map((b) => b.placeholder!));
  const rank: Record<string, number> = { 'code-issued': 3, expired: 2, released: 1 };
  const best = new Map<string, Lifecycle>();
  for (const c of f.codes) {
    if (c.kind !== 'activation' || c.placeholder === undefined) continue;
    const s = codeState(c, f.now);
    if (!(s in rank)) continue;
    const was = best.get(c.placeholder);
    if (!was || rank[s]! > rank[was]!) best.set(c.placeholder, s as Lifecycle);
  }
  const out = new Map<string, Lifecycle>();
  for (const name of names) if (!held.has(name)) out.set(name, best.get(name) ?? 'placeholder');
  return out;
}
