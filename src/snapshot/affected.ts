// Which devices can a set of changed files affect? A one-device edit on a 10,000-device
// root re-validates one device, not all of them; a global or template edit re-validates all.

import type { Snapshot } from './snapshot.js';

export function affectedDevices(next: Snapshot, changed: Iterable<string>): Set<string> | 'all' {
  const out = new Set<string>();
  const devices = [...next.profiles.devices.values()];
  for (const rel of changed) {
    const base = rel.replace(/^.*\//, '').replace(/\.ya?ml$/i, '');
    if (rel === 'deskset.yaml' || rel.startsWith('templates') || rel.startsWith('schemas') || rel.startsWith('firmware') || rel === 'profiles' || /^profiles\/global\.ya?ml$/.test(rel)) return 'all';
    if (rel.startsWith('profiles/devices/')) {
      const mac = devices.find((d) => d.profile.ref.file.endsWith(rel))?.mac;
      if (mac) out.add(mac);
    } else if (rel.startsWith('profiles/models/')) {
      const m = next.catalog.find(base);
      for (const d of devices) if (m && d.model.name === m.name) out.add(d.mac);
    } else if (rel.startsWith('profiles/groups/')) {
      for (const d of devices) if (d.groups.includes(base)) out.add(d.mac);
    } else if (rel.startsWith('profiles/sites/')) {
      for (const d of devices) if (d.site === base) out.add(d.mac);
    } else if (rel.startsWith('profiles/')) {
      return 'all'; // a directory event: be safe
    }
  }
  return out;
}
