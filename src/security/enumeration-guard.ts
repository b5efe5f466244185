// Defence against walking the MAC space. One OUI is 16.7M addresses; a scanner that asks for
// `<mac>.cfg` across it harvests every SIP password a MAC-only server hands out. Two brakes:
//
//  1. Per client: a phone asks for its own MAC's files (and the shared ones), so one address
//     asking for many DIFFERENT MACs it may not have is a scanner. Past `maxDistinct` distinct
//     MACs within `windowMs`, the client is cooled down for `cooldownMs` (the caller answers
//     429). One `mac_enumeration` event is emitted per cool-down.
//  2. Per client and device: `lockoutAttempts` failed authentications for one MAC from one
//     client within `windowMs` lock that MAC for that client for `lockoutMs` (the Avaya DES
//     pattern: 3 failures). Keyed on the pair, not the MAC alone, so a stranger who knows a
//     MAC cannot lock the real phone out; guessing from many addresses is bounded by the
//     cool-down (every failure is also a miss) and by fail2ban on `auth_failed`.
//
// Each event is shaped to become ONE JSON log line (see logGuardEvent and
// docs/fail2ban/deskset.conf), so fail2ban can turn a cool-down into a firewall ban.
//
// IPv6: a single host usually owns a whole /64 and can rotate addresses inside it for free,
// so clients are tracked per /64 (configurable); events still carry the exact address.
//
// Memory stays bounded under a flood from many addresses: every table is an LRU (a Map in
// insertion order, touched entries re-inserted) capped at `maxTrackedIps`/`maxTrackedDevices`,
// and cool-downs/locks live in their own tables, so flooding the window table with fresh
// addresses cannot evict (and so lift) an active cool-down.
//
// Pure apart from the injected clock: no timers, so nothing to clean up and nothing leaks.

import { normalizeIp } from '../config/ip-allow.js';

export type GuardEvent =
  | { event: 'mac_enumeration'; ip: string; distinct: number; window_s: number }
  | { event: 'auth_failed'; ip: string; mac: string; failures: number }
  | { event: 'device_locked'; ip: string; mac: string; failures: number; lock_s: number };

export interface EnumerationGuardOptions {
  /** Distinct MACs one client may miss on within the window. Default 20; the 21st starts a cool-down. */
  maxDistinct?: number;
  /** Sliding window for distinct misses and for auth failures. Default 10 min. */
  windowMs?: number;
  /** How long a client is refused after tripping maxDistinct. Default 10 min. */
  cooldownMs?: number;
  /** Failed authentications per device, within the window, that lock it. Default 3 (Avaya DES). */
  lockoutAttempts?: number;
  /** How long a device stays locked. Default 10 min. */
  lockoutMs?: number;
  now?: () => number;
  onEvent?: (e: GuardEvent) => void;
  /** Memory bound for per-client tables (each). Default 100 000. */
  maxTrackedIps?: number;
  /** Memory bound for per-device tables (each). Default: maxTrackedIps. */
  maxTrackedDevices?: number;
  /** IPv6 clients are grouped by this prefix length. Default 64. 128 = per address. */
  ipv6PrefixBits?: number;
  /** Clients never cooled down (the phones' own networks, a monitoring host). */
  exempt?: (ip: string) => boolean;
}

export const GUARD_DEFAULTS = {
  maxDistinct: 20,
  windowMs: 10 * 60_000,
  cooldownMs: 10 * 60_000,
  lockoutAttempts: 3,
  lockoutMs: 10 * 60_000,
  maxTrackedIps: 100_000,
  ipv6PrefixBits: 64,
} as const;

/** Longer "MACs" are truncated as keys; callers pass normalized 12-hex MACs anyway. */
const MAX_KEY = 32;

export class EnumerationGuard {
  private readonly o: Required<Omit<EnumerationGuardOptions, 'onEvent' | 'exempt' | 'maxTrackedDevices'>> & { maxTrackedDevices: number };
  private readonly onEvent: (e: GuardEvent) => void;
  private readonly exempt: (ip: string) => boolean;
  /** client key -> (mac -> last miss time), both in least-recently-used order. */
  private readonly windows = new Map<string, Map<string, number>>();
  /** client key -> cool-down end. */
  private readonly cooldowns = new Map<string, number>();
  /** client key + mac -> failure times within the window. */
  private readonly failures = new Map<string, number[]>();
  /** client key + mac -> lock end. */
  private readonly locks = new Map<string, number>();

  constructor(opts: EnumerationGuardOptions = {}) {
    const maxTrackedIps = opts.maxTrackedIps ?? GUARD_DEFAULTS.maxTrackedIps;
    this.o = {
      maxDistinct: opts.maxDistinct ?? GUARD_DEFAULTS.maxDistinct,
      windowMs: opts.windowMs ?? GUARD_DEFAULTS.windowMs,
      cooldownMs: opts.cooldownMs ?? GUARD_DEFAULTS.cooldownMs,
      lockoutAttempts: opts.lockoutAttempts ?? GUARD_DEFAULTS.lockoutAttempts,
      lockoutMs: opts.lockoutMs ?? GUARD_DEFAULTS.lockoutMs,
      now: opts.now ?? Date.now,
      maxTrackedIps,
      maxTrackedDevices: opts.maxTrackedDevices ?? maxTrackedIps,
      ipv6PrefixBits: opts.ipv6PrefixBits ?? GUARD_DEFAULTS.ipv6PrefixBits,
    };
    for (const [k, v] of Object.entries(this.o)) {
      if (typeof v === 'number' && !(Number.isFinite(v) && v >= 1)) throw new RangeError(`EnumerationGuard: ${k} must be a positive number`);
    }
    if (this.o.ipv6PrefixBits > 128) throw new RangeError('EnumerationGuard: ipv6PrefixBits must be 1..128');
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.exempt = opts.exempt ?? (() => false);
  }

  /** True while the client is cooling down: answer 429 without doing any work. */
  blocked(ip: string): boolean {
    if (this.exempt(ip)) return false;
    return this.coolingDown(this.clientKey(ip));
  }

  /**
   * A request for a MAC file the client did not get: an unknown MAC, or a known one without
   * valid credentials/token. Repeats of the same MAC count once (an unprovisioned phone that
   * retries its own file every minute is not a scanner).
   */
  recordMiss(ip: string, mac: string): void {
    if (this.exempt(ip)) return;
    const key = this.clientKey(ip);
    // While cooling down nothing is counted: the event fires once per cool-down.
    if (this.coolingDown(key)) return;
    const now = this.o.now();
    const win = touch(this.windows, key) ?? new Map<string, number>();
    // Entries are in last-seen order, so everything stale is at the front.
    const horizon = now - this.o.windowMs;
    for (const [m, t] of win) {
      if (t > horizon) break;
      win.delete(m);
    }
    const k = String(mac).slice(0, MAX_KEY);
    win.delete(k);
    win.set(k, now);
    if (win.size > this.o.maxDistinct) {
      this.windows.delete(key);
      setCapped(this.cooldowns, key, now + this.o.cooldownMs, this.o.maxTrackedIps);
      this.onEvent({ event: 'mac_enumeration', ip: displayIp(ip), distinct: win.size, window_s: Math.round(this.o.windowMs / 1000) });
      return;
    }
    setCapped(this.windows, key, win, this.o.maxTrackedIps);
  }

  /**
   * A MAC the client did get after all (it answered the challenge): a phone that is challenged
   * before it sends its credentials is not a scanner, so its own MAC stops counting.
   */
  forgive(ip: string, mac: string): void {
    this.windows.get(this.clientKey(ip))?.delete(String(mac).slice(0, MAX_KEY));
  }

  /** A failed authentication for `mac` from `ip`. Emits `auth_failed`, or `device_locked` on the one that locks. */
  recordAuthFailure(mac: string, ip: string): void {
    const m = String(mac).slice(0, MAX_KEY);
    const k = this.lockKey(mac, ip);
    const now = this.o.now();
    if (this.locked(k)) {
      // Not extended: a lock that anyone can prolong forever is a worse denial of service.
      this.onEvent({ event: 'auth_failed', ip: displayIp(ip), mac: m, failures: this.o.lockoutAttempts });
      return;
    }
    const horizon = now - this.o.windowMs;
    const list = (touch(this.failures, k) ?? []).filter((t) => t > horizon);
    list.push(now);
    if (list.length >= this.o.lockoutAttempts) {
      this.failures.delete(k);
      setCapped(this.locks, k, now + this.o.lockoutMs, this.o.maxTrackedDevices);
      this.onEvent({ event: 'device_locked', ip: displayIp(ip), mac: m, failures: list.length, lock_s: Math.round(this.o.lockoutMs / 1000) });
      return;
    }
    setCapped(this.failures, k, list, this.o.maxTrackedDevices);
    this.onEvent({ event: 'auth_failed', ip: displayIp(ip), mac: m, failures: list.length });
  }

  /** True while the device is locked for this client: refuse without accepting credentials. */
  deviceLocked(mac: string, ip: string): boolean {
    return this.locked(this.lockKey(mac, ip));
  }

  /** A good login clears this client's failure count for the device (it does not lift a lock in force). */
  recordAuthSuccess(mac: string, ip: string): void {
    this.failures.delete(this.lockKey(mac, ip));
  }

  /** Table sizes, for tests and a status endpoint. */
  stats(): { trackedIps: number; coolingDown: number; trackedDevices: number; locked: number } {
    return { trackedIps: this.windows.size, coolingDown: this.cooldowns.size, trackedDevices: this.failures.size, locked: this.locks.size };
  }

  private locked(key: string): boolean {
    return inForce(this.locks, key, this.o.now());
  }

  private lockKey(mac: string, ip: string): string {
    return `${this.clientKey(ip)}|${String(mac).slice(0, MAX_KEY)}`;
  }

  private coolingDown(key: string): boolean {
    return inForce(this.cooldowns, key, this.o.now());
  }

  private clientKey(ip: string): string {
    const a = normalizeIp(ip);
    if (a === undefined) return `?${String(ip).slice(0, 64)}`;
    if (!a.includes(':')) return a;
    return ipv6Prefix(a, this.o.ipv6PrefixBits) ?? a;
  }
}

/** Whether the lock or cool-down under `key` still holds; an expired one is dropped. */
function inForce(ends: Map<string, number>, key: string, now: number): boolean {
  const until = ends.get(key);
  if (until === undefined) return false;
  if (until > now) return true;
  ends.delete(key);
  return false;
}

/** Re-insert an entry at the young end of an LRU map; returns its value. */
function touch<V>(map: Map<string, V>, key: string): V | undefined {
  const v = map.get(key);
  if (v !== undefined) {
    map.delete(key);
    map.set(key, v);
  }
  return v;
}

/** Set at the young end and evict the oldest entries past `cap`. */
function setCapped<V>(map: Map<string, V>, key: string, value: V, cap: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > cap) map.delete(map.keys().next().value as string);
}

function displayIp(ip: string): string {
  return normalizeIp(ip) ?? String(ip).slice(0, 64);
}

/** `2001:db8:1:2:aaaa::1` -> `2001:db8:1:2::/64`-style key (the address masked to `bits`). */
export function ipv6Prefix(ip: string, bits: number): string | undefined {
  const groups = expandIpv6(ip);
  if (!groups) return undefined;
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    out.push(keep === 0 ? 0 : groups[i]! & (0xffff << (16 - keep)) & 0xffff);
  }
  return `${out.map((g) => g.toString(16)).join(':')}/${bits}`;
}

/** Eight 16-bit groups of a valid IPv6 address (as net.isIPv6 accepts it, zone already removed). */
function expandIpv6(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const tail: number[] = [];
  // An embedded IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is the last two groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const b = last.split('.').map(Number);
    if (b.length !== 4 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    text = text.slice(0, lastColon + 1); // keeps `::` intact; a single trailing `:` goes next
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - tail.length - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const all = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest, ...tail];
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}

/** Anything with pino's `warn(obj, msg)`. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

const MESSAGES: Record<GuardEvent['event'], string> = {
  mac_enumeration: 'client asked for too many different MAC files; cooling down',
  auth_failed: 'authentication failed',
  device_locked: 'too many failed authentications; device locked',
};

/**
 * Write a guard event as one pino line. Key order is fixed (event, ip first) because the
 * fail2ban filter anchors on it; with createLogger() the line reads
 * `{"level":"warn","time":"…","event":"mac_enumeration","ip":"203.0.113.9","distinct":21,"window_s":600,"msg":"…"}`.
 */
export function logGuardEvent(log: WarnLogger, e: GuardEvent): void {
  const { event, ip, ...rest } = e;
  log.warn({ event, ip, ...rest }, MESSAGES[event]);
}
