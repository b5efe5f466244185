// What a static web server needs to answer phones as deskset does, path for path: every
// request path deskset answers without looking at the User-Agent. Rendered files under every
// name they answer to (the DES forms `J179/<mac>/46xxsettings.txt` included, and the common
// file of every catalog model, which deskset serves whether or not a device uses it), and the
// firmware and resources a phone may fetch, per-device names of shared resources included.

import { ZERO_MAC } from '../config/mac.js';
import { resourceNameFor } from '../render/resources.js';
import { canonicalPath, devicePaths } from './routes.js';
import type { Snapshot } from './snapshot.js';

export interface MirrorPaths {
  /** Paths answered by a rendered file. */
  rendered: string[];
  /** Paths answered from firmware/ or resources/. */
  disk: string[];
}

/** All of them, or (`only`) the ones that belong to one device. */
export function mirrorPaths(snap: Snapshot, only?: string): MirrorPaths {
  const rendered: string[] = [];
  const disk: string[] = [];
  const devices = [...snap.profiles.devices.values()].filter((d) => !only || d.mac === only).sort((a, b) => (a.mac < b.mac ? -1 : 1));
  if (!only) {
    for (const v of snap.vendors) {
      for (const f of v.files) {
        if (f.scope === 'model') for (const m of v.models) rendered.push(...[canonicalPath(f, undefined, m) ?? []].flat());
        else for (const p of f.paths) if (!/\{\w+\}/.test(p) && !p.startsWith('**/')) rendered.push(p);
      }
    }
    disk.push(...[...snap.firmwareFiles].sort());
  }
  for (const d of devices) for (const f of snap.catalog.vendor(d.model.vendor)?.files ?? []) if (f.scope === 'device') rendered.push(...devicePaths(f, d.mac, d.model));
  for (const file of snap.resourceIndex.files().sort()) {
    const named = devices.map((d) => resourceNameFor(file, { mac: d.mac, model: d.model.name, model4: String(d.model.fields.model4 ?? d.model.name) }));
    if (named.some((n) => n !== undefined)) disk.push(...named.filter((n): n is string => n !== undefined));
    else {
      if (!only) disk.push(file);
      // Poly's rule: <mac>-directory.xml falls back to 000000000000-directory.xml.
      if (file.toLowerCase().startsWith(`${ZERO_MAC}-`)) for (const d of devices) disk.push(`${d.mac}${file.slice(ZERO_MAC.length)}`);
    }
  }
  return { rendered: [...new Set(rendered)], disk: [...new Set(disk)] };
}
