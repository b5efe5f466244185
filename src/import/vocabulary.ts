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

/** Where a vendor parameter goes when the vocabulary does not take it (Cisco enterprise <vendorConfig> children by their name). */
export function vendorMapPath(vendor: Vendor, key: string): string[] {
  if (vendor === 'avaya') return ['avaya', 'settings', key];
  if (vendor === 'grandstream') return ['grandstream', 'pvalues', key];
  if (vendor === 'snom') return ['snom', 'settings', key];
  if (vendor === 'cisco' && key.startsWith(VENDOR_CONFIG)) return ['cisco', 'params', key.slice(VENDOR_CONFIG.length)];
  return [vendor, 'params', key];
}

/** Enterprise SEP files: the parameters the template writes from cisco.params. */
export const VENDOR_CONFIG = 'vendorConfig.';

/** What the vocabulary needs to know about the subject's vendor and model (manifest data, model fields). */
export interface VocabularyContext {
  data?: Record<string, unknown>;
  fields?: Record<string, unknown>;
  /** A Cisco enterprise (SEP) subject: its keys are element paths. */
  enterprise?: boolean;
}

/** Leaves for one subject's effective parameters: vocabulary first, the rest in the vendor map. */
export function toLeaves(vendor: Vendor, params: Map<string, Param>, vocabulary: boolean, vc: VocabularyContext = {}): Leaf[] {
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
    else if (vendor === 'cisco') ciscoVocabulary(left, take, vc);
    else if (vendor === 'grandstream') grandstreamVocabulary(left, take, vc);
    else if (vendor === 'snom') snomVocabulary(left, take, vc);
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

type LineField = 'extension' | 'auth' | 'password' | 'display' | 'label';

/** How one vendor's template writes line n: its keys, the keys it writes with fixed values, its server. */
interface LineSpec {
  /** The key of a field of line n; undefined: this vendor (or model set) has no such key. */
  key: (n: number, field: LineField) => string | undefined;
  /** Keys the template writes with a fixed value for every line (Yealink enable = 1). */
  fixed?: (n: number) => Array<[string, string]>;
  /** The line's SIP server (vocabulary values) and the keys that hold it; undefined when it cannot be read. */
  server: (m: Map<string, Param>, n: number) => { server?: string; port?: string; transport?: string; keys: string[] } | undefined;
  /** The label may be absent (the round trip reads back only what the input had). */
  labelOptional?: boolean;
  max?: number;
}

/** Split keys of `key=value` vendor transports: "UDPOnly" -> "udp" with {udp: 'UDPOnly', …}. */
function transportOf(transports: Record<string, string>, v: string | undefined): string | undefined | null {
  if (v === undefined) return undefined;
  return Object.entries(transports).find(([, x]) => x === v)?.[0] ?? null;
}

/** Server, port and transport from separate keys (Yealink, Poly, Cisco enterprise). */
function separateServer(server: (n: number) => string, port: (n: number) => string, transport: (n: number) => string, transports: Record<string, string>): LineSpec['server'] {
  return (m, n) => {
    const t = transportOf(transports, val(m, transport(n)));
    if (t === null) return undefined;
    const keys = [server(n), port(n), transport(n)].filter((k) => m.has(k));
    return { server: val(m, server(n)), port: val(m, port(n)), transport: t, keys };
  };
}

/** Lines 1..n whose keys the template writes back exactly; the SIP server they share. */
function lines(m: Map<string, Param>, take: Take, spec: LineSpec): void {
  const found: Array<{ keys: string[]; line: Record<string, string> }> = [];
  let first: { server?: string; port?: string; transport?: string } | undefined;
  const serverKeys: string[] = [];
  for (let n = 1; n <= (spec.max ?? 999); n++) {
    const k = (f: LineField) => spec.key(n, f);
    const has = (f: LineField) => k(f) !== undefined && nonEmpty(m, k(f)!);
    if (!has('extension') || !has('auth') || (k('label') !== undefined && !spec.labelOptional && !has('label'))) break;
    const fixed = spec.fixed?.(n) ?? [];
    if (fixed.some(([key, v]) => val(m, key) !== v)) break;
    const srv = spec.server(m, n);
    if (!srv) break;
    if (n === 1) first = srv;
    else if (srv.server !== first!.server || srv.port !== first!.port || srv.transport !== first!.transport) break;
    const po = srv.port;
    if (srv.server === '' || (po !== undefined && (!/^[1-9]\d{0,4}$/.test(po) || Number(po) > 65535))) break;
    const line: Record<string, string> = { extension: val(m, k('extension')!)!, auth_user: val(m, k('auth')!)! };
    const keys = [k('extension')!, k('auth')!, ...fixed.map(([key]) => key)];
    for (const [f, name] of [['password', 'password'], ['display', 'display_name'], ['label', 'label']] as const) {
      const key = k(f);
      if (key === undefined || !m.has(key)) continue;
      line[name] = val(m, key)!;
      keys.push(key);
    }
    serverKeys.push(...srv.keys);
    found.push({ keys: [...new Set(keys)], line });
  }
  if (!found.length) return;
  const src = [...new Set(serverKeys)].map((k) => m.get(k)!);
  if (first?.server !== undefined) take(['sip', 'server'], first.server, [], src);
  if (first?.port !== undefined) take(['sip', 'port'], Number(first.port), [], src);
  if (first?.transport !== undefined) take(['sip', 'transport'], first.transport, [], src);
  for (const p of src) m.delete(p.key);
  take(['lines'], found.map((x) => x.line), found.flatMap((x) => x.keys));
}

function yealinkVocabulary(m: Map<string, Param>, take: Take): void {
  ntp(m, take, 'local_time.ntp_server1', 'local_time.ntp_server2');
  const pw = val(m, 'static.security.user_password');
  if (pw !== undefined && pw.startsWith('admin:') && pw.length > 6) take(['admin_password'], pw.slice(6), ['static.security.user_password']);
  const f = { extension: 'user_name', auth: 'auth_name', password: 'password', display: 'display_name', label: 'label' };
  lines(m, take, {
    key: (n, field) => `account.${n}.${f[field]}`,
    fixed: (n) => [[`account.${n}.enable`, '1']],
    server: separateServer((n) => `account.${n}.sip_server.1.address`, (n) => `account.${n}.sip_server.1.port`, (n) => `account.${n}.sip_server.1.transport_type`, { udp: '0', tcp: '1', tls: '2' }),
  });
}

function polycomVocabulary(m: Map<string, Param>, take: Take): void {
  if (nonEmpty(m, 'voIpProt.SIP.domain')) take(['sip', 'domain'], val(m, 'voIpProt.SIP.domain')!, ['voIpProt.SIP.domain']);
  ntp(m, take, 'tcpIpApp.sntp.address');
  if (nonEmpty(m, 'device.auth.localAdminPassword') && val(m, 'device.auth.localAdminPassword.set') === '1' && val(m, 'device.set') === '1')
    take(['admin_password'], val(m, 'device.auth.localAdminPassword')!, ['device.auth.localAdminPassword', 'device.auth.localAdminPassword.set', 'device.set']);
  const f = { extension: 'address', auth: 'auth.userId', password: 'auth.password', display: 'displayName', label: 'label' };
  lines(m, take, {
    key: (n, field) => `reg.${n}.${f[field]}`,
    server: separateServer((n) => `reg.${n}.server.1.address`, (n) => `reg.${n}.server.1.port`, (n) => `reg.${n}.server.1.transport`, { udp: 'UDPOnly', tcp: 'TCPOnly', tls: 'TLS' }),
  });
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

/** A vocabulary value of a vendor's `data` map whose vendor value is `v` ("German" -> "de"). */
function reverse(map: unknown, v: string | undefined, pick: (x: unknown) => unknown = (x) => x): string | undefined {
  if (v === undefined || !map || typeof map !== 'object') return undefined;
  return Object.entries(map as Record<string, unknown>).find(([, x]) => String(pick(x)) === v)?.[0];
}

function grandstreamVocabulary(m: Map<string, Param>, take: Take, vc: VocabularyContext): void {
  if (nonEmpty(m, 'P2')) take(['admin_password'], val(m, 'P2')!, ['P2']);
  ntp(m, take, 'P30');
  const lang = reverse(vc.data?.languages, val(m, 'P1362'));
  if (lang) take(['language'], lang, ['P1362']);
  const sets = (vc.data?.account_sets ?? {}) as Record<string, Array<Record<string, string>>>;
  const set = sets[String(vc.fields?.pset ?? 'phone')] ?? [];
  const transports = Object.fromEntries(Object.entries((vc.data?.transports ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  const f = { extension: 'user', auth: 'auth', password: 'password', display: 'display', label: 'name' } as const;
  lines(m, take, {
    max: set.length,
    key: (n, field) => set[n - 1]?.[f[field]],
    fixed: (n) => [[set[n - 1]!.active!, '1']],
    server: (pm, n) => {
      const a = set[n - 1]!;
      const t = transportOf(transports, val(pm, a.transport!));
      const hp = /^([^\s:;]+)(?::(\d+))?$/.exec(val(pm, a.server!) ?? '');
      if (t === null || !hp) return undefined;
      return { server: hp[1], port: hp[2], transport: t, keys: [a.server!, a.transport!].filter((k) => pm.has(k)) };
    },
  });
}

function snomVocabulary(m: Map<string, Param>, take: Take, vc: VocabularyContext): void {
  if (nonEmpty(m, 'admin_mode_password')) take(['admin_password'], val(m, 'admin_mode_password')!, ['admin_mode_password']);
  ntp(m, take, 'ntp_server');
  const lang = reverse(vc.data?.languages, val(m, 'language'));
  if (lang && val(m, 'web_language') === val(m, 'language')) take(['language'], lang, ['language', 'web_language']);
  const f = { extension: 'user_name', auth: 'user_pname', password: 'user_pass', display: 'user_realname', label: 'user_idle_text' } as const;
  lines(m, take, {
    key: (n, field) => `${f[field]}[${n}]`,
    fixed: (n) => [[`user_active[${n}]`, 'on']],
    server: (pm, n) => {
      const h = /^([^\s:;]+)(?::(\d+))?(?:;transport=(tcp|tls))?$/.exec(val(pm, `user_host[${n}]`) ?? '');
      return h ? { server: h[1], port: h[2], transport: h[3], keys: [`user_host[${n}]`] } : undefined;
    },
  });
}

const CM = 'devicePool.callManagerGroup.members.member.callManager.';
const LINE = (n: number) => `sipProfile.sipLines.line[${n}].`;

/** Elements the SEP template always writes with these values: an input that has them the same needs no setting. */
const SEP_FIXED: Readonly<Record<string, string>> = {
  fullConfig: 'true',
  deviceProtocol: 'SIP',
  [`${CM}ports.ethernetPhonePort`]: '2000',
  [`${CM}ports.securedSipPort`]: '5061',
  'devicePool.dateTimeSetting.ntps.ntp.ntpMode': 'Unicast',
  'sipProfile.sipProxies.registerWithProxy': 'true',
  'sipProfile.sipProxies.outboundProxy': '',
  'sipProfile.dialTemplate': 'dialplan.xml',
  'sipProfile.softKeyFile': 'SoftKeys.xml',
  'commonProfile.phonePassword': '',
  'commonProfile.backgroundImageAccess': 'true',
  'commonProfile.callLogBlfEnabled': '2',
  'devicePool.dateTimeSetting.dateTemplate': 'M/D/Ya',
  loadInformation: '',
};

function ciscoVocabulary(m: Map<string, Param>, take: Take, vc: VocabularyContext): void {
  if (!vc.enterprise) {
    ntp(m, take, 'Primary_NTP_Server', 'Secondary_NTP_Server');
    const admin = vc.fields?.family === 'spa' ? 'Admin_Passwd' : 'Admin_Password';
    if (vc.fields?.family && nonEmpty(m, admin)) take(['admin_password'], val(m, admin)!, [admin]);
    const f = { extension: 'User_ID', auth: 'Auth_ID', password: 'Password', display: 'Display_Name', label: 'Short_Name' } as const;
    lines(m, take, {
      key: (n, field) => `${f[field]}_${n}_`,
      fixed: (n) => [[`Line_Enable_${n}_`, 'Yes'], [`Use_Auth_ID_${n}_`, 'Yes']],
      server: (pm, n) => {
        const t = transportOf((vc.data?.transports ?? {}) as Record<string, string>, val(pm, `SIP_Transport_${n}_`));
        const hp = /^([^\s:;]+)(?::(\d+))?$/.exec(val(pm, `Proxy_${n}_`) ?? '');
        if (t === null || !hp) return undefined;
        return { server: hp[1], port: hp[2], transport: t, keys: [`Proxy_${n}_`, `SIP_Transport_${n}_`].filter((k) => pm.has(k)) };
      },
    });
    return;
  }
  for (const [k, v] of Object.entries(SEP_FIXED)) if (m.has(k) && val(m, k) === v) m.delete(k);
  const ntpName = 'devicePool.dateTimeSetting.ntps.ntp.name';
  if (nonEmpty(m, ntpName)) take(['time', 'ntp'], [val(m, ntpName)!], [ntpName]);
  if (nonEmpty(m, 'commonProfile.phonePassword')) take(['admin_password'], val(m, 'commonProfile.phonePassword')!, ['commonProfile.phonePassword']);
  const lang = reverse(vc.data?.languages, val(m, 'userLocale.name'), (x) => (x as { name?: string }).name);
  const code = lang && (vc.data?.languages as Record<string, { code?: string }>)[lang]?.code;
  if (lang && (!m.has('userLocale.langCode') || val(m, 'userLocale.langCode') === code) && (val(m, 'userLocale.winCharSet') ?? 'utf-8') === 'utf-8')
    take(['language'], lang, ['userLocale.name', 'userLocale.langCode', 'userLocale.winCharSet'].filter((k) => m.has(k)));
  const expires = val(m, 'sipProfile.sipStack.timerRegisterExpires');
  if (expires && /^[1-9]\d{0,6}$/.test(expires)) take(['sip', 'register_expires'], Number(expires), ['sipProfile.sipStack.timerRegisterExpires']);
  if (nonEmpty(m, 'sipProfile.sipProxies.outboundProxy')) take(['sip', 'outbound_proxy'], val(m, 'sipProfile.sipProxies.outboundProxy')!, ['sipProfile.sipProxies.outboundProxy']);
  // One port for the server, every line and the control port: the template writes sip.port to all of them.
  const portKeys = [`${CM}ports.sipPort`, 'sipProfile.voipControlPort', ...[...m.keys()].filter((k) => /^sipProfile\.sipLines\.line\[\d+\]\.port$/.test(k))].filter((k) => m.has(k));
  const ports = new Set(portKeys.map((k) => val(m, k)));
  const port = ports.size === 1 ? [...ports][0] : undefined;
  const transports = (vc.data?.enterprise_transports ?? {}) as Record<string, string>;
  lines(m, take, {
    labelOptional: true,
    key: (n, field) => `${LINE(n)}${{ extension: 'name', auth: 'authName', password: 'authPassword', display: 'displayName', label: 'featureLabel' }[field]}`,
    fixed: (n) => (
      [[`${LINE(n)}featureID`, '9'], [`${LINE(n)}proxy`, 'USECALLMANAGER'], [`${LINE(n)}sharedLine`, 'false'], [`${LINE(n)}contact`, val(m, `${LINE(n)}name`) ?? '']] as Array<[string, string]>
    ).filter(([k]) => m.has(k)),
    server: (pm) => {
      const t = transportOf(transports, val(pm, 'sipProfile.transportLayerProtocol'));
      if (t === null || (portKeys.length && port === undefined)) return undefined;
      return { server: val(pm, `${CM}processNodeName`), port, transport: t, keys: [`${CM}processNodeName`, 'sipProfile.transportLayerProtocol', ...portKeys].filter((k) => pm.has(k)) };
    },
  });
  // With no line, the server alone (XMLDefault-style files, or a phone with no line yet).
  if (nonEmpty(m, `${CM}processNodeName`)) take(['sip', 'server'], val(m, `${CM}processNodeName`)!, [`${CM}processNodeName`]);
  if (port && /^[1-9]\d{0,4}$/.test(port) && m.has(`${CM}ports.sipPort`)) take(['sip', 'port'], Number(port), portKeys.filter((k) => m.has(k)));
}
