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
  /** Extensions served from resources/ and firmware/ (lowercase, no dot). */
  serveExtensions: Set<string>;
  /** Largest resource or firmware file served, bytes. */
  maxFileBytes: number;
  /** Writable state directory (phone uploads, tokens, snapshots), relative to the root. */
  stateDir: string;
  /** How phones reach this server, for files that need absolute URLs (Yealink firmware.url). */
  publicUrl?: string;
}

/**
 * What Avaya DES accepts in a device configuration bundle, plus the phones' firmware and
 * certificate types and Poly's .cfg licences.
 */
export const DEFAULT_EXTENSIONS = [
  'xml', 'png', 'jpg', 'jpeg', 'gif', 'bmp', 'mp3', 'wav', 'ogg', 'pkcs12', 'p12', 'pfx', 'txt',
  'bin', 'ld', 'rom', 'tar', 'zip', 'img', 'ver', 'pem', 'crt', 'cer', 'der', 'cfg', 'csv',
];

export const DEFAULT_CONFIG: RootConfig = {
  listen: { host: '0.0.0.0', port: 8080 },
  layers: [...LAYER_KINDS],
  unknownDevices: 'reject',
  serveExtensions: new Set(DEFAULT_EXTENSIONS),
  maxFileBytes: 512 * 1024 * 1024,
  stateDir: 'var',
};

const configShape: Shape = mapOf({
  listen: mapOf({ host: str, port: int(0, 65535) }),
  layers: listOf(oneOf(...LAYER_KINDS)),
  unknown_devices: oneOf('reject', 'defaults'),
  files: mapOf({ extensions: listOf(str), max_bytes: int(1) }),
  state_dir: str,
  public_url: { type: 'check', base: str, test: (v) => (typeof v === 'string' && /^https?:\/\/[^\s/]+(\/\S*)?$/.test(v) ? undefined : 'public_url must be an http:// or https:// URL') },
});

export function parseRootConfig(text: string | undefined, file = 'deskset.yaml'): { config: RootConfig; diagnostics: Diagnostic[] } {
  if (text === undefined) return { config: DEFAULT_CONFIG, diagnostics: [] };
  const parsed = parseYamlTree(text, file);
  if (parsed.diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics: parsed.diagnostics };
  if (!parsed.root) return { config: DEFAULT_CONFIG, diagnostics: [] };
  const diagnostics = checkShape(parsed.root, configShape, '', 'CONFIG');
  if (diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics };
  const raw = toPlain(parsed.root) as { listen?: { host?: string; port?: number }; layers?: LayerKind[]; unknown_devices?: RootConfig['unknownDevices']; public_url?: string; files?: { extensions?: string[]; max_bytes?: number }; state_dir?: string };
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
      publicUrl: raw.public_url,
      serveExtensions: raw.files?.extensions ? new Set(raw.files.extensions.map((e) => String(e).replace(/^\./, '').toLowerCase())) : DEFAULT_CONFIG.serveExtensions,
      maxFileBytes: raw.files?.max_bytes ?? DEFAULT_CONFIG.maxFileBytes,
      stateDir: raw.state_dir ?? DEFAULT_CONFIG.stateDir,
    },
    diagnostics,
  };
}
