// The shape of profile files: the shared settings vocabulary that shipped templates map to
// every vendor, plus the identity keys a device file carries. Vendor maps are open (they
// are the escape hatch for every vendor parameter) but their values must be scalars.

import { checkShape, int, listOf, mapOf, oneOf, openMap, scalar, str, text, any, type Shape } from './shape.js';
import type { Diagnostic } from '../check/diagnostics.js';
import type { PNode } from './yaml-tree.js';

let zones: Set<string> | undefined;
export function isKnownTimeZone(zone: string): boolean {
  zones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (zones.has(zone) || zone === 'UTC') return true;
  // Intl's list holds canonical names only; accept the IANA aliases (US/Eastern) it resolves.
  // Intl ignores case, phones do not: only a capitalised alias (US/Eastern, Etc/GMT+5) passes.
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return /^[A-Z][A-Za-z]*(\/[A-Z0-9][A-Za-z0-9_+-]*)*$/.test(zone);
  } catch {
    return false;
  }
}

const timeZone: Shape = {
  type: 'check',
  base: str,
  test: (v) => (typeof v === 'string' && isKnownTimeZone(v) ? undefined : `unknown time zone ${JSON.stringify(v)} (use an IANA name such as America/New_York)`),
};

export const lineShape: Shape = mapOf({
  extension: str,
  auth_user: str,
  password: str,
  display_name: str,
  label: str,
});

export const settingsShape: Shape = mapOf({
  sip: mapOf({
    server: str,
    port: int(1, 65535),
    transport: oneOf('udp', 'tcp', 'tls'),
    domain: str,
    outbound_proxy: str,
    register_expires: int(30, 86400),
  }),
  lines: listOf(lineShape),
  time: mapOf({ zone: timeZone, ntp: listOf(str, true) }),
  language: str,
  admin_password: str,
  avaya: mapOf({ settings: openMap(scalar) }),
  polycom: mapOf({ params: openMap(scalar) }),
  yealink: mapOf({ params: openMap(scalar) }),
  // Free-form values for admins' own template overrides.
  custom: any,
});

// A version must be quoted when YAML would read it as a number: 4.10 would become 4.1.
const firmwarePolicy = { policy: oneOf('latest', 'off', 'pinned'), version: text };

/** `firmware: {policy, version, models: {J179: {policy, version}}}`, merged like settings. */
export const firmwareShape: Shape = mapOf({ ...firmwarePolicy, models: openMap(mapOf(firmwarePolicy)) });

/**
 * Who may fetch this scope's files. `password` is a scrypt hash (`deskset hash-password`) or
 * a secret reference (`${env:…}`, `${file:…}`), never a plaintext password in git.
 */
export const authShape: Shape = mapOf({ user: str, password: str });

/** Network-level policy: CIDR allow-list and the client-certificate requirement (mutual TLS). */
export const accessShape: Shape = mapOf({ allow: listOf(str, true), client_cert: oneOf('none', 'optional', 'required') });

const common: Record<string, Shape> = {
  description: str,
  settings: settingsShape,
  firmware: firmwareShape,
  auth: authShape,
  access: accessShape,
};

export const layerProfileShape: Shape = mapOf(common);
export const deviceProfileShape: Shape = mapOf(
  { ...common, model: str, site: str, groups: listOf(str) },
  { required: ['model'] },
);

export function checkProfile(root: PNode, isDevice: boolean): Diagnostic[] {
  return checkShape(root, isDevice ? deviceProfileShape : layerProfileShape, '', 'PROFILE');
}
