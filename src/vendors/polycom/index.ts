// Poly (Polycom) VVX / SoundPoint / Trio on UC Software: XML files checked against the XSDs
// in schemas/polycom/ (the built-in `xml` format), logs and UI overrides uploaded by PUT.

import type { Vendor } from '../contract.js';
import { text, xmlCarries } from '../values.js';
import { zoneInfo } from '../../render/timezone.js';
import { POLY_MODELS } from './master-models.js';
import { readPolyXml } from './read.js';

export const vendor: Vendor = {
  id: 'polycom',
  helpers: {
    tz_offset_seconds: (zone: unknown) => String(zoneInfo(text(zone)).standardMinutes * 60),
    /** `(if_last week a b)`: a when week is 5 (the last occurrence in the month), else b: `…dayOfWeek.lastInMonth`. */
    if_last: (week: unknown, a: unknown, b: unknown) => (Number(week) === 5 ? a : b),
  },
  escaping: { read: readPolyXml, carries: xmlCarries, displayNameParam: 'reg.1.displayName' },
  profileKey: 'params',
  schemaModels: POLY_MODELS,
  // vendor-facts §2.4 (P-FAQ, P-PUT).
  uploadKinds: {
    'app.log': { storage: 'log', override: false, contentType: 'text/plain', what: 'Poly application log' },
    'boot.log': { storage: 'log', override: false, contentType: 'text/plain', what: 'Poly BootROM/updater log' },
    'phone.cfg': { storage: 'file', override: true, contentType: 'application/xml', what: 'Poly settings changed on the phone UI' },
    'web.cfg': { storage: 'file', override: true, contentType: 'application/xml', what: 'Poly settings changed in the phone web UI' },
    'directory.xml': { storage: 'file', override: false, contentType: 'application/xml', what: 'Poly local contact directory' },
    'calls.xml': { storage: 'file', override: false, contentType: 'application/xml', what: 'Poly call lists' },
  },
  defaultCredentials: [
    { user: 'PlcmSpIp', password: 'PlcmSpIp', what: 'Poly provisioning server default (PlcmSpIp/PlcmSpIp)' },
    { user: undefined, password: '456', what: 'Poly phone admin default password (456)' },
  ],
};
