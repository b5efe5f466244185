// `deskset explain`: every effective value of a device and the file:line that set it, with
// the values it overrode beneath. Built as a tree first (the same tree prints as text and as
// JSON), in the spirit of Hiera's `lookup --explain`.

import { formatLoc } from './diagnostics.js';
import { findPath, type EMap, type ENode, type Origin, type Prior } from './merge.js';
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
  let start: { node: ENode; path: string[] } | undefined = { node: root, path: [] };
  if (opts.key) {
    // Keys are relative to settings (as admins write them), or to the profile root.
    start = findPath(root, `settings.${opts.key}`) ?? findPath(root, opts.key);
    if (!start) return removalOf(root, `settings.${opts.key}`, hideDeep) ?? removalOf(root, opts.key, hideDeep);
  }
  const priors = (key: string, ps: Prior[]) => ps.map((p) => ({ value: hideDeep(key, p.value), ...origin(p.origin) }));
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

/** A key that is absent because a layer removed it with null: explain the removal. */
function removalOf(root: EMap, dotted: string, hideDeep: (key: string, v: unknown) => unknown): Explanation | undefined {
  const cut = dotted.lastIndexOf('.');
  const parent = cut === -1 ? { node: root as ENode, path: [] as string[] } : findPath(root, dotted.slice(0, cut));
  if (!parent || parent.node.kind !== 'map') return undefined;
  const last = dotted.slice(cut + 1);
  const r = parent.node.removed.find((x) => x.key === last);
  if (!r) return undefined;
  const key = [...parent.path, last].join('.');
  return { values: [], removed: [{ key, removedBy: origin(r.origin), was: r.previous.map((p) => ({ value: hideDeep(key, p.value), ...origin(p.origin) })) }] };
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
