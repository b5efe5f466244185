// Which layers apply to a device, in which order, and what they merge to.

import { mergeLayers, type EMap, type Layer, type LayerKind } from './merge.js';
import type { DeviceEntry, Profile, ProfileSet } from './profiles.js';
import type { ModelInfo } from '../vendors/manifest.js';

/** Who a file is being rendered for. Shared files have no device; model files have a model. */
export interface Subject {
  mac?: string;
  /** True when the MAC has a device profile. */
  known: boolean;
  vendor: string;
  model?: ModelInfo;
  site?: string;
  groups: string[];
}

export function subjectOf(d: DeviceEntry): Subject {
  return { mac: d.mac, known: true, vendor: d.model.vendor, model: d.model, site: d.site, groups: d.groups };
}

/** The layers for a subject, lowest first, in the configured order. */
export function layersFor(profiles: ProfileSet, order: readonly LayerKind[], s: Subject): Profile[] {
  const out: Profile[] = [];
  for (const kind of order) {
    if (kind === 'global' && profiles.global) out.push(profiles.global);
    if (kind === 'model' && s.model) {
      const p = profiles.models.get(s.model.name);
      if (p) out.push(p);
    }
    if (kind === 'group') for (const g of s.groups) {
      const p = profiles.groups.get(g);
      if (p) out.push(p);
    }
    if (kind === 'site' && s.site) {
      const p = profiles.sites.get(s.site);
      if (p) out.push(p);
    }
    if (kind === 'device' && s.known && s.mac) {
      const d = profiles.devices.get(s.mac);
      if (d) out.push(d.profile);
    }
  }
  return out;
}

export function resolveSubject(profiles: ProfileSet, order: readonly LayerKind[], s: Subject): EMap {
  return resolveLayers(layersFor(profiles, order, s), s.known);
}

/** resolveSubject for layers already looked up (layersFor). */
export function resolveLayers(layers: readonly Layer[], known: boolean): EMap {
  const merged = mergeLayers(layers);
  // An unknown phone rendered from defaults, and every file fetched without a MAC, must
  // never receive credentials: no line passwords, no admin password. (plain-merge.ts too.)
  if (!known) {
    const settings = merged.children.get('settings');
    if (settings?.kind === 'map') {
      settings.children.delete('lines');
      settings.children.delete('admin_password');
    }
  }
  return merged;
}
