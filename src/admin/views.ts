// What the admin API answers, as pure functions of a snapshot, the server's health and the
// inventory: the routes (routes.ts) only read the request and hand these a value.

import { formatLoc, type Diagnostic } from '../check/diagnostics.js';
import { redactSecrets } from '../config/secret-refs.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { sharedTargets, deviceTargets } from '../pipeline/request.js';
import type { RenderTarget } from '../render/render.js';
import type { Health } from '../service/reloader.js';

export interface Finding {
  code: string;
  severity: string;
  message: string;
  /** file:line:col, or null when the finding has no place. */
  at: string | null;
  device: string | null;
}

/** A diagnostic as the API shows it: location as file:line:col, secrets masked in the message. */
export function finding(d: Diagnostic, secrets: ReadonlySet<string>): Finding {
  return { code: d.code, severity: d.severity, message: redactSecrets(d.message, secrets), at: d.loc ? formatLoc(d.loc) : null, device: d.device ?? null };
}

const ageSeconds = (since: Date, nowMs: number) => Math.max(0, Math.round((nowMs - since.getTime()) / 1000));

export function snapshotView(snap: Snapshot, nowMs: number) {
  const list = snap.diagnostics.map((d) => finding(d, snap.secrets));
  return {
    id: snap.id,
    loadedAt: snap.loadedAt.toISOString(),
    ageSeconds: ageSeconds(snap.loadedAt, nowMs),
    devices: snap.profiles.devices.size,
    errors: list.filter((f) => f.severity === 'error'),
    warnings: list.filter((f) => f.severity !== 'error'),
  };
}

export function statusView(health: Health, snap: Snapshot, opts: { version: string; startedAt: Date; nowMs: number; inventory: boolean }) {
  return {
    ok: health.ok,
    version: opts.version,
    startedAt: opts.startedAt.toISOString(),
    uptimeSeconds: ageSeconds(opts.startedAt, opts.nowMs),
    snapshot: { id: snap.id, ageSeconds: ageSeconds(snap.loadedAt, opts.nowMs), devices: snap.profiles.devices.size },
    // Reload problems: the last good snapshot keeps serving while these stand.
    errors: health.errors.map((d) => finding(d, snap.secrets)),
    warnings: (health.warnings ?? []).map((d) => finding(d, snap.secrets)),
    validating: health.validating ?? null,
    lastReload: health.lastReload ?? null,
    inventory: opts.inventory,
  };
}

/** What the inventory knows of one phone (the state store's record, as far as the API shows it). */
export interface InventoryRecord {
  mac: string;
  vendor?: string | null;
  model?: string | null;
  firmware?: string | null;
  ip?: string | null;
  site?: string | null;
  firstSeen?: string | null;
  lastSeen?: string | null;
  provisionResult?: string | null;
}

export const PROVISION_RESULTS = ['ok', 'stale', 'failing', 'never', 'unknown'] as const;

export interface DeviceRow {
  mac: string;
  configured: boolean;
  vendor: string | null;
  model: string | null;
  site: string | null;
  groups: string[];
  firmware: string | null;
  ip: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  provisionResult: string;
}

export const DEVICE_COLUMNS: ReadonlyArray<keyof DeviceRow> = ['mac', 'configured', 'vendor', 'model', 'site', 'groups', 'firmware', 'ip', 'firstSeen', 'lastSeen', 'provisionResult'];

/**
 * The inventory joined with the root: every configured device (`never` when not seen), and
 * every phone seen that is not configured (`unknown`). Sorted by MAC, so pages are stable.
 */
export function deviceRows(snap: Snapshot, seen: Iterable<InventoryRecord>): DeviceRow[] {
  const byMac = new Map<string, InventoryRecord>();
  for (const r of seen) byMac.set(r.mac, r);
  const rows: DeviceRow[] = [];
  for (const d of snap.profiles.devices.values()) {
    const r = byMac.get(d.mac);
    byMac.delete(d.mac);
    rows.push({
      mac: d.mac,
      configured: true,
      vendor: d.model.vendor,
      model: d.model.name,
      site: d.site ?? r?.site ?? null,
      groups: d.groups,
      firmware: r?.firmware ?? null,
      ip: r?.ip ?? null,
      firstSeen: r?.firstSeen ?? null,
      lastSeen: r?.lastSeen ?? null,
      provisionResult: r?.provisionResult ?? 'never',
    });
  }
  for (const r of byMac.values()) {
    rows.push({ mac: r.mac, configured: false, vendor: r.vendor ?? null, model: r.model ?? null, site: r.site ?? null, groups: [], firmware: r.firmware ?? null, ip: r.ip ?? null, firstSeen: r.firstSeen ?? null, lastSeen: r.lastSeen ?? null, provisionResult: r.provisionResult ?? 'unknown' });
  }
  return rows.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}

/**
 * The files a configured phone gets: its own, its model's, and its vendor's shared ones, by
 * the name it asks for. `name` may be the full request path or its last segment.
 */
export function phoneFiles(snap: Snapshot, mac: string): RenderTarget[] {
  const d = snap.profiles.devices.get(mac);
  if (!d) return [];
  const own = deviceTargets(snap, [mac]);
  const ownIds = new Set(own.map((t) => t.file.id));
  const shared = sharedTargets(snap).filter((t) => t.file.vendor === d.model.vendor && !ownIds.has(t.file.id) && (!t.model || t.model.name === d.model.name));
  return [...own, ...shared];
}

export function findPhoneFile(snap: Snapshot, mac: string, name: string): RenderTarget | undefined {
  const files = phoneFiles(snap, mac);
  return files.find((t) => t.path === name) ?? files.find((t) => t.path.slice(t.path.lastIndexOf('/') + 1) === name);
}
