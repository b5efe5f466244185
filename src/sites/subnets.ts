// Which site does a phone's address put it in? Sites list their networks
// (`subnets: [10.20.0.0/16, 2001:db8:20::/48]`); the longest prefix holding the address wins,
// as PDMS-E picks a device's site. Pure: addresses in, a site and the reason out.
//
// Addresses are parsed to bigints here (not net.BlockList, as ip-allow.ts does) because the
// answer must say WHICH subnet matched, and a lookup must cost a few Map probes per request.

import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

export interface Cidr extends Address {
  /** Prefix length: 0..32 for IPv4, 0..128 for IPv6. */
  len: number;
}

export interface SubnetEntry extends Cidr {
  site: string;
  /** As written in the site file. */
  text: string;
  loc?: SourceLoc;
}

export interface SiteChoice {
  site: string;
  /** The subnet that decided. */
  subnet: SubnetEntry;
  /** Every subnet holding the address, longest first (the first decided). */
  matches: SubnetEntry[];
  /** The address as compared (IPv4-mapped IPv6 reads as IPv4). */
  address: string;
}

const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // No leading zeros: 010 is octal to some tools and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(text: string): bigint | undefined {
  let head = text;
  let tailV4: bigint | undefined;
  // An embedded IPv4 tail (::ffff:10.0.0.1) counts as the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

/**
 * An address as the request reports it: IPv4, IPv6, IPv4-mapped IPv6 (a dual-stack socket's
 * view of an IPv4 peer, read as that IPv4 address), a zone id (`%eth0`) ignored.
 */
export function parseAddress(text: string): Address | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  const pct = text.indexOf('%');
  const bare = pct === -1 ? text : text.slice(0, pct);
  if (!bare.includes(':')) {
    const v = parseV4(bare);
    return v === undefined ? undefined : { family: 4, value: v };
  }
  const v = parseV6(bare);
  if (v === undefined) return undefined;
  if (v >> 32n === 0xffffn) return { family: 4, value: v & 0xffffffffn };
  return { family: 6, value: v };
}

/** `10.20.0.0/16`, `2001:db8::/32`, a bare address (a /32 or /128); an error message otherwise. */
export function parseCidr(text: string): Cidr | string {
  if (typeof text !== 'string') return 'expected a subnet such as 10.20.0.0/16 or 2001:db8:20::/48';
  const t = text.trim();
  if (t.includes('%')) return `"${t}": a zone id has no place in a subnet`;
  const slash = t.indexOf('/');
  const addrText = slash === -1 ? t : t.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) return `"${addrText}" is not an IPv4 or IPv6 address`;
  // ::ffff:10.20.0.0/112 is the IPv4 subnet 10.20.0.0/16: addresses are compared as IPv4.
  const mappedV6 = addr.family === 4 && addrText.includes(':');
  const max = mappedV6 ? 128 : bitsOf(addr.family);
  let len = max;
  if (slash !== -1) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `"${t}": the prefix length must be 0..${max}`;
    len = Number(p);
  }
  if (mappedV6) {
    if (len < 96) return `"${t}": an IPv4-mapped subnet needs a prefix of at least /96`;
    len -= 96;
  }
  // Host bits set (10.20.0.5/16) are masked off, as most firewall syntaxes do.
  return { family: addr.family, value: mask(addr.value, addr.family, len), len };
}

function mask(v: bigint, family: Family, len: number): bigint {
  const bits = BigInt(bitsOf(family));
  const hostBits = bits - BigInt(len);
  return (v >> hostBits) << hostBits;
}

export function formatAddress(a: Address): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((a.value >> s) & 0xffffn).toString(16));
  // The longest run of zero groups becomes `::` (RFC 5952).
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  if (best.at === -1) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/**
 * Every site's subnets, indexed by family and prefix length: a lookup masks the address once
 * per distinct length, longest first, and probes a Map.
 */
export class SubnetTable {
  private readonly byLen: Record<Family, Array<{ len: number; nets: Map<bigint, SubnetEntry> }>> = { 4: [], 6: [] };
  readonly entries: readonly SubnetEntry[];

  constructor(entries: readonly SubnetEntry[]) {
    this.entries = entries;
    for (const e of entries) {
      const list = this.byLen[e.family];
      let slot = list.find((s) => s.len === e.len);
      if (!slot) list.push((slot = { len: e.len, nets: new Map() }));
      // The first entry of a network keeps it; duplicates are reported by buildSubnetTable.
      if (!slot.nets.has(e.value)) slot.nets.set(e.value, e);
    }
    for (const f of [4, 6] as const) this.byLen[f].sort((a, b) => b.len - a.len);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The site of the longest subnet holding `ip`, or undefined (no subnet holds it, or not an address). */
  select(ip: string | undefined): SiteChoice | undefined {
    if (ip === undefined || this.entries.length === 0) return undefined;
    const a = parseAddress(ip);
    if (!a) return undefined;
    const matches: SubnetEntry[] = [];
    for (const slot of this.byLen[a.family]) {
      const hit = slot.nets.get(mask(a.value, a.family, slot.len));
      if (hit) matches.push(hit);
    }
    const first = matches[0];
    return first ? { site: first.site, subnet: first, matches, address: formatAddress(a) } : undefined;
  }
}

export interface SiteSubnetsInput {
  site: string;
  items: ReadonlyArray<{ text: unknown; loc?: SourceLoc }>;
}

/**
 * Build the table from each site's `subnets:` list. Bad entries are errors at their line.
 * Two sites claiming the same network at the same length are an error: longest-prefix
 * matching could not choose between them (a longer prefix inside a shorter one is the
 * point of the rule and is fine).
 */
export function buildSubnetTable(sites: readonly SiteSubnetsInput[]): { table: SubnetTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const entries: SubnetEntry[] = [];
  const seen = new Map<string, SubnetEntry>();
  for (const s of sites) {
    for (const item of s.items) {
      const parsed = parseCidr(item.text as string);
      if (typeof parsed === 'string') {
        diagnostics.push({ code: 'SITE_SUBNET', severity: 'error', message: `site ${s.site}: ${parsed}`, loc: item.loc });
        continue;
      }
      const entry: SubnetEntry = { ...parsed, site: s.site, text: String(item.text).trim(), loc: item.loc };
      const key = `${parsed.family}|${parsed.len}|${parsed.value}`;
      const prev = seen.get(key);
      if (prev) {
        const same = prev.site === s.site;
        diagnostics.push({
          code: same ? 'SITE_SUBNET_DUPLICATE' : 'SITE_SUBNET_OVERLAP',
          severity: same ? 'warning' : 'error',
          message: same
            ? `site ${s.site} lists ${entry.text} twice (as ${prev.text})`
            : `subnet ${entry.text} of site ${s.site} is also ${prev.text} of site ${prev.site}, equally specific: an address in it could be either site (make one prefix longer, or remove one)`,
          loc: item.loc,
          related: prev.loc ? [{ message: `${prev.text} of site ${prev.site}`, loc: prev.loc }] : undefined,
        });
        continue;
      }
      seen.set(key, entry);
      entries.push(entry);
    }
  }
  return { table: new SubnetTable(entries), diagnostics };
}

/** One line for `explain --ip`: which site the address selects, and why. */
export function describeChoice(ip: string, choice: SiteChoice | undefined, table: SubnetTable, fmtLoc: (l: SourceLoc | undefined) => string): string[] {
  if (!parseAddress(ip)) return [`Address ${ip}: not an IPv4 or IPv6 address; no site from subnets`];
  if (!choice) return [`Address ${ip}: in none of the ${table.size} site subnets; no site from subnets`];
  const out = [`Address ${ip}${choice.address !== ip ? ` (as ${choice.address})` : ''}: site ${choice.site}, subnet ${choice.subnet.text} (/${choice.subnet.len}) at ${fmtLoc(choice.subnet.loc)}`];
  for (const m of choice.matches.slice(1)) out.push(`  also in ${m.text} (/${m.len}) of site ${m.site} at ${fmtLoc(m.loc)}: a shorter prefix, not chosen`);
  return out;
}
