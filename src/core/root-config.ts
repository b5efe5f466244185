// deskset.yaml: optional, and every key has a default.

import type { Diagnostic } from './diagnostics.js';
import { LAYER_KINDS, type LayerKind } from './merge.js';
import { checkShape, int, listOf, mapOf, oneOf, str, type Shape } from './shape.js';
import { parseYamlTree, toPlain } from './yaml-tree.js';

export interface RootConfig {
  listen: { host: string; port: number };
  /** Merge order, lowest first. */
  layers: LayerKind[];
  /** `reject`: unknown MACs get 404. `defaults`: render from global+model layers, no line credentials. */
  unknownDevices: 'reject' | 'defaults';
}

export const DEFAULT_CONFIG: RootConfig = {
  listen: { host: '0.0.0.0', port: 8080 },
  layers: [...LAYER_KINDS],
  unknownDevices: 'reject',
};

const configShape: Shape = mapOf({
  listen: mapOf({ host: str, port: int(0, 65535) }),
  layers: listOf(oneOf(...LAYER_KINDS)),
  unknown_devices: oneOf('reject', 'defaults'),
});

export function parseRootConfig(text: string | undefined, file = 'deskset.yaml'): { config: RootConfig; diagnostics: Diagnostic[] } {
  if (text === undefined) return { config: DEFAULT_CONFIG, diagnostics: [] };
  const parsed = parseYamlTree(text, file);
  if (parsed.diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics: parsed.diagnostics };
  if (!parsed.root) return { config: DEFAULT_CONFIG, diagnostics: [] };
  const diagnostics = checkShape(parsed.root, configShape, '', 'CONFIG');
  if (diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics };
  const raw = toPlain(parsed.root) as { listen?: { host?: string; port?: number }; layers?: LayerKind[]; unknown_devices?: RootConfig['unknownDevices'] };
  const layers = raw.layers ?? DEFAULT_CONFIG.layers;
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l)) diagnostics.push({ code: 'CONFIG', severity: 'error', message: `layers: "${l}" is listed twice`, loc: parsed.root.loc });
    seen.add(l);
  }
  for (const l of LAYER_KINDS) {
    if (!seen.has(l)) diagnostics.push({ code: 'CONFIG', severity: 'warning', message: `layers: "${l}" is not listed, so ${l} profiles are ignored`, loc: parsed.root.loc });
  }
  return {
    config: {
      listen: { host: raw.listen?.host ?? DEFAULT_CONFIG.listen.host, port: raw.listen?.port ?? DEFAULT_CONFIG.listen.port },
      layers,
      unknownDevices: raw.unknown_devices ?? DEFAULT_CONFIG.unknownDevices,
    },
    diagnostics,
  };
}
