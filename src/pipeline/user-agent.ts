// Reading a phone's User-Agent: vendor, model, firmware and MAC where present.
// The patterns live in each vendor manifest; this module only applies them. It never
// throws: phones send control bytes, 64 KB headers and worse.

import { normalizeMac, ouiOf } from '../config/mac.js';
import type { VendorManifest } from '../vendors/manifest.js';

export interface UserAgentInfo {
  vendor: string;
  /** As the phone wrote it, after the manifest's model_strip (e.g. `VVX450`, `T46S`, `J179`). */
  model?: string;
  family?: string;
  firmware?: string;
  mac?: string;
}

/** User-Agents longer than this are not parsed at all: no phone sends one. */
const MAX_UA = 512;

export function parseUserAgent(ua: string | undefined, vendors: readonly VendorManifest[]): UserAgentInfo | undefined {
  if (!ua || ua.length > MAX_UA) return undefined;
  for (const v of vendors) {
    for (const p of v.userAgents) {
      const m = p.regex.exec(ua);
      if (!m) continue;
      const g = m.groups ?? {};
      const mac = g.mac ? normalizeMac(g.mac) : undefined;
      if (p.requireOui && (!mac || !v.oui.has(ouiOf(mac)))) continue;
      let model = g.model;
      if (model && p.modelStrip) model = model.split(p.modelStrip).join('');
      return { vendor: v.vendor, model, family: g.family, firmware: g.firmware, mac };
    }
  }
  return undefined;
}
