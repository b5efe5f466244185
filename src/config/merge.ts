// Layered merge with provenance, the Hiera/Helm rules:
//   maps merge deeply; scalars and lists replace; an explicit null removes an inherited key.
// Every effective leaf remembers the layer and file:line that set it and the values it overrode,
// so `deskset explain` can answer "why does this phone have this value?".

import type { SourceLoc } from '../check/diagnostics.js';
import { PMap, setKey, toPlain, type PEntry, type PNode } from './yaml-tree.js';

export type LayerKind = 'global' | 'model' | 'group' | 'site' | 'device';
export const LAYER_KINDS: readonly LayerKind[] = ['global', 'model', 'group', 'site', 'device'];

export interface LayerRef {
  kind: LayerKind;
  /** `global`, the model name, the group or site name, or the MAC. */
  name: string;
  file: string;
}

export interface Origin {
  layer: LayerRef;
  /** Where the key was written. */
  loc: SourceLoc;
  /** Where the value starts (differs from `loc` for block values). */
  valueLoc: SourceLoc;
}

/** An Origin that works out its positions when asked: merges run per render, positions rarely. */
class EntryOrigin implements Origin {
  constructor(
    readonly layer: LayerRef,
    private readonly entry: PEntry,
  ) {}

  get loc(): SourceLoc {
    return this.entry.keyLoc;
  }

  get valueLoc(): SourceLoc {
    return this.entry.node.loc;
  }
}

export interface Prior {
  value: unknown;
  origin: Origin;
}

export interface Removal {
  key: string;
  origin: Origin;
  /** What the removal hid, newest first. */
  previous: Prior[];
}

export type ENode = EMap | ELeaf;

export interface EMap {
  kind: 'map';
  children: Map<string, ENode>;
  origin?: Origin;
  removed: Removal[];
  /** A scalar or list that this map replaced, if any. */
  overridden: Prior[];
}

export interface ELeaf {
  kind: 'leaf';
  /** A scalar or list node from the layer that won. */
  node: PNode;
  origin: Origin;
  /** Values this one replaced, newest first. */
  overridden: Prior[];
}

export interface Layer {
  ref: LayerRef;
  /** The mergeable part of the profile (a map). */
  tree: PNode;
}

export function emptyMap(): EMap {
  return { kind: 'map', children: new Map(), removed: [], overridden: [] };
}

/**
 * Merge layers lowest first. Pure: the inputs are not modified. `onlyKeys` merges just those
 * top-level keys (the access gate needs `auth` and `access`, not a device's whole profile).
 */
export function mergeLayers(layers: readonly Layer[], onlyKeys?: readonly string[]): EMap {
  const root = emptyMap();
  for (const layer of layers) {
    if (layer.tree.kind !== 'map') continue;
    const tree = onlyKeys
      ? new PMap(new Map([...layer.tree.entries].filter(([k]) => onlyKeys.includes(k))), layer.tree.src, layer.tree.off)
      : layer.tree;
    mergeInto(root, tree, layer.ref);
  }
  return root;
}

function mergeInto(target: EMap, src: Extract<PNode, { kind: 'map' }>, ref: LayerRef): void {
  for (const [key, entry] of src.entries) {
    const origin: Origin = new EntryOrigin(ref, entry);
    const existing = target.children.get(key);
    const node = entry.node;
    if (node.kind === 'scalar' && node.value === null) {
      // Explicit null: remove what lower layers set, and remember that we did.
      if (existing) {
        target.children.delete(key);
        target.removed.push({ key, origin, previous: history(existing) });
      }
      continue;
    }
    if (node.kind === 'map') {
      if (existing?.kind === 'map') {
        mergeInto(existing, node, ref);
      } else {
        const fresh: EMap = { ...emptyMap(), origin, overridden: existing ? history(existing) : [] };
        mergeInto(fresh, node, ref);
        target.children.set(key, fresh);
      }
      continue;
    }
    target.children.set(key, { kind: 'leaf', node, origin, overridden: existing ? history(existing) : [] });
  }
}

/** The value a node held and everything it had itself overridden, newest first. */
function history(n: ENode): Prior[] {
  if (n.kind === 'leaf') return [{ value: toPlain(n.node), origin: n.origin }, ...n.overridden];
  return n.origin ? [{ value: plainOf(n), origin: n.origin }] : [];
}

/** Plain JavaScript value of the effective tree (plain-merge.ts builds the same for templates). */
export function plainOf(n: ENode): unknown {
  if (n.kind === 'leaf') return toPlain(n.node);
  const out: Record<string, unknown> = {};
  for (const [k, c] of n.children) setKey(out, k, plainOf(c));
  return out;
}

export interface FlatLeaf {
  path: string[];
  leaf: ELeaf;
}

/** Every effective leaf with its key path, in document order. */
export function flattenLeaves(root: EMap, prefix: string[] = []): FlatLeaf[] {
  const out: FlatLeaf[] = [];
  for (const [k, c] of root.children) {
    if (c.kind === 'leaf') out.push({ path: [...prefix, k], leaf: c });
    else out.push(...flattenLeaves(c, [...prefix, k]));
  }
  return out;
}

/**
 * Find a node by a dotted path. Keys may themselves contain dots (Poly parameter names
 * such as `call.autoAnswer.SIP`), so at each level we try every key that is a prefix of
 * the remaining path.
 */
export function findPath(root: EMap, dotted: string): { node: ENode; path: string[] } | undefined {
  if (dotted === '') return { node: root, path: [] };
  for (const [k, child] of root.children) {
    if (dotted === k) return { node: child, path: [k] };
    if (dotted.startsWith(`${k}.`) && child.kind === 'map') {
      const found = findPath(child, dotted.slice(k.length + 1));
      if (found) return { node: found.node, path: [k, ...found.path] };
    }
  }
  return undefined;
}
