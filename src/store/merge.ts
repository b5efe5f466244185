// How a batch of observations updates a device record: the same pure code for every store,
// so SQLite and PostgreSQL cannot drift. Newer facts win (by time, not by arrival: two
// servers flush in any order); first_seen only moves back, last_seen only forward; each
// file keeps its latest fetch.

import type { DeviceRecord, FileFetch, Observation } from './contract.js';

export type Merged = Omit<DeviceRecord, 'result'> & { result?: DeviceRecord['result'] };

const FIELDS = ['vendor', 'model', 'firmware', 'hardware', 'ip', 'site'] as const;

export function mergeDevice(existing: DeviceRecord | undefined, batch: readonly Observation[]): Merged {
  const sorted = [...batch].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const d: Merged = existing
    ? { ...existing, files: [...existing.files] }
    : { mac: sorted[0]!.mac, configured: sorted[0]!.configured, firstSeen: sorted[0]!.at, lastSeen: sorted[0]!.at, files: [] };
  const files = new Map<string, FileFetch>(d.files.map((f) => [f.name, f]));
  for (const o of sorted) {
    if (o.at < d.firstSeen) d.firstSeen = o.at;
    // An observation older than what we hold (another server's late batch) fills gaps only.
    const newer = o.at >= d.lastSeen;
    if (newer) {
      d.lastSeen = o.at;
      d.configured = o.configured;
    }
    for (const k of FIELDS) {
      const v = o[k];
      if (v !== undefined && v !== '' && (newer || d[k] === undefined)) d[k] = v;
    }
    if (o.file) {
      const had = files.get(o.file.name);
      if (!had || o.file.at >= had.at) files.set(o.file.name, o.file);
    }
  }
  d.files = [...files.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return d;
}

/** Observations by MAC, in first-seen order. */
export function byMac(batch: readonly Observation[]): Map<string, Observation[]> {
  const out = new Map<string, Observation[]>();
  for (const o of batch) {
    const list = out.get(o.mac);
    if (list) list.push(o);
    else out.set(o.mac, [o]);
  }
  return out;
}
