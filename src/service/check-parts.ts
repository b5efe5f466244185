// How a check is cut into parts for threads (check-threads.ts): the shared files first, then
// the devices in slices. Together the parts are exactly the files one whole check covers.

import type { CheckPart } from '../check/check.js';

/** Devices per part: small enough to share out evenly, large enough that a part's overhead is nothing. */
const PART_DEVICES = 250;

/** `devices` undefined means every device: a whole check (subnet sites and template names included). */
export function checkParts(allDevices: Iterable<string>, devices?: ReadonlySet<string>): CheckPart[] {
  const macs = devices ? [...devices] : [...allDevices].sort();
  const parts: CheckPart[] = [{ kind: 'shared', whole: devices === undefined }];
  for (let i = 0; i < macs.length; i += PART_DEVICES) parts.push({ kind: 'devices', macs: macs.slice(i, i + PART_DEVICES) });
  return parts;
}
