// Importing into a root that already has profiles. The rule: nothing the root's existing phones
// read changes. So the import's global and model layers are not merged into global.yaml and
// models/*.yaml (that would change every existing phone): they become groups of this import,
// `import-N-global` and `import-N-<model>`, which only the imported devices list, and which
// remove (null) whatever the root's own global and model files set that the input did not.
// Device files that already exist are conflicts, never overwritten.

import { parse } from 'yaml';
import type { Entry, LayerDoc, Layers } from './layers.js';
import { pathKey } from './layers.js';
import type { Subject, Vendor } from './types.js';
import { VENDORS } from './types.js';

/** True when the root already holds profiles: the import adds to it. */
export function isExistingRoot(existing: ReadonlyMap<string, string>): boolean {
  return [...existing.keys()].some((p) => p.startsWith('profiles/'));
}

/** The first N with no `profiles/groups/import-N-…` file: this import's group prefix. */
export function batchPrefix(existing: ReadonlyMap<string, string>): string {
  for (let n = 1; ; n++) if (![...existing.keys()].some((p) => p.startsWith(`profiles/groups/import-${n}-`))) return `import-${n}`;
}

/** Every settings leaf of a profile text as layer paths (vendor maps to their keys, the rest to non-map values). */
export function settingsLeaves(text: string | undefined): string[][] {
  if (text === undefined) return [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return [];
  }
  const settings = (doc as { settings?: unknown } | null)?.settings;
  const out: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    const isMap = v !== null && typeof v === 'object' && !Array.isArray(v);
    // Vendor maps hold parameters by name (a name may contain dots): stop at vendor.map.key.
    if (isMap && !(path.length === 3 && (VENDORS as readonly string[]).includes(path[0]!))) for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, [...path, k]);
    else if (path.length) out.push(path);
  };
  walk(settings, []);
  return out;
}

/**
 * Rewrites the layers so that they add to `existing`: the global and model layers become
 * groups the imported devices list first. `heads` are firmware policies per model ('' for
 * all); they move to the same groups. Returns the head of each new group.
 */
export function asAddition(layers: Layers, subjects: Subject[], existing: ReadonlyMap<string, string>, vendors: Vendor[], heads: Map<string, Record<string, unknown>>): Map<string, Record<string, unknown> | undefined> {
  const prefix = batchPrefix(existing);
  const groupHeads = new Map<string, Record<string, unknown> | undefined>();
  const relevant = (path: string[]) => !(VENDORS as readonly string[]).includes(path[0]!) || vendors.includes(path[0] as Vendor);
  /** The layer's own entries, and null for what the root's file sets that the layer does not. */
  const sets = (doc: LayerDoc, path: string[]) => [...doc.values()].some((e: Entry) => e.value !== null && (pathKey(e.path) === pathKey(path) || pathKey(path).startsWith(`${pathKey(e.path)}\u0000`)));
  const withNulls = (doc: LayerDoc, file: string, above?: LayerDoc): LayerDoc => {
    const out: LayerDoc = new Map(doc);
    for (const path of settingsLeaves(existing.get(file))) {
      // What this layer (or the import's global group before it) sets replaces the root's value anyway.
      if (!relevant(path) || out.has(pathKey(path)) || sets(out, path) || (above && sets(above, path))) continue;
      out.set(pathKey(path), { path, value: null, comments: [] });
    }
    return out;
  };
  const renamed = new Map<string, string>();
  const groups: Layers['groups'] = new Map();
  const globalName = `${prefix}-global`;
  groups.set(globalName, { doc: withNulls(layers.global, 'profiles/global.yaml'), description: 'what the imported files gave every phone (this root\'s global.yaml is left as it is; its values these phones did not have are removed here)' });
  groupHeads.set(globalName, heads.get(''));
  const models = new Set([...layers.devices.values()].map((d) => d.subject.model).filter((m): m is string => !!m));
  for (const m of layers.models.keys()) models.add(m);
  for (const m of heads.keys()) if (m) models.add(m);
  for (const m of [...models].sort()) {
    const doc = withNulls(layers.models.get(m) ?? new Map(), `profiles/models/${m}.yaml`, layers.global);
    if (!doc.size && !heads.get(m)) continue;
    const name = `${prefix}-${m.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
    groups.set(name, { doc, description: `what the imported files gave every ${m} (this root's models/${m}.yaml is left as it is)` });
    groupHeads.set(name, heads.get(m));
  }
  for (const [g, x] of layers.groups) {
    const name = `${prefix}-${g.replace(/^import-/, '')}`;
    renamed.set(g, name);
    groups.set(name, x);
  }
  // Devices (and the probes the round trip renders) list this import's groups first.
  const listed = (s: Subject) => {
    const own = s.model ? `${prefix}-${s.model.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}` : undefined;
    return [globalName, ...(own && groups.has(own) ? [own] : []), ...s.groups.map((g) => renamed.get(g) ?? g)];
  };
  for (const d of layers.devices.values()) {
    d.groups = listed(d.subject);
    d.subject.groups = d.groups;
  }
  for (const s of subjects) if (s.probe) s.groups = listed(s);
  layers.global = new Map();
  layers.models = new Map();
  layers.groups = groups;
  return groupHeads;
}
