// Vendor parameters that the shared vocabulary expresses (SIP server, lines, NTP, admin
// password) become vocabulary keys, so the imported root also renders for other vendors. A
// mapping is made only when the shipped template writes back exactly the same parameters
// (every key it would add is present with the same value); otherwise the parameters stay in
// the vendor map unchanged. The round-trip check proves each subject either way.

import type { Param, Scope, Vendor } from './types.js';

export type LeafValue = string | number | string[] | Array<Record<string, string>>;

/** One value at a settings path, and the input parameters it stands for. */
export interface Leaf {
  path: string[];
  value: LeafValue;
  sources: Param[];
  scope: Scope;
}

const RANK: Record<Scope, number> = { global: 0, model: 1, group: 2, device: 3 };

export function narrowest(params: Param[]): Scope {
  let s: Scope = 'global';
  for (const p of params) if (RANK[p.scope] > RANK[s]) s = p.scope;
  return s;
}

export function vendorMapPath(vendor: Vendor, key: string): string[] {
  return vendor === 'avaya' ? ['avaya', 'settings', key] : [vendor, 'params', key];
}

/** Leaves for one subject's effective parameters: vocabulary first, the rest in the vendor map. */
export function toLeaves(vendor: Vendor, params: Map<string, Param>, vocabulary: boolean): Leaf[] {
  const left = new Map(params);
  const out: Leaf[] = [];
  const take: Take = (path, value, keys, shared) => {
    const sources = shared ?? keys.map((k) => left.get(k)!);
    for (const k of keys) left.delete(k);
    out.push({ path, value, sources, scope: narrowest(sources) });
  };
  if (vocabulary) {
    if (vendor === 'yealink') yealinkVocabulary(left, take);
    else if (vendor === 'polycom') polycomVocabulary(left, take);
    else avayaVocabulary(left, take);
  }
  for (const p of left.values()) out.push({ path: vendorMapPath(vendor, p.key), value: p.value, sources: [p], scope: p.scope });
  for (const l of out) l.value = escapeRefs(l.value);
  return out;
}

/**
 * A value that starts with `${` would be read as a secret reference (and could pull an
 * environment variable into a phone's file): write it as `$${…}`, deskset's escape.
 */
function escapeRefs(v: LeafValue): LeafValue {
  const one = (s: string) => (s.startsWith('${') ? `$${s}` : s);
  if (typeof v === 'string') return one(v);
  if (Array.isArray(v)) return (v as Array<string | Record<string, string>>).map((x) => (typeof x === 'string' ? one(x) : Object.fromEntries(Object.entries(x).map(([k, y]) => [k, one(y)])))) as LeafValue;
  return v;
}

type Take = (path: string[], value: LeafValue, keys: string[], sources?: Param[]) => void;
const val = (m: Map<string, Param>, k: string): string | undefined => m.get(k)?.value;
const nonEmpty = (m: Map<string, Param>, k: string): boolean => (m.get(k)?.value ?? '') !== '';

function ntp(m: Map<string, Param>, take: Take, first: string, second?: string): void {
  if (!nonEmpty(m, first)) return;
  if (second && m.has(second) && !nonEmpty(m, second)) return;
  const list = [val(m, first)!];
  const keys = [first];
  if (second && nonEmpty(m, second)) {
    list.push(val(m, second)!);
    keys.push(second);
  }
  take(['time', 'ntp'], list, keys);
}

/** Lines 1..n whose keys the template writes back exactly; the SIP server they share. */
function lines(
  m: Map<string, Param>,
  take: Take,
  prefix: (n: number) => string,
  f: { extension: string; auth: string; password: string; display: string; label: string; server: string; port: string; transport: string; enable?: string },
  transports: Record<string, string>,
): void {
  const found: Array<{ n: number; keys: string[]; line: Record<string, string> }> = [];
  let server: string | undefined;
  let port: string | undefined;
  let transport: string | undefined;
  for (let n = 1; n < 1000; n++) {
    const p = prefix(n);
    const k = (s: string) => `${p}${s}`;
    if (!nonEmpty(m, k(f.extension)) || !nonEmpty(m, k(f.auth)) || !nonEmpty(m, k(f.label))) break;
    if (f.enable && val(m, k(f.enable)) !== '1') break;
    const s = val(m, k(f.server));
    const po = val(m, k(f.port));
    const tr = val(m, k(f.transport));
    if (n === 1) {
      server = s;
      port = po;
      transport = tr;
    } else if (s !== server || po !== port || tr !== transport) break;
    if (s === '' || (po !== undefined && !/^[1-9]\d{0,4}$/.test(po)) || (po !== undefined && Number(po) > 65535)) break;
    if (tr !== undefined && !Object.values(transports).includes(tr)) break;
    const line: Record<string, string> = { extension: val(m, k(f.extension))!, auth_user: val(m, k(f.auth))! };
    const keys = [k(f.extension), k(f.auth), k(f.label)];
    if (m.has(k(f.password))) {
      line.password = val(m, k(f.password))!;
      keys.push(k(f.password));
    }
    if (m.has(k(f.display))) {
      line.display_name = val(m, k(f.display))!;
      keys.push(k(f.display));
    }
    line.label = val(m, k(f.label))!;
    if (f.enable) keys.push(k(f.enable));
    for (const x of [f.server, f.port, f.transport]) if (m.has(k(x))) keys.push(k(x));
    found.push({ n, keys, line });
  }
  if (!found.length) return;
  const serverKeys = found.flatMap((x) => x.keys.filter((k) => k.endsWith(f.server)));
  const portKeys = found.flatMap((x) => x.keys.filter((k) => k.endsWith(f.port)));
  const trKeys = found.flatMap((x) => x.keys.filter((k) => k.endsWith(f.transport)));
  const lineKeys = found.flatMap((x) => x.keys.filter((k) => !serverKeys.includes(k) && !portKeys.includes(k) && !trKeys.includes(k)));
  if (server !== undefined) take(['sip', 'server'], server, serverKeys);
  if (port !== undefined) take(['sip', 'port'], Number(port), portKeys);
  if (transport !== undefined) take(['sip', 'transport'], Object.entries(transports).find(([, v]) => v === transport)![0], trKeys);
  take(['lines'], found.map((x) => x.line), lineKeys);
}

function yealinkVocabulary(m: Map<string, Param>, take: Take): void {
  ntp(m, take, 'local_time.ntp_server1', 'local_time.ntp_server2');
  const pw = val(m, 'static.security.user_password');
  if (pw !== undefined && pw.startsWith('admin:') && pw.length > 6) take(['admin_password'], pw.slice(6), ['static.security.user_password']);
  lines(m, take, (n) => `account.${n}.`, {
    extension: 'user_name', auth: 'auth_name', password: 'password', display: 'display_name', label: 'label',
    server: 'sip_server.1.address', port: 'sip_server.1.port', transport: 'sip_server.1.transport_type', enable: 'enable',
  }, { udp: '0', tcp: '1', tls: '2' });
}

function polycomVocabulary(m: Map<string, Param>, take: Take): void {
  if (nonEmpty(m, 'voIpProt.SIP.domain')) take(['sip', 'domain'], val(m, 'voIpProt.SIP.domain')!, ['voIpProt.SIP.domain']);
  ntp(m, take, 'tcpIpApp.sntp.address');
  if (nonEmpty(m, 'device.auth.localAdminPassword') && val(m, 'device.auth.localAdminPassword.set') === '1' && val(m, 'device.set') === '1')
    take(['admin_password'], val(m, 'device.auth.localAdminPassword')!, ['device.auth.localAdminPassword', 'device.auth.localAdminPassword.set', 'device.set']);
  lines(m, take, (n) => `reg.${n}.`, {
    extension: 'address', auth: 'auth.userId', password: 'auth.password', display: 'displayName', label: 'label',
    server: 'server.1.address', port: 'server.1.port', transport: 'server.1.transport',
  }, { udp: 'UDPOnly', tcp: 'TCPOnly', tls: 'TLS' });
}

function avayaVocabulary(m: Map<string, Param>, take: Take): void {
  if (nonEmpty(m, 'SIPDOMAIN')) take(['sip', 'domain'], val(m, 'SIPDOMAIN')!, ['SIPDOMAIN']);
  const sntp = val(m, 'SNTPSRVR');
  if (sntp && /^[^\s,]+(,[^\s,]+)*$/.test(sntp)) take(['time', 'ntp'], sntp.split(','), ['SNTPSRVR']);
  if (nonEmpty(m, 'ADMIN_PASSWORD')) take(['admin_password'], val(m, 'ADMIN_PASSWORD')!, ['ADMIN_PASSWORD']);
  const scl = /^([^\s:;,"]+):([1-9]\d{0,4});transport=(udp|tcp|tls)$/.exec(val(m, 'SIP_CONTROLLER_LIST') ?? '');
  if (scl && Number(scl[2]) <= 65535) {
    // The three leaves share one source; the last takes it off the map.
    const src = [m.get('SIP_CONTROLLER_LIST')!];
    take(['sip', 'server'], scl[1]!, [], src);
    take(['sip', 'port'], Number(scl[2]), [], src);
    take(['sip', 'transport'], scl[3]!, ['SIP_CONTROLLER_LIST'], src);
  }
  if (nonEmpty(m, 'FORCE_SIP_EXTENSION') && nonEmpty(m, 'FORCE_SIP_USERNAME')) {
    const line: Record<string, string> = { extension: val(m, 'FORCE_SIP_EXTENSION')!, auth_user: val(m, 'FORCE_SIP_USERNAME')! };
    const keys = ['FORCE_SIP_EXTENSION', 'FORCE_SIP_USERNAME'];
    if (m.has('FORCE_SIP_PASSWORD')) {
      line.password = val(m, 'FORCE_SIP_PASSWORD')!;
      keys.push('FORCE_SIP_PASSWORD');
    }
    if (m.has('DISPLAY_NAME')) {
      line.display_name = val(m, 'DISPLAY_NAME')!;
      keys.push('DISPLAY_NAME');
    }
    take(['lines'], [line], keys);
  }
}
