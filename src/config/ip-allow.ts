// Which networks may fetch provisioning files, and which client address a request really
// came from when deskset sits behind a reverse proxy.
//
// Address matching is node's net.BlockList (no home-made CIDR arithmetic). BlockList already
// matches IPv4-mapped IPv6 (`::ffff:10.0.0.5`) against IPv4 rules and the other way round,
// which matters because a dual-stack listener reports IPv4 peers in mapped form.

import net from 'node:net';

/** The X-Forwarded-For header we look at is capped; phones' traffic has one or two hops. */
export const MAX_XFF_LENGTH = 2048;
/** Hops walked from the right, at most. */
const MAX_XFF_HOPS = 32;

export class IpAllowList {
  private readonly list = new net.BlockList();
  /** The entries as configured, for messages and `deskset check`. */
  readonly entries: readonly string[];

  /**
   * `cidrs`: `10.0.0.0/8`, `2001:db8::/32`, or a single address. Throws an Error naming the
   * first bad entry (the config loader turns it into a diagnostic at the entry's line).
   */
  constructor(cidrs: readonly string[]) {
    for (const raw of cidrs) {
      const entry = typeof raw === 'string' ? raw.trim() : '';
      const bad = (why: string): Error => new Error(`invalid address or CIDR ${JSON.stringify(String(raw))}: ${why}`);
      // Zone ids (`fe80::1%eth0`) are interface-local and cannot be meant in an allow-list.
      if (entry === '' || entry.includes('%')) throw bad('expected an address like 10.0.0.0/8 or 2001:db8::/32');
      const slash = entry.indexOf('/');
      const addr = slash === -1 ? entry : entry.slice(0, slash);
      const family = net.isIP(addr);
      if (family === 0) throw bad(`"${addr}" is not an IPv4 or IPv6 address`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash === -1) {
        this.list.addAddress(addr, type);
        continue;
      }
      const prefixText = entry.slice(slash + 1);
      const max = family === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw bad(`prefix must be 0..${max}`);
      // Host bits set (10.0.0.5/8) are masked off by BlockList, as in most firewall syntaxes.
      this.list.addSubnet(addr, Number(prefixText), type);
    }
    this.entries = [...cidrs];
  }

  /** True when `ip` (IPv4, IPv6 or IPv4-mapped IPv6, optionally with a zone id) is in the list. */
  allows(ip: string): boolean {
    const a = normalizeIp(ip);
    if (a === undefined) return false;
    return this.list.check(a, net.isIPv4(a) ? 'ipv4' : 'ipv6');
  }

  get size(): number {
    return this.entries.length;
  }
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A bare, comparable address: zone id dropped, IPv4-mapped IPv6 written as IPv4 (so logs and
 * fail2ban see `10.0.0.5`, which an iptables ban can match), undefined for anything that is
 * not an address.
 */
export function normalizeIp(ip: string): string | undefined {
  if (typeof ip !== 'string' || ip.length === 0 || ip.length > 64) return undefined;
  const pct = ip.indexOf('%');
  const bare = pct === -1 ? ip : ip.slice(0, pct);
  const family = net.isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return undefined;
  const m = MAPPED_V4.exec(bare);
  if (m && net.isIPv4(m[1]!)) return m[1]!;
  return bare.toLowerCase();
}

/** One X-Forwarded-For element: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:5678`. */
function parseHop(text: string): string | undefined {
  let t = text.trim();
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close === -1) return undefined;
    const rest = t.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    t = t.slice(1, close);
  } else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(t)) {
    t = t.slice(0, t.lastIndexOf(':'));
  }
  // normalizeIp also refuses `unknown`, obfuscated identifiers (RFC 7239) and garbage.
  return t.includes('%') ? undefined : normalizeIp(t);
}

/**
 * The address to attribute a request to.
 *
 * X-Forwarded-For is honoured only when the direct peer is a trusted proxy: anyone else can
 * write any XFF they like. Then the list is walked from the right (each proxy appends the
 * address it saw), skipping trusted proxies, and the first untrusted address is the client.
 * Entries left of it were written by the client and are never believed. Malformed entries are
 * skipped. If every entry is a trusted proxy, the left-most one is the best we know.
 * A header longer than MAX_XFF_LENGTH is cut to its right-most part (the part our proxies
 * wrote); the first, possibly truncated, element of that part is dropped.
 */
export function clientIp(remote: string, xff: string | undefined, trustedProxies: IpAllowList | undefined): string {
  const peer = normalizeIp(remote) ?? remote;
  if (!trustedProxies || typeof xff !== 'string' || xff === '' || !trustedProxies.allows(peer)) return peer;
  let header = xff;
  let dropFirst = false;
  if (header.length > MAX_XFF_LENGTH) {
    header = header.slice(header.length - MAX_XFF_LENGTH);
    dropFirst = true;
  }
  const parts = header.split(',');
  if (dropFirst) parts.shift();
  let leftmostTrusted: string | undefined;
  for (let i = parts.length - 1, hops = 0; i >= 0 && hops < MAX_XFF_HOPS; i--, hops++) {
    const hop = parseHop(parts[i]!);
    if (hop === undefined) continue;
    if (!trustedProxies.allows(hop)) return hop;
    leftmostTrusted = hop;
  }
  return leftmostTrusted ?? peer;
}
