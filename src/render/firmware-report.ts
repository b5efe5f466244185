// Per model: the firmware releases on disk, and which device gets which version and why.
// Pure over a snapshot: `deskset firmware` prints it and the dashboard shows it.

import { formatLoc } from '../check/diagnostics.js';
import { chooseFirmware } from './firmware.js';
import { resolveSubject, subjectOf } from '../config/resolve.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export interface FirmwareModelReport {
  model: string;
  vendor: string;
  releases: Array<{ version: string; image: string; source: string }>;
  devices: Array<{ mac: string; policy: string; version: string | null; image: string | null; why: string; setAt: string[]; problem: string | null }>;
}

export function firmwareReport(snap: Snapshot): FirmwareModelReport[] {
  const models = [...new Set([...snap.profiles.devices.values()].map((d) => d.model.name).concat(snap.firmware.releases.flatMap((r) => [...r.images.keys()])))].sort();
  return models.map((name) => {
    const model = snap.catalog.find(name)!;
    const releases = snap.firmware.forModel(name).map((r) => ({ version: r.version, image: `${r.dir}/${r.images.get(name)}`, source: r.source }));
    const devices = [...snap.profiles.devices.values()]
      .filter((d) => d.model.name === name)
      .map((d) => {
        const c = chooseFirmware(snap.firmware, resolveSubject(snap.profiles, snap.config.layers, subjectOf(d)), model, snap.config.publicUrl, snap.config.layers);
        return { mac: d.mac, policy: c.policy, version: c.path ? (c.version ?? null) : null, image: c.path ?? null, why: c.reason, setAt: c.setAt.map(formatLoc), problem: c.problem ?? null };
      });
    return { model: name, vendor: model.vendor, releases, devices };
  });
}
