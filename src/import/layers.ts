// From per-subject effective values to layers. Values the input itself scoped (a file every
// phone loads, a model's common file, an Avaya branch) go to that layer; then, across the real
// devices, a value at least `minShare` of the devices (of a model, or of all) share moves up,
// and a deviation shared by at least `minGroup` devices becomes a group. Devices keep only
// what differs from what they inherit, with null where they lack an inherited key.

import { isSecretName } from '../vendors/avaya/script/index.js';
import { isSecretKey } from '../config/redact.js';
import type { Leaf, LeafValue } from './vocabulary.js';
import { VENDORS, type Subject, type Vendor } from './types.js';

export interface Entry {
  path: string[];
  /** null: an inherited key this layer removes. */
  value: LeafValue | null;
  comments: string[];
}

export type LayerDoc = Map<string, Entry>;

export interface Layers {
  global: LayerDoc;
  models: Map<string, LayerDoc>;
  groups: Map<string, { doc: LayerDoc; description: string }>;
  devices: Map<string, { subject: Subject; doc: LayerDoc; groups: string[] }>;
  /** Subjects whose inherited values the layers cannot express exactly (should not happen). */
  unexplained: Array<{ subject: Subject; key: string }>;
}

export interface LayerOptions {
  minShare: number;
  /** Smallest number of devices a shared deviation needs to become a group. */
  minGroup: number;
}

export interface SubjectLeaves {
  subject: Subject;
  leaves: Map<string, Leaf>;
}

export const pathKey = (path: readonly string[]): string => path.join('\u0000');
const same = (a: LeafValue | null | undefined, b: LeafValue | null | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Which vendor a settings path is for; undefined for the shared vocabulary. */
function vendorOf(path: readonly string[]): Vendor | undefined {
  return (VENDORS as readonly string[]).includes(path[0]!) ? (path[0] as Vendor) : undefined;
}

function entryOf(l: Leaf): Entry {
  const comments: string[] = [];
  for (const s of l.sources) for (const c of s.comments) if (!comments.includes(c)) comments.push(c);
  return { path: l.path, value: l.value, comments };
}

/** The most common value of `key` among `subjects` (by JSON), its count, and a leaf holding it. */
function majority(subjects: SubjectLeaves[], key: string): { leaf?: Leaf; count: number } {
  const counts = new Map<string, { n: number; leaf: Leaf }>();
  for (const s of subjects) {
    const l = s.leaves.get(key);
    if (!l) continue;
    const j = JSON.stringify(l.value);
    const c = counts.get(j);
    if (c) c.n++;
    else counts.set(j, { n: 1, leaf: l });
  }
  let best: { n: number; leaf: Leaf } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return { leaf: best?.leaf, count: best?.n ?? 0 };
}

export function buildLayers(all: SubjectLeaves[], opts: LayerOptions): Layers {
  const global: LayerDoc = new Map();
  const models = new Map<string, LayerDoc>();
  const groups = new Map<string, { doc: LayerDoc; description: string }>();
  const devices: Layers['devices'] = new Map();
  const unexplained: Layers['unexplained'] = [];
  const real = all.filter((s) => !s.subject.probe);

  // 1. What the input scoped itself.
  for (const s of all)
    for (const [k, l] of s.leaves) {
      if (l.scope === 'global' && !global.has(k)) global.set(k, entryOf(l));
    }
  // 2. Hoist to global: a value most devices share (among the devices of its vendor).
  if (real.length >= 2) {
    const keys = new Set(real.flatMap((s) => [...s.leaves.keys()]));
    for (const k of keys) {
      if (global.has(k)) continue;
      const v = vendorOf(k.split('\u0000'));
      const pool = v ? real.filter((s) => s.subject.vendor === v) : real;
      const { leaf, count } = majority(pool, k);
      if (leaf && pool.length >= 2 && count / pool.length >= opts.minShare && !unremovable(v, pool, k)) global.set(k, entryOf(leaf));
    }
  }
  // 3. Models: the input's model scope, nulls a model probe implies, then hoisting per model.
  const byModel = new Map<string, SubjectLeaves[]>();
  for (const s of all) {
    if (!s.subject.model) continue;
    const list = byModel.get(s.subject.model);
    if (list) list.push(s);
    else byModel.set(s.subject.model, [s]);
  }
  for (const [model, subs] of byModel) {
    const doc: LayerDoc = new Map();
    for (const s of subs)
      for (const [k, l] of s.leaves) if (l.scope === 'model' && !doc.has(k) && !same(global.get(k)?.value, l.value)) doc.set(k, entryOf(l));
    for (const s of subs) {
      if (!s.subject.probe || s.subject.groups.length) continue;
      for (const [k, e] of global) if (!s.leaves.has(k) && !doc.has(k) && appliesTo(e.path, s.subject.vendor)) doc.set(k, { path: e.path, value: null, comments: [] });
    }
    const realSubs = subs.filter((s) => !s.subject.probe);
    if (realSubs.length >= 2) {
      const keys = new Set(realSubs.flatMap((s) => [...s.leaves.keys()]));
      for (const k of keys) {
        if (doc.has(k)) continue;
        const { leaf, count } = majority(realSubs, k);
        if (leaf && count / realSubs.length >= opts.minShare && !same(global.get(k)?.value, leaf.value) && !unremovable(vendorOf(k.split('\u0000')), realSubs, k)) doc.set(k, entryOf(leaf));
      }
    }
    if (doc.size) models.set(model, doc);
  }
  // 4. Groups the input names (Avaya IF $GROUP): their probes' differences from global.
  for (const s of all) {
    if (!s.subject.probe || !s.subject.groups.length) continue;
    const doc: LayerDoc = new Map();
    for (const [k, l] of s.leaves) if (l.scope === 'group' && !same(global.get(k)?.value, l.value)) doc.set(k, entryOf(l));
    for (const [k, e] of global) if (!s.leaves.has(k) && appliesTo(e.path, s.subject.vendor)) doc.set(k, { path: e.path, value: null, comments: [] });
    for (const g of s.subject.groups) groups.set(g, { doc, description: `Avaya phones with GROUP ${g.replace(/^avaya-group-/, '')} (IF $GROUP branches of the imported scripts)` });
  }

  const inherited = (s: Subject, extraGroups: string[] = []): Map<string, Entry> => {
    const out = new Map<string, Entry>();
    const apply = (doc: LayerDoc | undefined) => {
      for (const [k, e] of doc ?? []) {
        if (e.value === null) out.delete(k);
        else out.set(k, e);
      }
    };
    apply(new Map([...global].filter(([, e]) => appliesTo(e.path, s.vendor))));
    if (s.model) apply(models.get(s.model));
    for (const g of [...s.groups, ...extraGroups]) apply(groups.get(g)?.doc);
    return out;
  };

  // 5. Devices: what differs from what they inherit.
  const diffs = new Map<SubjectLeaves, Map<string, Entry>>();
  for (const s of real) {
    const inh = inherited(s.subject);
    const doc = new Map<string, Entry>();
    for (const [k, l] of s.leaves) if (!same(inh.get(k)?.value, l.value)) doc.set(k, entryOf(l));
    for (const [k, e] of inh) if (!s.leaves.has(k)) doc.set(k, { path: e.path, value: null, comments: [] });
    diffs.set(s, doc);
  }
  // 6. Deviations many devices share become groups: the same (key, value) set on the same devices.
  const found = new Map<string, SubjectLeaves[]>(); // "k=v" -> devices
  for (const [s, doc] of diffs)
    for (const [k, e] of doc) {
      if (e.path[0] === 'lines' || isSecretPath(e.path)) continue;
      const id = `${k}\u0001${JSON.stringify(e.value)}`;
      const list = found.get(id);
      if (list) list.push(s);
      else found.set(id, [s]);
    }
  const bySet = new Map<string, string[]>(); // device-set signature -> deviation ids
  for (const [id, subs] of found) {
    if (subs.length < opts.minGroup || subs.length === real.length) continue;
    const sig = subs.map((s) => s.subject.id).sort().join(',');
    bySet.set(sig, [...(bySet.get(sig) ?? []), id]);
  }
  let n = 0;
  for (const [sig, ids] of [...bySet].sort(([a], [b]) => b.length - a.length)) {
    const members = new Set(sig.split(','));
    const doc: LayerDoc = new Map();
    for (const id of ids) {
      const [k] = id.split('\u0001') as [string];
      const anyDev = [...diffs].find(([s]) => members.has(s.subject.id))!;
      doc.set(k, anyDev[1].get(k)!);
    }
    const name = `import-group-${++n}`;
    const keys = [...doc.values()].map((e) => e.path[e.path.length - 1]).join(', ');
    groups.set(name, { doc, description: `${members.size} imported devices share ${keys}` });
    for (const [s, d] of diffs) {
      if (!members.has(s.subject.id)) continue;
      s.subject.groups.push(name);
      for (const k of doc.keys()) d.delete(k);
    }
  }
  for (const [s, doc] of diffs) devices.set(s.subject.id, { subject: s.subject, doc, groups: s.subject.groups });

  // Probes must be explained by the layers alone (they get no file of their own).
  for (const s of all) {
    if (!s.subject.probe) continue;
    const inh = inherited(s.subject);
    for (const [k, l] of s.leaves) if (!same(inh.get(k)?.value, l.value)) unexplained.push({ subject: s.subject, key: k });
    for (const k of inh.keys()) if (!s.leaves.has(k)) unexplained.push({ subject: s.subject, key: k });
  }
  return { global, models, groups, devices, unexplained };
}

/**
 * Cisco MPP/SPA phones read their model's common profile, which carries cisco.params from the
 * global and model layers, before their own file: a device's null cannot take a parameter out of
 * it. So a Cisco parameter moves up only when every device has it (their differences are values).
 */
function unremovable(vendor: Vendor | undefined, pool: SubjectLeaves[], key: string): boolean {
  return vendor === 'cisco' && pool.some((s) => !s.leaves.has(key));
}

function appliesTo(path: readonly string[], vendor: Vendor): boolean {
  const v = vendorOf(path);
  return v === undefined || v === vendor;
}

// Grandstream names secrets by number: P2 (admin), P196 (user), and each account's password
// (the `password` entries of data.account_sets in templates/grandstream/vendor.yaml).
const GS_SECRETS = new Set(['P2', 'P196', 'P34', 'P406', 'P506', 'P606', 'P1706', 'P1806', 'P734']);

/**
 * Secret by the same rules render and lint mask with (Avaya's own list for Avaya names), the
 * key read without its index and permission (Snom user_pass[1]@RW, Cisco Password_1_).
 * `vendor` says whose parameter a bare key is, when the path does not start with the vendor.
 */
export function isSecretPath(path: readonly string[], vendor?: Vendor): boolean {
  const raw = path[path.length - 1] ?? '';
  const owner = vendorOf(path) ?? vendor;
  if (owner === 'avaya') return isSecretName(raw);
  if (owner === 'grandstream') return GS_SECRETS.has(raw);
  return isSecretKey(raw.replace(/@[A-Za-z!$&]*$/, '').replace(/\[\d+\]$/, '').replace(/(_\d+)?_$/, ''));
}
