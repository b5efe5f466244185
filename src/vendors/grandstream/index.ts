// Grandstream GXP16xx/21xx/2200, GRP26xx and HT80x: `cfg<mac>.xml` in the `<gs_provision>`
// XML form with P-value parameters (vendor-facts §4.3), checked by the grammar in read.ts
// against the P-value catalog in schemas/grandstream/pvalues.txt.

import type { Vendor } from '../contract.js';
import { entries, text } from '../values.js';
import { dstRule, zoneInfo } from '../../render/timezone.js';
import { firmwareServer, gsCarries, gsLine, posixTz } from './escape.js';
import { checkGrandstream, gsLineParam, parsePValueCatalog, readGsXml } from './read.js';

export const vendor: Vendor = {
  id: 'grandstream',
  helpers: {
    /** P246, the custom time zone (POSIX TZ) that P64 = `customize` selects. */
    gs_posix_tz: (zone: unknown) => posixTz(zoneInfo(text(zone)).standardMinutes, dstRule(text(zone))),
    /** P212: how the phone fetches firmware (0 TFTP, 1 HTTP, 2 HTTPS), from the image URL. */
    gs_fw_via: (url: unknown) => firmwareServer(text(url))?.via,
    /** P192: the firmware server path (host and directory, no scheme); the phone adds its own file name. */
    gs_fw_path: (url: unknown) => firmwareServer(text(url))?.path,
    /** P47 and friends: `host` or `host:port`. */
    gs_host_port: (host: unknown, port: unknown) => (host === undefined || host === null ? undefined : port === undefined || port === null || port === '' ? text(host) : `${text(host)}:${text(port)}`),
    gs_pvalues: (map: unknown) => entries(map).map(([k, v]) => gsLine(k, v)).join('\n'),
  },
  paramFormats: { grandstream: gsLine },
  formats: { 'grandstream-xml': { check: (xml, file, ctx) => checkGrandstream(xml, file, ctx.catalog), lineParam: gsLineParam } },
  escaping: { read: (xml) => readGsXml(xml), carries: gsCarries, displayNameParam: 'P3' },
  profileKey: 'pvalues',
  catalog: { file: 'pvalues.txt', parse: parsePValueCatalog },
  // Factory default of the web UI and of the XML file itself (Grandstream ships admin/admin).
  defaultCredentials: [{ user: 'admin', password: 'admin', what: 'Grandstream admin default (admin/admin)' }],
};
