// deskset.yaml: optional, and every key has a default.

import type { Diagnostic } from '../check/diagnostics.js';
import { LAYER_KINDS, type LayerKind } from './merge.js';
import { resolveSecretRefs, type SecretRefContext } from './secret-refs.js';
import { bool, checkShape, int, listOf, mapOf, oneOf, str, type Shape } from './shape.js';
import { parseYamlTree, PMap, toPlain, type PEntry, type PNode } from './yaml-tree.js';
import { IpAllowList } from './ip-allow.js';
import { isPasswordHash, type StoredCredential } from './password-hash.js';
import { DEFAULT_INVENTORY, DEFAULT_STATE, parseStateSetting, type InventoryConfig, type StateConfig } from '../store/config.js';

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
  /** Connection-level limits of the HTTP and HTTPS listeners. */
  connections: ConnectionsConfig;
  /** Phone uploads (PUT): caps and who may write. */
  uploads: UploadsConfig;
  /** How phones reach this server, for files that need absolute URLs (Yealink firmware.url). */
  publicUrl?: string;
  /** An empty profiles/global.yaml is an error (a truncated file drops every company-wide setting) unless this is set. */
  allowEmptyGlobal: boolean;
  /** Activation and enrollment codes (docs/enrollment.md): on, unknown phones are challenged so they can type one. */
  enrollment: { enabled: boolean };
  /** The admin API listener (src/admin/): people and programs, never on the phones' port. */
  admin: AdminConfig;
  /** The state store (inventory, audit, tokens): SQLite by default (store/config.ts). */
  state: StateConfig;
  inventory: InventoryConfig;
  /** The TFTP listener (off unless `tftp.listen.port` or `serve --tftp-port` names a port). */
  tftp: TftpConfig;
}

// ---- tftp: (src/tftp/) ----------------------------------------------------------------
export interface TftpConfig {
  /** Absent: no TFTP listener unless `serve --tftp-port` asks for one. Host defaults to listen.host. */
  listen?: { host?: string; port: number };
  /** Serve files that carry credentials (TFTP has no authentication); needs `allow`. */
  serveSecrets: boolean;
  /** Addresses that may use TFTP at all; absent: any address. */
  allow?: string[];
  maxTransfers: number;
  maxPerSource: number;
  /** Read requests per second one address may start (burst: twice as many). */
  ratePerSource: number;
  maxBlksize: number;
  maxWindowsize: number;
}

export const DEFAULT_TFTP: TftpConfig = { serveSecrets: false, maxTransfers: 1024, maxPerSource: 8, ratePerSource: 20, maxBlksize: 65464, maxWindowsize: 64 };

const tftpShape: Shape = mapOf({
  listen: mapOf({ host: str, port: int(0, 65535) }),
  serve_secrets: bool,
  allow: listOf({ type: 'check', base: str, test: (v) => { try { new IpAllowList([String(v)]); return undefined; } catch (e) { return (e as Error).message; } } }),
  max_transfers: int(1, 100_000),
  max_per_source: int(1, 10_000),
  rate_per_source: int(1, 100_000),
  max_blksize: int(8, 65464),
  max_windowsize: int(1, 1024),
});

type RawTftp = { listen?: { host?: string; port?: number }; serve_secrets?: boolean; allow?: string[]; max_transfers?: number; max_per_source?: number; rate_per_source?: number; max_blksize?: number; max_windowsize?: number };

/** tftp: as RootConfig holds it, with the one rule the shape cannot say and the warning `check` gives. */
function tftpConfig(raw: RawTftp | undefined, loc: Diagnostic['loc'], diagnostics: Diagnostic[]): TftpConfig {
  if (!raw) return DEFAULT_TFTP;
  const allow = raw.allow?.map(String);
  const serveSecrets = raw.serve_secrets ?? false;
  if (serveSecrets && !allow?.length) {
    diagnostics.push({ code: 'CONFIG', severity: 'error', message: 'tftp.serve_secrets: true needs tftp.allow (the addresses that may fetch credentials over TFTP, which has no authentication)', loc });
  } else if (serveSecrets) {
    diagnostics.push({ code: 'TFTP_SECRETS', severity: 'warning', message: `tftp.serve_secrets: files carrying credentials are served over TFTP to ${allow!.join(', ')} on the sender's address alone (TFTP has no authentication and no encryption): weaker than HTTP(S) with credentials`, loc });
  }
  return {
    listen: raw.listen?.port === undefined ? undefined : { host: raw.listen.host, port: raw.listen.port },
    serveSecrets,
    allow,
    maxTransfers: raw.max_transfers ?? DEFAULT_TFTP.maxTransfers,
    maxPerSource: raw.max_per_source ?? DEFAULT_TFTP.maxPerSource,
    ratePerSource: raw.rate_per_source ?? DEFAULT_TFTP.ratePerSource,
    maxBlksize: raw.max_blksize ?? DEFAULT_TFTP.maxBlksize,
    maxWindowsize: raw.max_windowsize ?? DEFAULT_TFTP.maxWindowsize,
  };
}
/** Where `a.b` is written in deskset.yaml (the line an admin edits), when it is. */
function keyLoc(root: PNode, ...keys: string[]): Diagnostic['loc'] {
  let node: PNode | undefined = root;
  let loc: Diagnostic['loc'];
  for (const k of keys) {
    const e: PEntry | undefined = node?.kind === 'map' ? node.entries.get(k) : undefined;
    if (!e) return loc;
    loc = e.keyLoc;
    node = e.node;
  }
  return loc;
}
// ---- end tftp -------------------------------------------------------------------------

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
  /** Clients that see detailed /healthz and /-/status (device MACs, paths); default loopback. */
  operators: string[];
  enumeration: { maxDistinct: number; windowS: number; cooldownS: number };
  lockout: { attempts: number; durationS: number };
  /** Extra key patterns (regular expressions) whose values are secrets. */
  secretKeys: string[];
}

/** What deskset.yaml says; anything unset takes the server's defaults (server.ts SERVER_TIMEOUTS). */
export interface ConnectionsConfig {
  /** A connection silent this long is closed (one that never sends a byte included). */
  idleTimeoutS?: number;
  headersTimeoutS?: number;
  requestTimeoutS?: number;
  keepAliveTimeoutS?: number;
  /** Connections per source address over all listeners; undefined: a quarter of `ulimit -n`. */
  maxPerAddress?: number;
}

export interface UploadsConfig {
  /**
   * Where uploads are kept: files in the state directory, or the state database (PostgreSQL
   * only). Undefined: the database when `state:` is PostgreSQL, else disk (docs/state.md).
   */
  store?: 'disk' | 'database';
  maxFileBytes: number;
  maxLogBytes: number;
  maxDeviceBytes: number;
  logRetentionDays: number;
  maxConcurrentPerDevice: number;
  /**
   * Sites whose shared (site, group or global) credentials may write their devices' files.
   * Weaker: anyone holding the site password can then replace any of its phones' overrides.
   * `true` allows it everywhere.
   */
  sharedCredentialsMayWrite: true | ReadonlySet<string>;
}

// ---- admin: the admin API listener (src/admin/) -------------------------------------------

export type AdminRole = 'admin' | 'viewer';

export interface AdminUser {
  role: AdminRole;
  /** An scrypt hash, or a secret that came from ${env:…}/${file:…}; never a password typed into the YAML. */
  credential: StoredCredential;
}

export interface AdminConfig {
  /** Where the admin API listens; undefined: not started (`admin: {enabled: false}`). */
  listen?: { host: string; port: number };
  /** HTTPS with the server's certificate; default: whenever `tls:` is configured. */
  tls?: boolean;
  users: ReadonlyMap<string, AdminUser>;
  /** Failed logins per source address and user name within windowS before further tries are refused. */
  lockout: { attempts: number; windowS: number };
  /** Largest request body (a CSV import), bytes. */
  maxBodyBytes: number;
  /**
   * Who may scrape /metrics: `users` (any admin user or API token, e.g. Prometheus'
   * basic_auth) or `public` (no login: a scraper on loopback or a firewalled admin port).
   */
  metrics: 'users' | 'public';
}

export const DEFAULT_ADMIN: AdminConfig = {
  listen: { host: '127.0.0.1', port: 9090 },
  users: new Map(),
  lockout: { attempts: 3, windowS: 600 },
  maxBodyBytes: 10 * 1024 * 1024,
  metrics: 'users',
};

/** `host:port`, `[v6]:port` or a bare port (loopback). */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

const adminShape: Shape = mapOf({
  enabled: bool,
  listen: { type: 'check', base: { type: 'scalar' }, test: (v) => (parseListenAddress(String(v)) ? undefined : `listen: expected host:port such as 127.0.0.1:9090, got ${JSON.stringify(v)}`) },
  tls: bool,
  users: { type: 'map', fields: {}, open: mapOf({ password: str, role: oneOf('admin', 'viewer') }, { required: ['password', 'role'] }) },
  lockout: mapOf({ attempts: int(1, 100), window_s: int(1, 86400) }),
  max_body_bytes: int(1024, 1024 * 1024 * 1024),
  metrics: oneOf('users', 'public'),
});

const child = (n: PNode | undefined, key: string): PNode | undefined => (n instanceof PMap ? n.entries.get(key)?.node : undefined);

/**
 * admin: from the checked (and reference-resolved) tree. A user's password must be an scrypt
 * hash (`deskset hash-password`) or come from ${env:…}/${file:…}: a plain password in a file
 * kept in git is refused at its line. Without `refsResolved` (tools that only need paths) a
 * reference is kept as an unusable secret.
 */
function readAdmin(root: PNode, refsResolved: boolean, diagnostics: Diagnostic[]): AdminConfig {
  const node = child(root, 'admin');
  if (!node) return DEFAULT_ADMIN;
  const raw = toPlain(node) as { enabled?: boolean; listen?: string | number; tls?: boolean; lockout?: { attempts?: number; window_s?: number }; max_body_bytes?: number; metrics?: 'users' | 'public' } | null;
  const users = new Map<string, AdminUser>();
  const usersNode = child(node, 'users');
  if (usersNode instanceof PMap) {
    for (const [name, entry] of usersNode.entries) {
      const pw = child(entry.node, 'password');
      const role = toPlain(child(entry.node, 'role') ?? entry.node) as AdminRole;
      if (!pw || pw.kind !== 'scalar') continue;
      const value = String(pw.value);
      if (isPasswordHash(value)) users.set(name, { role, credential: { kind: 'hash', value } });
      else if (pw.fromRef) users.set(name, { role, credential: { kind: 'secret', value } });
      else if (!refsResolved && value.startsWith('${')) users.set(name, { role, credential: { kind: 'secret', value: '' } });
      else diagnostics.push({ code: 'CONFIG', severity: 'error', message: `admin.users.${name}.password: expected an scrypt hash (deskset hash-password) or a \${env:…} reference, not a plain password`, loc: pw.loc });
    }
  }
  const listen = raw?.enabled === false ? undefined : raw?.listen === undefined ? DEFAULT_ADMIN.listen : parseListenAddress(String(raw.listen));
  const metricsNode = child(node, 'metrics');
  if (raw?.metrics === 'public' && listen && !['127.0.0.1', '::1', 'localhost'].includes(listen.host) && metricsNode) {
    // Allowed (a firewall may guard the port), but worth a line: anyone who reaches it may scrape.
    diagnostics.push({ code: 'CONFIG', severity: 'warning', message: `admin.metrics: public on ${listen.host}: anyone who reaches the admin port can read /metrics without a login`, loc: metricsNode.loc });
  }
  return {
    listen,
    tls: raw?.tls,
    users,
    lockout: { attempts: raw?.lockout?.attempts ?? DEFAULT_ADMIN.lockout.attempts, windowS: raw?.lockout?.window_s ?? DEFAULT_ADMIN.lockout.windowS },
    maxBodyBytes: raw?.max_body_bytes ?? DEFAULT_ADMIN.maxBodyBytes,
    metrics: raw?.metrics ?? DEFAULT_ADMIN.metrics,
  };
}

// ---- end of admin ---------------------------------------------------------------------------

export const DEFAULT_CONNECTIONS: ConnectionsConfig = {};

export const DEFAULT_UPLOADS: UploadsConfig = {
  maxFileBytes: 1024 * 1024, // a large Poly directory is a few hundred KB
  maxLogBytes: 5 * 1024 * 1024, // one log upload; logs are the bulkiest kind
  maxDeviceBytes: 20 * 1024 * 1024, // everything one phone keeps, logs included
  logRetentionDays: 10, // what Poly's cloud service keeps
  maxConcurrentPerDevice: 4, // a phone uploads one file at a time; a few is slack
  sharedCredentialsMayWrite: new Set(),
};

export const DEFAULT_SECURITY: SecurityConfig = {
  realm: 'deskset',
  trustedProxies: [],
  operators: ['127.0.0.0/8', '::1/128'],
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
  connections: DEFAULT_CONNECTIONS,
  uploads: DEFAULT_UPLOADS,
  allowEmptyGlobal: false,
  enrollment: { enabled: false },
  admin: DEFAULT_ADMIN,
  state: DEFAULT_STATE,
  inventory: DEFAULT_INVENTORY,
  tftp: DEFAULT_TFTP,
};

/** An address or CIDR as the allow-lists take it (an unusable entry is an error here, not at start). */
const cidr: Shape = { type: 'check', base: str, test: (v) => { try { new IpAllowList([String(v)]); return undefined; } catch (e) { return (e as Error).message; } } };

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
    trusted_proxies: listOf(cidr),
    operators: listOf(cidr),
    enumeration: mapOf({ max_distinct: int(1), window_s: int(1), cooldown_s: int(1) }),
    lockout: mapOf({ attempts: int(1), duration_s: int(1) }),
    secret_keys: listOf({ type: 'check', base: str, test: (v) => { try { new RegExp(String(v)); return undefined; } catch (e) { return `not a regular expression: ${(e as Error).message}`; } } }),
  }),
  connections: mapOf({ idle_timeout_s: int(1, 3600), headers_timeout_s: int(1, 3600), request_timeout_s: int(1, 86400), keep_alive_timeout_s: int(1, 3600), max_per_address: int(1) }),
  uploads: mapOf({
    store: oneOf('disk', 'database'),
    max_file_bytes: int(1),
    max_log_bytes: int(1),
    max_device_bytes: int(1),
    log_retention_days: int(1, 3650),
    max_concurrent_per_device: int(1, 1000),
    // true, false, or a list of site names (the list's items are checked below: the shape
    // checker hands a test only scalar values).
    shared_credentials_may_write: { type: 'check', base: { type: 'any' }, test: (v) => (v === undefined || typeof v === 'boolean' ? undefined : 'true, false or a list of site names') },
  }),
  tftp: tftpShape,
  admin: adminShape,
  public_url: { type: 'check', base: str, test: (v) => (typeof v === 'string' && /^https?:\/\/[^\s/]+(\/\S*)?$/.test(v) ? undefined : 'public_url must be an http:// or https:// URL') },
  enrollment: mapOf({ enabled: bool }),
  // The state store (store/config.ts). The URL may be a ${env:…} reference, checked once resolved.
  state: str,
  inventory: mapOf({ flush_ms: int(50, 60_000), max_unknown: int(0), touch_s: int(0, 86_400) }),
});

export interface ParsedRootConfig {
  config: RootConfig;
  diagnostics: Diagnostic[];
  /** Values that came from ${env:…}/${file:…} references (TLS passphrase…), to mask wherever they appear. */
  secrets: Set<string>;
}

/**
 * Parse deskset.yaml. With `refs`, every string value may be a secret reference, resolved the
 * way profile values are (config/secret-refs.ts): `tls.passphrase: "${env:P12PW}"` keeps the
 * passphrase out of git. Without `refs` (tools that only need the state directory) references
 * stay as text.
 */
export function parseRootConfig(text: string | undefined, file = 'deskset.yaml', refs?: Omit<SecretRefContext, 'file'>): ParsedRootConfig {
  const secrets = new Set<string>();
  if (text === undefined) return { config: DEFAULT_CONFIG, diagnostics: [], secrets };
  const parsed = parseYamlTree(text, file);
  if (parsed.diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics: parsed.diagnostics, secrets };
  if (!parsed.root) return { config: DEFAULT_CONFIG, diagnostics: [], secrets };
  const diagnostics = checkShape(parsed.root, configShape, '', 'CONFIG');
  if (diagnostics.length) return { config: DEFAULT_CONFIG, diagnostics, secrets };
  let root = parsed.root;
  if (refs && text.includes('${')) {
    const r = resolveSecretRefs(root, { ...refs, file });
    // A missing secret is an error at the value's file:line:col; the defaults are not a fallback
    // (serving without the configured TLS would be worse than not starting).
    if (r.diagnostics.some((d) => d.severity === 'error')) return { config: DEFAULT_CONFIG, diagnostics: r.diagnostics, secrets };
    diagnostics.push(...r.diagnostics);
    for (const v of r.secrets) secrets.add(v);
    root = r.tree;
  }
  const raw = toPlain(root) as { listen?: { host?: string; port?: number }; layers?: LayerKind[]; unknown_devices?: RootConfig['unknownDevices']; public_url?: string; files?: { extensions?: string[]; max_bytes?: number }; state_dir?: string; allow_empty_global?: boolean;
    tls?: { port?: number; cert?: string; key?: string; pfx?: string; passphrase?: string; min_version?: TlsConfig['minVersion']; client_ca?: string };
    security?: { realm?: string; trusted_proxies?: string[]; operators?: string[]; enumeration?: { max_distinct?: number; window_s?: number; cooldown_s?: number }; lockout?: { attempts?: number; duration_s?: number }; secret_keys?: string[] };
    connections?: { idle_timeout_s?: number; headers_timeout_s?: number; request_timeout_s?: number; keep_alive_timeout_s?: number; max_per_address?: number };
    tftp?: RawTftp;
    uploads?: { store?: 'disk' | 'database'; max_file_bytes?: number; max_log_bytes?: number; max_device_bytes?: number; log_retention_days?: number; max_concurrent_per_device?: number; shared_credentials_may_write?: boolean | Array<string | number> };
    enrollment?: { enabled?: boolean };
    state?: string;
    inventory?: { flush_ms?: number; max_unknown?: number; touch_s?: number };
  };
  const layers = raw.layers ?? DEFAULT_CONFIG.layers;
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l)) diagnostics.push({ code: 'CONFIG', severity: 'error', message: `layers: "${l}" is listed twice`, loc: parsed.root.loc });
    seen.add(l);
  }
  const connections: ConnectionsConfig = {
    idleTimeoutS: raw.connections?.idle_timeout_s,
    headersTimeoutS: raw.connections?.headers_timeout_s,
    requestTimeoutS: raw.connections?.request_timeout_s,
    keepAliveTimeoutS: raw.connections?.keep_alive_timeout_s,
    maxPerAddress: raw.connections?.max_per_address,
  };
  // Node refuses to start a server whose header timeout exceeds its request timeout.
  if ((connections.headersTimeoutS ?? 10) > (connections.requestTimeoutS ?? 30)) {
    diagnostics.push({ code: 'CONFIG', severity: 'error', message: 'connections: headers_timeout_s must not exceed request_timeout_s', loc: parsed.root.loc });
  }
  const mayWrite = raw.uploads?.shared_credentials_may_write;
  if (typeof mayWrite === 'object' && (!Array.isArray(mayWrite) || !mayWrite.every((x) => typeof x === 'string' || typeof x === 'number'))) {
    diagnostics.push({ code: 'CONFIG', severity: 'error', message: 'uploads.shared_credentials_may_write: true, false or a list of site names', loc: parsed.root.loc });
  }
  const uploads: UploadsConfig = {
    ...(raw.uploads?.store ? { store: raw.uploads.store } : {}),
    maxFileBytes: raw.uploads?.max_file_bytes ?? DEFAULT_UPLOADS.maxFileBytes,
    maxLogBytes: raw.uploads?.max_log_bytes ?? DEFAULT_UPLOADS.maxLogBytes,
    maxDeviceBytes: raw.uploads?.max_device_bytes ?? DEFAULT_UPLOADS.maxDeviceBytes,
    logRetentionDays: raw.uploads?.log_retention_days ?? DEFAULT_UPLOADS.logRetentionDays,
    maxConcurrentPerDevice: raw.uploads?.max_concurrent_per_device ?? DEFAULT_UPLOADS.maxConcurrentPerDevice,
    sharedCredentialsMayWrite: mayWrite === true ? true : new Set((Array.isArray(mayWrite) ? mayWrite : []).map(String)),
  };
  let state: StateConfig = DEFAULT_STATE;
  if (raw.state !== undefined) {
    const st = parseStateSetting(String(raw.state));
    // The message never repeats the value: it may be a URL with a password.
    if ('error' in st) diagnostics.push({ code: 'CONFIG', severity: 'error', message: st.error, loc: (parsed.root.kind === 'map' ? parsed.root.entries.get('state')?.node.loc : undefined) ?? parsed.root.loc });
    else state = st;
  }
  // SQLite is one server's database: its uploads stay files beside it.
  if (uploads.store === 'database' && state.kind !== 'postgres') {
    diagnostics.push({ code: 'CONFIG', severity: 'error', message: 'uploads.store: database needs state: postgres://… (with SQLite or no state store, uploads stay on disk: store: disk)', loc: keyLoc(root, 'uploads', 'store') ?? parsed.root.loc });
  }
  const tftp = tftpConfig(raw.tftp, keyLoc(root, 'tftp', 'serve_secrets') ?? parsed.root.loc, diagnostics);
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
      enrollment: { enabled: raw.enrollment?.enabled ?? false },
      tls: raw.tls
        ? { port: raw.tls.port ?? 8443, cert: raw.tls.cert, key: raw.tls.key, pfx: raw.tls.pfx, passphrase: raw.tls.passphrase, minVersion: raw.tls.min_version ?? 'TLSv1.2', clientCa: raw.tls.client_ca }
        : undefined,
      security: {
        realm: raw.security?.realm ?? DEFAULT_SECURITY.realm,
        trustedProxies: raw.security?.trusted_proxies ?? [],
        operators: raw.security?.operators ?? DEFAULT_SECURITY.operators,
        enumeration: {
          maxDistinct: raw.security?.enumeration?.max_distinct ?? DEFAULT_SECURITY.enumeration.maxDistinct,
          windowS: raw.security?.enumeration?.window_s ?? DEFAULT_SECURITY.enumeration.windowS,
          cooldownS: raw.security?.enumeration?.cooldown_s ?? DEFAULT_SECURITY.enumeration.cooldownS,
        },
        lockout: { attempts: raw.security?.lockout?.attempts ?? DEFAULT_SECURITY.lockout.attempts, durationS: raw.security?.lockout?.duration_s ?? DEFAULT_SECURITY.lockout.durationS },
        secretKeys: raw.security?.secret_keys ?? [],
      },
      connections,
      uploads,
      admin: readAdmin(root, Boolean(refs), diagnostics),
      state,
      inventory: { flushMs: raw.inventory?.flush_ms ?? DEFAULT_INVENTORY.flushMs, maxUnknown: raw.inventory?.max_unknown ?? DEFAULT_INVENTORY.maxUnknown, touchS: raw.inventory?.touch_s ?? DEFAULT_INVENTORY.touchS },
      tftp,
    },
    diagnostics,
    secrets,
  };
}
