// Who is asking, worked out once per request from what it carries: the MAC in the path (a
// rendered `<mac>.cfg` or a `<mac>-directory.xml` name), the MAC of the URL token it came
// through, and the User-Agent (vendor, model, firmware, often the MAC too). Pure.

import { ZERO_MAC } from '../config/mac.js';
import type { DeviceEntry } from '../config/profiles.js';
import type { RouteMatch } from '../snapshot/routes.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { parseUserAgent, type UserAgentInfo } from './user-agent.js';

export interface Identity {
  ua?: UserAgentInfo;
  /** The MAC this request is about, and where it was read. */
  mac?: string;
  macFrom?: 'path' | 'token' | 'user-agent';
  /** The MAC at the front of a per-device name (`<mac>-directory.xml`), all-zero excluded. */
  namedMac?: string;
  /** The configured device of `mac`, if there is one. */
  device?: DeviceEntry;
  vendor?: string;
  model?: string;
}

export interface Asking {
  /** Decoded path without the leading slash, any /p/<token>/ prefix taken off. */
  path: string;
  userAgent?: string;
  /** The MAC of the URL token the request came through. */
  tokenMac?: string;
}

/** Identity plus the route candidates it was read from (the resolver reuses them). */
export interface Identified extends Identity {
  candidates: RouteMatch[];
}

const NAMED_MAC = /^([0-9a-fA-F]{12})-/;

export function identify(snap: Snapshot, req: Asking): Identified {
  const ua = parseUserAgent(req.userAgent, snap.vendors);
  const prefixed = NAMED_MAC.exec(req.path)?.[1]?.toLowerCase();
  const namedMac = prefixed && prefixed !== ZERO_MAC ? prefixed : undefined;
  const candidates = snap.routes.match(req.path);
  const routeMac = namedMac ? undefined : candidates.find((c) => c.mac)?.mac;
  const pathMac = namedMac ?? routeMac;
  const mac = pathMac ?? req.tokenMac ?? ua?.mac;
  const macFrom = pathMac ? 'path' : req.tokenMac ? 'token' : ua?.mac ? 'user-agent' : undefined;
  const device = mac ? snap.profiles.devices.get(mac) : undefined;
  return {
    candidates,
    ua,
    mac,
    macFrom,
    namedMac,
    device,
    vendor: device?.model.vendor ?? ua?.vendor,
    model: device?.model.name ?? ua?.model,
  };
}
