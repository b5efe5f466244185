// `check` renders a device without `site:` without a site layer (it has no request address),
// so a site reached only through its subnets would never be rendered before a phone asks.
// These extra targets render one such device per model with each subnet site: a bad value in
// that site's profile is then a check error, not a 500 at request time.

import { deviceTargets } from '../pipeline/request.js';
import type { RenderTarget } from '../render/render.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export function* subnetSiteTargets(snap: Snapshot): Generator<RenderTarget> {
  if (snap.subnets.size === 0) return;
  const sites = [...new Set(snap.subnets.entries.map((e) => e.site))].sort();
  // One device per model is enough to render the site's values through every template in use.
  const perModel = new Map<string, string>();
  for (const d of snap.profiles.devices.values()) if (d.site === undefined && !perModel.has(d.model.name)) perModel.set(d.model.name, d.mac);
  for (const site of sites) {
    for (const mac of [...perModel.values()].sort()) {
      for (const t of deviceTargets(snap, [mac])) yield { ...t, subject: { ...t.subject!, site } };
    }
  }
}
