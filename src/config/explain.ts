// `deskset explain`: every effective value of a device and the file:line that set it, with
// the values it overrode beneath. Built as a tree first (the same tree prints as text and as
// JSON), in the spirit of Hiera's `lookup --explain`.

import { formatLoc } from '../check/diagnostics.js';
import type { EMap, ENode, Origin, Prior, Removal } from './merge.js';
import { REDACTED, isSecretKey } from './redact.js';
import { toPlain } from './yaml-tree.js';

export interface ExplainedValue {
  key: string;
  value: unknown;
  setBy: ExplainedOrigin;
  overrode: Array<{ value: unknown } & ExplainedOrigin>;
}

export interface ExplainedOrigin {
  layer: string;
  at: string;
}

export interface ExplainedRemoval {
  key: string;
  removedBy: ExplainedOrigin;
  was: Array<{ value: unknown } & ExplainedOrigin>;
}

export interface Explanation {
  values: ExplainedValue[];
  removed: ExplainedRemoval[];
}

function origin(o: Origin): ExplainedOrigin {
  return { layer: o.layer.kind === 'global' ? 'global' : `${o.layer.kind} ${o.layer.name}`, at: formatLoc(o.loc) };
}

export function explainTree(root: EMap, opts: { key?: string; showSecrets?: boolean; secrets?: ReadonlySet<string>; extraKeys?: RegExp } = {}): Explanation | undefined {
  const out: Explanation = { values: [], removed: [] };
  const hide = (key: string, v: unknown): unknown =>
    !opts.showSecrets && (v === null || typeof v !== 'object') && (isSecretKey(key, opts.extraKeys) || (typeof v === 'string' && opts.secrets?.has(v))) ? REDACTED : v;
  const hideDeep = (key: string, v: unknown): unknown => {
    if (opts.showSecrets) return v;
    if (Array.isArray(v)) return v.map((x) => hideDeep(key, x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hideDeep(k, x)]));
    return hide(key, v);
  };
  const priors = (key: string, ps: Prior[]) => ps.map((p) => ({ value: hideDeep(key, p.value), ...origin(p.origin) }));
  let start: { node: ENode; path: string[] } = { node: root, path: [] };
  if (opts.key) {
    // Keys are relative to settings (as admins write them), or to the profile root.
    const found = resolveKeyPath(root, `settings.${opts.key}`) ?? resolveKeyPath(root, opts.key);
    if (!found) return undefined;
    if (found.kind === 'removed') {
      const key = found.path.join('.');
      return { values: [], removed: [{ key, removedBy: origin(found.removal.origin), was: priors(key, found.removal.previous) }] };
    }
    start = found;
  }
  const walk = (n: ENode, path: string[]): void => {
    const key = path.join('.');
    if (n.kind === 'leaf') {
      out.values.push({ key, value: hideDeep(key, toPlain(n.node)), setBy: origin(n.origin), overrode: priors(key, n.overridden) });
      return;
    }
    for (const r of n.removed) {
      const k = [...path, r.key].join('.');
      out.removed.push({ key: k, removedBy: origin(r.origin), was: priors(k, r.previous) });
    }
    for (const [k, c] of n.children) walk(c, [...path, k]);
  };
  walk(start.node, start.path);
  return out;
}

export type ResolvedKey = { kind: 'node'; node: ENode; path: string[] } | { kind: 'removed'; removal: Removal; path: string[] };

/**
 * Find a dotted key path in the merged tree. Vendor parameter names contain dots
 * (`polycom.params` has a key `call.autoAnswer.SIP`), so the path is matched against the keys
 * present at each level, longest first, never split blindly; a key a layer removed with null
 * resolves to its removal, so `explain` can say who removed it.
 */
export function resolveKeyPath(root: EMap, dotted: string): ResolvedKey | undefined {
  if (dotted === '') return { kind: 'node', node: root, path: [] };
  const keys = [...new Set([...root.children.keys(), ...root.removed.map((r) => r.key)])].sort((a, b) => b.length - a.length);
  for (const k of keys) {
    const child = root.children.get(k);
    if (dotted === k) {
      if (child) return { kind: 'node', node: child, path: [k] };
      const removal = root.removed.find((r) => r.key === k)!;
      return { kind: 'removed', removal, path: [k] };
    }
    if (child?.kind === 'map' && dotted.startsWith(`${k}.`)) {
      const found = resolveKeyPath(child, dotted.slice(k.length + 1));
      if (found) return { ...found, path: [k, ...found.path] };
    }
  }
  return undefined;
}

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  const width = Math.max(8, ...e.values.flatMap((v) => [v.setBy.layer.length, ...v.overrode.map((o) => o.layer.length)]));
  for (const v of e.values) {
    lines.push(`${v.key} = ${JSON.stringify(v.value)}`);
    lines.push(`    set by    ${v.setBy.layer.padEnd(width)}  ${v.setBy.at}`);
    for (const o of v.overrode) lines.push(`    overrode  ${o.layer.padEnd(width)}  ${o.at}  was ${JSON.stringify(o.value)}`);
  }
  for (const r of e.removed) {
    lines.push(`${r.key} (removed)`);
    lines.push(`    removed by  ${r.removedBy.layer}  ${r.removedBy.at}`);
    for (const o of r.was) lines.push(`    was         ${o.layer}  ${o.at}  ${JSON.stringify(o.value)}`);
  }
  return lines.join('\n');
}
