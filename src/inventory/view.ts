// `deskset devices`: the inventory joined with the root. Pure: records and a snapshot in,
// rows out. Results are judged again against the snapshot given (the one on disk now), so a
// phone whose files changed since its last fetch reads `stale` even if no request came since.

import type { Snapshot } from '../snapshot/snapshot.js';
import { deviceRow, type DeviceColumn, type DeviceRecord, type FileFetch, type Judge, type ProvisionResult } from '../store/contract.js';
import { matches, type Where } from '../store/where.js';
import type { Lifecycle } from '../enroll/lifecycle.js';

export interface DeviceView extends Record<DeviceColumn, string> {
  result: ProvisionResult;
  /** In the root (a device profile), or bound by a code. */
  configured: boolean;
  files: FileFetch[];
  /** A placeholder's row (no MAC yet): its name. */
  placeholder?: string;
}

/** Enrollment lifecycles (src/enroll/lifecycle.ts), when enrollment is on. */
export interface Lifecycles {
  macs: ReadonlyMap<string, Lifecycle>;
  placeholders: ReadonlyMap<string, Lifecycle>;
}

/**
 * One row per MAC the inventory or the root knows, then one per placeholder no phone holds
 * yet: a configuration prepared for a phone never seen, so its result is `never`.
 */
export function joinInventory(snap: Snapshot, records: readonly DeviceRecord[], judge: Judge, lifecycles?: Lifecycles): DeviceView[] {
  const out: DeviceView[] = [];
  const seen = new Set<string>();
  const state = (mac: string) => lifecycles?.macs.get(mac) ?? '';
  for (const r of records) {
    seen.add(r.mac);
    const configured = snap.profiles.devices.has(r.mac);
    const rec = { ...r, configured };
    const result = configured ? judge(rec) : 'unknown';
    out.push({ ...deviceRow({ ...rec, result }), state: state(r.mac), result, configured, files: r.files });
  }
  for (const d of snap.profiles.devices.values()) {
    if (seen.has(d.mac)) continue;
    out.push({ ...deviceRow({ mac: d.mac, vendor: d.model.vendor, model: d.model.name, site: d.site, firstSeen: '', lastSeen: '', result: 'never' }), state: state(d.mac), result: 'never', configured: true, files: [] });
  }
  // MACs only enrollment knows: a code pinned to them, or wrong codes that locked them.
  for (const [mac, st] of lifecycles?.macs ?? []) {
    if (seen.has(mac) || snap.profiles.devices.has(mac)) continue;
    out.push({ ...deviceRow({ mac, firstSeen: '', lastSeen: '', result: 'never' }), state: st, result: 'never', configured: false, files: [] });
  }
  out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  for (const [name, st] of lifecycles?.placeholders ?? []) {
    const p = snap.profiles.placeholders.get(name);
    if (p) out.push({ ...deviceRow({ mac: '', vendor: p.model.vendor, model: p.model.name, site: p.site, firstSeen: '', lastSeen: '', result: 'never' }), state: st, result: 'never', configured: true, files: [], placeholder: name });
  }
  return out;
}

export interface Selection {
  where?: Where;
  /** --stale: not up to date, or not seen for this long (ms). */
  staleMs?: number;
  unknown?: boolean;
  never?: boolean;
  now: number;
}

/** --where narrows; --stale, --unknown and --never each add their devices (any of them). */
export function selectDevices(rows: readonly DeviceView[], s: Selection): DeviceView[] {
  const picking = s.staleMs !== undefined || s.unknown || s.never;
  const cutoff = s.staleMs === undefined ? '' : new Date(s.now - s.staleMs).toISOString();
  return rows.filter((r) => {
    if (s.where && !matches(s.where, r)) return false;
    if (!picking) return true;
    if (s.unknown && r.result === 'unknown') return true;
    if (s.never && r.result === 'never') return true;
    if (s.staleMs !== undefined && r.configured && (r.result === 'stale' || r.result === 'never' || (s.staleMs > 0 && r.last_seen < cutoff))) return true;
    return false;
  });
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `12h`, `3d`, `2w`, or `0`; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  return Number.isFinite(ms) ? ms : undefined;
}

export const VIEW_COLUMNS: readonly DeviceColumn[] = ['mac', 'result', 'vendor', 'model', 'firmware', 'hardware', 'ip', 'site', 'first_seen', 'last_seen', 'state'];

/** A plain-text table (the default output); a STATE column when enrollment gives any row one. */
export function formatTable(rows: readonly DeviceView[]): string {
  const cols: Array<[string, (r: DeviceView) => string]> = [
    ['MAC', (r) => (r.placeholder !== undefined ? `(${r.placeholder})` : r.mac)],
    ['RESULT', (r) => r.result],
    ...(rows.some((r) => r.state) ? [['STATE', (r: DeviceView) => r.state] as [string, (r: DeviceView) => string]] : []),
    ['MODEL', (r) => r.model],
    ['FIRMWARE', (r) => r.firmware],
    ['SITE', (r) => r.site],
    ['IP', (r) => r.ip],
    ['LAST SEEN', (r) => r.last_seen.replace(/\.\d+Z$/, 'Z')],
  ];
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => f(r) || '-'))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
