// What the admin API answers, as pure functions of a snapshot, the server's health and the
// inventory: the routes (routes.ts) only read the request and hand these a value.

import { formatLoc, type Diagnostic } from '../check/diagnostics.js';
import { redactSecrets } from '../config/secret-refs.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { sharedTargets, deviceTargets } from '../pipeline/request.js';
import type { RenderTarget } from '../render/render.js';
import type { Health } from '../service/reloader.js';
import type { DeviceView as JoinedDevice } from '../inventory/view.js';
import type { ProvisionResult } from '../store/contract.js';

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

/** A device as the API lists it: the root's view (configured, groups) joined with the inventory's. */
export interface DeviceView {
  mac: string | null;
  configured: boolean;
  vendor: string | null;
  model: string | null;
  site: string | null;
  groups: string[];
  firmware: string | null;
  hardware: string | null;
  ip: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  result: ProvisionResult;
  /** Enrollment lifecycle (src/enroll/lifecycle.ts); null when enrollment is off or has no word on it. */
  state: string | null;
  /** A placeholder's row: its name (and `mac` is null). */
  placeholder?: string;
}

/**
 * The API's form of `deskset devices`' rows (inventory/view.ts joinInventory, which judges
 * each result against the serving snapshot): nulls for what is unknown, and the groups the
 * root gives a configured device.
 */
export function deviceViews(snap: Snapshot, joined: readonly JoinedDevice[]): DeviceView[] {
  const orNull = (v: string) => (v === '' ? null : v);
  return joined.map((r) => ({
    mac: r.placeholder !== undefined ? null : r.mac,
    configured: r.configured,
    vendor: orNull(r.vendor),
    model: orNull(r.model),
    site: orNull(r.site),
    groups: snap.profiles.devices.get(r.mac)?.groups ?? [],
    firmware: orNull(r.firmware),
    hardware: orNull(r.hardware),
    ip: orNull(r.ip),
    firstSeen: orNull(r.first_seen),
    lastSeen: orNull(r.last_seen),
    result: r.result,
    state: orNull(r.state),
    ...(r.placeholder !== undefined ? { placeholder: r.placeholder } : {}),
  }));
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
