// deskset.yaml: optional, and every key has a default.

import type { Diagnostic } from './diagnostics.js';
import { LAYER_KINDS, type LayerKind } from './merge.js';
import { bool, checkShape, int, listOf, mapOf, oneOf, str, type Shape } from './shape.js';
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
  /** HTTPS listener and certificates; absent: HTTP only. */
  tls?: TlsConfig;
  security: SecurityConfig;
  /** How phones reach this server, for files that need absolute URLs (Yealink firmware.url). */
  publicUrl?: string;
  /** An empty profiles/global.yaml is an error (a truncated file drops every company-wide setting) unless this is set. */
  allowEmptyGlobal: boolean;
}

export interface TlsConfig {
  /** Port of the HTTPS listener (HTTP keeps listening on listen.port for phones that bootstrap over HTTP). */
  port: number;
  cert?: string;
  key?: string;
  pfx?: string;
  passphrase?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** CA bundle that device certificates must chain to (mutual TLS). */
  clientCa?: string;
}

export interface SecurityConfig {
  realm: string;
  /** Only these peers' X-Forwarded-For is believed. */
  trustedProxies: string[];
  enumeration: { maxDistinct: number; windowS: number; cooldownS: number };
  lockout: { attempts: number; durationS: number };
  /** Extra key patterns (regular expressions) whose values are secrets. */
  secretKeys: string[];
}

export const DEFAULT_SECURITY: SecurityConfig = {
  realm: 'deskset',
  trustedProxies: [],
  enumeration: { maxDistinct: 20, windowS: 600, cooldownS: 600 },
  lockout: { attempts: 3, durationS: 600 },
  secretKeys: [],
};

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
  security: DEFAULT_SECURITY,
  allowEmptyGlobal: false,
};

const configShape: Shape = mapOf({
  listen: mapOf({ host: str, port: int(0, 65535) }),
  layers: listOf(oneOf(...LAYER_KINDS)),
  unknown_devices: oneOf('reject', 'defaults'),
  files: mapOf({ extensions: listOf(str), max_bytes: int(1) }),
  state_dir: str,
  allow_empty_global: bool,
  tls: mapOf({ port: int(0, 65535), cert: str, key: str, pfx: str, passphrase: str, min_version: oneOf('TLSv1.2', 'TLSv1.3'), client_ca: str }),
  security: mapOf({
    realm: str,
    trusted_proxies: listOf(str),
    enumeration: mapOf({ max_distinct: int(1), window_s: int(1), cooldown_s: int(1) }),
    lockout: mapOf({ attempts: int(1), duration_s: int(1) }),
    secret_keys: listOf({ type: 'check', base: str, test: (v) => { try { new RegExp(String(v)); return undefined; } catch (e) { return `not a regular expression: ${(e as Error).message}`; } } }),
  }),
  public_url: { type: 'check', base: str, test: (v) => (typeof v === 'string' && /^https?:\/\/[^\s/]+(\/\S*)?$/.test(v) ? undefined : 'public_url must be an http:// or https:// URL') },
});

export function parseRootConfig(text: string | undefined, file = 'deskset.yaml'): { config: RootConfig; diagnostics: Diagnostic[] } {
  if (text === undefined) return { config: DEFAULT_CONFIG, diagnostics: [] };
  const parsed = parseYamlTree(text, file);
  if (parsed.diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics: parsed.diagnostics };
  if (!parsed.root) return { config: DEFAULT_CONFIG, diagnostics: [] };
  const diagnostics = checkShape(parsed.root, configShape, '', 'CONFIG');
  if (diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics };
  const raw = toPlain(parsed.root) as { listen?: { host?: string; port?: number }; layers?: LayerKind[]; unknown_devices?: RootConfig['unknownDevices']; public_url?: string; files?: { extensions?: string[]; max_bytes?: number }; state_dir?: string; allow_empty_global?: boolean;
    tls?: { port?: number; cert?: string; key?: string; pfx?: string; passphrase?: string; min_version?: TlsConfig['minVersion']; client_ca?: string };
    security?: { realm?: string; trusted_proxies?: string[]; enumeration?: { max_distinct?: number; window_s?: number; cooldown_s?: number }; lockout?: { attempts?: number; duration_s?: number }; secret_keys?: string[] };
  };
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
      allowEmptyGlobal: raw.allow_empty_global ?? false,
      tls: raw.tls
        ? { port: raw.tls.port ?? 8443, cert: raw.tls.cert, key: raw.tls.key, pfx: raw.tls.pfx, passphrase: raw.tls.passphrase, minVersion: raw.tls.min_version ?? 'TLSv1.2', clientCa: raw.tls.client_ca }
        : undefined,
      security: {
        realm: raw.security?.realm ?? DEFAULT_SECURITY.realm,
        trustedProxies: raw.security?.trusted_proxies ?? [],
        enumeration: {
          maxDistinct: raw.security?.enumeration?.max_distinct ?? DEFAULT_SECURITY.enumeration.maxDistinct,
          windowS: raw.security?.enumeration?.window_s ?? DEFAULT_SECURITY.enumeration.windowS,
          cooldownS: raw.security?.enumeration?.cooldown_s ?? DEFAULT_SECURITY.enumeration.cooldownS,
        },
        lockout: { attempts: raw.security?.lockout?.attempts ?? DEFAULT_SECURITY.lockout.attempts, durationS: raw.security?.lockout?.duration_s ?? DEFAULT_SECURITY.lockout.durationS },
        secretKeys: raw.security?.secret_keys ?? [],
      },
    },
    diagnostics,
  };
}
