// Snom desk phones (3xx, 7xx, 8xx, D3xx/D7xx/D8xx) and M-series DECT bases:
// `snom<model>.htm` (model settings) and `snom<model>-<MAC>.htm` (the phone's own) in the XML
// `<settings><phone-settings>` form with `perm` attributes (vendor-facts §4.4), checked by the
// grammar in read.ts against the setting catalog in schemas/snom/settings.txt.

import type { Vendor } from '../contract.js';
import { text } from '../values.js';
import { dstRule, zoneInfo } from '../../render/timezone.js';
import { snomCarries, snomDst, snomLine } from './escape.js';
import { checkSnom, parseSnomCatalog, readSnomXml, snomLineParam } from './read.js';

export const vendor: Vendor = {
  id: 'snom',
  helpers: {
    /** utc_offset: the standard offset in seconds. */
    snom_utc_offset: (zone: unknown) => String(zoneInfo(text(zone)).standardMinutes * 60),
    /** dst: the zone's rule in Snom's form, or nothing for a zone without DST. */
    snom_dst: (zone: unknown) => snomDst(dstRule(text(zone))),
    /** user_host: `host`, `host:port`, and `;transport=tcp|tls` when not UDP. */
    snom_host: (host: unknown, port: unknown, transport: unknown) => {
      if (host === undefined || host === null || host === '') return undefined;
      const p = port === undefined || port === null || port === '' ? '' : `:${text(port)}`;
      const t = transport === undefined || transport === null || transport === '' || text(transport) === 'udp' ? '' : `;transport=${text(transport)}`;
      return `${text(host)}${p}${t}`;
    },
  },
  paramFormats: { snom: snomLine },
  formats: { 'snom-xml': { check: (xml, file, ctx) => checkSnom(xml, file, ctx.catalog), lineParam: snomLineParam } },
  escaping: { read: (xml) => readSnomXml(xml), carries: snomCarries, displayNameParam: 'user_realname[1]' },
  profileKey: 'settings',
  catalog: { file: 'settings.txt', parse: parseSnomCatalog },
  // Snom's factory administrator password.
  defaultCredentials: [{ user: undefined, password: '0000', what: 'Snom admin mode default password (0000)' }],
};
