// The JSON of `deskset explain MAC --json`, as a pure function: the CLI prints it and the
// admin API (GET /api/v1/devices/{mac}) returns it, so both say the same thing.

import { formatLoc } from '../check/diagnostics.js';
import { explainTree, type Explanation } from './explain.js';
import { chooseFirmware } from '../render/firmware.js';
import { layersFor, resolveSubject, subjectOf } from './resolve.js';
import { devicePaths } from '../snapshot/routes.js';
import type { Snapshot } from '../snapshot/snapshot.js';

/** A file the phone uploaded that overrides ours on the phone (from the upload store). */
export interface PhoneOverride {
  name: string;
  size: number;
  mtime: Date;
}

export interface DeviceExplanation extends Explanation {
  device: { mac: string; model: string; vendor: string; site: string | null; groups: string[] };
  layers: Array<{ layer: string; name: string | undefined; file: string }>;
  files: string[];
  phoneOverrides: Array<{ name: string; bytes: number; modified: string }>;
  firmware: { policy: string; version: string | null; image: string | null; why: string; setAt: string[]; problem: string | null };
}

/** undefined: no such device, or (with `key`) no such value. Secrets are masked unless showSecrets. */
export function explainDevice(snap: Snapshot, mac: string, overrides: readonly PhoneOverride[], opts: { key?: string; showSecrets?: boolean } = {}): DeviceExplanation | undefined {
  const device = snap.profiles.devices.get(mac);
  if (!device) return undefined;
  const subject = subjectOf(device);
  const effective = resolveSubject(snap.profiles, snap.config.layers, subject);
  const explanation = explainTree(effective, { key: opts.key, showSecrets: opts.showSecrets, secrets: snap.secrets, extraKeys: snap.secretKeys });
  if (!explanation) return undefined;
  // The firmware decision, beside the raw firmware.* values: which of them won, and where.
  const fw = chooseFirmware(snap.firmware, effective, device.model, snap.config.publicUrl, snap.config.layers);
  const layers = layersFor(snap.profiles, snap.config.layers, subject).map((l) => ({ layer: l.ref.kind, name: l.ref.name, file: l.ref.file }));
  const files = snap.catalog.vendor(device.model.vendor)?.files.filter((f) => f.scope === 'device').flatMap((f) => devicePaths(f, mac, device.model)) ?? [];
  return {
    device: { mac, model: device.model.name, vendor: device.model.vendor, site: device.site ?? null, groups: device.groups },
    layers,
    files,
    phoneOverrides: overrides.map((o) => ({ name: o.name, bytes: o.size, modified: o.mtime.toISOString() })),
    firmware: { policy: fw.policy, version: fw.path ? (fw.version ?? null) : null, image: fw.path ?? null, why: fw.reason, setAt: fw.setAt.map(formatLoc), problem: fw.problem ?? null },
    ...explanation,
  };
}
