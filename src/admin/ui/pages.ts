// What each dashboard page shows, as pure functions of plain values (the snapshot, the joined
// inventory rows, the server's health). The router (router.ts) gathers the inputs; the
// templates only lay the values out, escaped.

import type { DeviceView as JoinedDevice } from '../../inventory/view.js';
import type { DeviceExplanation } from '../../config/explain-device.js';
import type { FirmwareModelReport } from '../../render/firmware-report.js';
import type { ReloadEntry } from '../../service/reloader.js';
import { PROVISION_RESULTS, type ProvisionResult } from '../../store/contract.js';
import type { Finding } from '../views.js';

export interface Count {
  name: string;
  count: number;
}

/** Results that want a person's eyes, worst first. */
const ATTENTION: readonly ProvisionResult[] = ['failing', 'stale', 'unknown', 'never'];

export function countBy<T>(rows: readonly T[], pick: (r: T) => string): Count[] {
  const m = new Map<string, number>();
  for (const r of rows) {
    const k = pick(r) || '(none)';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
}

export interface FleetPage {
  total: number;
  inventory: boolean;
  byVendor: Count[];
  byModel: Count[];
  bySite: Count[];
  byFirmware: Count[];
  byResult: Count[];
  /** Devices to look at first: failing, then stale, unknown and never seen; capped. */
  attention: JoinedDevice[];
  attentionMore: number;
}

export function fleetPage(rows: readonly JoinedDevice[], inventory: boolean, cap = 50): FleetPage {
  // Without an inventory every device reads `never`: that is not news, so nothing is flagged.
  // One bucket per result, each in the rows' own (MAC) order: no sort over the whole fleet.
  const flagged = inventory ? ATTENTION.flatMap((result) => rows.filter((r) => r.result === result)) : [];
  return {
    total: rows.length,
    inventory,
    byVendor: countBy(rows, (r) => r.vendor),
    byModel: countBy(rows, (r) => r.model),
    bySite: countBy(rows, (r) => r.site),
    byFirmware: inventory ? countBy(rows, (r) => r.firmware) : [],
    byResult: inventory ? PROVISION_RESULTS.map((name) => ({ name, count: rows.filter((r) => r.result === name).length })) : [],
    attention: flagged.slice(0, cap),
    attentionMore: Math.max(0, flagged.length - cap),
  };
}

export interface PageLinks {
  from: number;
  to: number;
  total: number;
  prev: string | null;
  next: string | null;
}

/** Links to the previous and next page of a list, keeping the other query parameters. */
export function pageLinks(base: string, params: Record<string, string | undefined>, offset: number, limit: number, total: number): PageLinks {
  const href = (o: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
    if (o > 0) q.set('offset', String(o));
    if (limit !== DEVICE_PAGE) q.set('limit', String(limit));
    const s = q.toString();
    return s ? `${base}?${s}` : base;
  };
  return {
    from: total === 0 ? 0 : offset + 1,
    to: Math.min(total, offset + limit),
    total,
    prev: offset > 0 ? href(Math.max(0, offset - limit)) : null,
    next: offset + limit < total ? href(offset + limit) : null,
  };
}

export const DEVICE_PAGE = 50;

/** One row of the layer view: a value, where it was set, and what it overrode. */
export interface LayerRow {
  key: string;
  value: string;
  layer: string;
  at: string;
  overrode: Array<{ value: string; layer: string; at: string }>;
}

/** Values as explain shows them: strings as they are, the rest as JSON (secrets arrive masked). */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  return JSON.stringify(v) ?? String(v);
}

export function layerRows(e: DeviceExplanation, place: (at: string) => string = (at) => at): { values: LayerRow[]; removed: Array<{ key: string; layer: string; at: string }> } {
  return {
    values: e.values.map((v) => ({ key: v.key, value: showValue(v.value), layer: v.setBy.layer, at: place(v.setBy.at), overrode: v.overrode.map((o) => ({ value: showValue(o.value), layer: o.layer, at: place(o.at) })) })),
    removed: e.removed.map((r) => ({ key: r.key, layer: r.removedBy.layer, at: place(r.removedBy.at) })),
  };
}

export interface SnapshotPage {
  id: string;
  loadedAt: string;
  devices: number;
  ok: boolean;
  errors: Finding[];
  warnings: Finding[];
  reloadErrors: Finding[];
  reloads: Array<ReloadEntry & { changedText: string }>;
}

export function snapshotPage(s: { id: string; loadedAt: string; devices: number; errors: Finding[]; warnings: Finding[] }, health: { ok: boolean; errors: Finding[]; warnings: Finding[]; reloads: readonly ReloadEntry[] }): SnapshotPage {
  return {
    ...s,
    ok: health.ok,
    // A rejected reload's errors: the last good snapshot keeps serving while they stand.
    reloadErrors: health.errors,
    warnings: [...s.warnings, ...health.warnings],
    reloads: health.reloads.map((r) => ({ ...r, changedText: r.changed.length > 5 ? `${r.changed.slice(0, 5).join(', ')} and ${r.changed.length - 5} more` : r.changed.join(', ') })),
  };
}

export interface FirmwareModelPage extends FirmwareModelReport {
  /** Who gets what: devices grouped by the version they are sent (or the problem). */
  outcome: Count[];
  problems: number;
  deviceCount: number;
  /** Devices of the model not listed (the list is capped; `deskset firmware --json` has them all). */
  more: number;
}

/** Per model, the devices listed: those with a problem first, then the rest, up to `cap`. */
export function firmwarePage(report: readonly FirmwareModelReport[], cap = 100): FirmwareModelPage[] {
  return report.map((m) => {
    const ordered = [...m.devices.filter((d) => d.problem), ...m.devices.filter((d) => !d.problem)];
    return {
      ...m,
      devices: ordered.slice(0, cap),
      deviceCount: m.devices.length,
      more: Math.max(0, m.devices.length - cap),
      outcome: countBy(m.devices, (d) => (d.problem ? 'error' : (d.version ?? 'no upgrade'))),
      problems: m.devices.filter((d) => d.problem).length,
    };
  });
}
