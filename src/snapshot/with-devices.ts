// A snapshot with devices that are not files: phones bound by an enrollment code. The copy
// shares everything with its base except the device map, so what a request reads is still one
// immutable snapshot; it is made again only when the bindings or the base change.

import type { DeviceEntry, ProfileSet } from '../config/profiles.js';
import type { Snapshot } from './snapshot.js';

export function withDevices(base: Snapshot, extra: readonly DeviceEntry[]): Snapshot {
  if (extra.length === 0) return base;
  const devices = new Map(base.profiles.devices);
  for (const d of extra) if (!devices.has(d.mac)) devices.set(d.mac, d);
  const profiles: ProfileSet = { ...base.profiles, devices };
  return { ...base, profiles, render: { ...base.render, profiles } };
}
