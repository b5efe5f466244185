// The merged keys check's policy rules read (firmware, access, auth, settings.lines and
// settings.time), with provenance, for one render target. Merging a device's whole profile
// with provenance only to read these was a sixth of a reload's check.

import { resolveLayers, layersFor } from '../config/resolve.js';
import type { EMap, Layer } from '../config/merge.js';
import { PEntry, PMap, type PNode } from '../config/yaml-tree.js';
import type { RenderTarget } from '../render/render.js';
import type { Snapshot } from '../snapshot/snapshot.js';

const POLICY_KEYS = ['firmware', 'access', 'auth'];
const POLICY_SETTINGS = ['lines', 'time'];

/** Each layer's view, by its tree: shared layers are viewed once per snapshot, not per device. */
const views = new WeakMap<PNode, PNode>();

export function policyTree(snap: Snapshot, t: RenderTarget): EMap {
  // The subject as renderTarget makes it, so the layers are the ones the file was rendered from.
  const subject = t.subject ?? { known: false, vendor: t.file.vendor, model: t.model, groups: [] };
  const layers: Layer[] = layersFor(snap.profiles, snap.config.layers, subject).map((l) => ({ ref: l.ref, tree: viewOf(l.tree) }));
  return resolveLayers(layers, subject.known);
}

function viewOf(tree: PNode): PNode {
  if (tree.kind !== 'map') return tree;
  let view = views.get(tree);
  if (!view) views.set(tree, (view = new PMap(policyEntries(tree), tree.src, tree.off)));
  return view;
}

/** POLICY_KEYS, and `settings` narrowed to POLICY_SETTINGS (a null or non-map `settings` as it is: it still removes or replaces). */
function policyEntries(tree: PMap): Map<string, PEntry> {
  const out = new Map<string, PEntry>();
  for (const k of POLICY_KEYS) {
    const e = tree.entries.get(k);
    if (e) out.set(k, e);
  }
  const s = tree.entries.get('settings');
  if (s) {
    const node = s.node;
    if (node.kind !== 'map') out.set('settings', s);
    else {
      const narrowed = new Map<string, PEntry>();
      for (const k of POLICY_SETTINGS) {
        const e = node.entries.get(k);
        if (e) narrowed.set(k, e);
      }
      out.set('settings', new PEntry(new PMap(narrowed, node.src, node.off), s.src, s.keyOff));
    }
  }
  return out;
}
