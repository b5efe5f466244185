// Cisco desk phones on third-party SIP: enterprise firmware (SEP<MAC>.cnf.xml and the files
// it names: XMLDefault.cnf.xml, dialplan.xml, SoftKeys.xml) and MPP/SPA firmware (<flat-profile>
// XML by profile rule: $PSN.xml, spa$PSN.cfg, $MA.xml). Both are the built-in `xml` format,
// checked against schemas/cisco/cisco.xsd; lint.ts reads hand-written and real-world files.

import type { Vendor } from '../contract.js';
import { entries, text, xmlCarries } from '../values.js';
import { ciscoElement, loadName } from './escape.js';
import { isCiscoFileName, lintCiscoFile } from './lint.js';
import { readCiscoXml } from './read.js';
import { dstRuleText, enterpriseZoneName, gmtOffset } from './timezone.js';

export const vendor: Vendor = {
  id: 'cisco',
  helpers: {
    cisco_zone_name: (zone: unknown) => enterpriseZoneName(text(zone)),
    cisco_gmt_offset: (zone: unknown) => gmtOffset(text(zone)),
    cisco_dst_rule: (zone: unknown) => dstRuleText(text(zone)),
    cisco_load: (file: unknown) => loadName(file),
    /** A string or a list of them as a list (time.ntp may be either). */
    cisco_list: (v: unknown) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]),
    /** `:5060` after a host, or nothing when no port is set. */
    cisco_port: (port: unknown) => (port === undefined || port === null || port === '' ? '' : `:${text(port)}`),
    /** SPA firmware names some parameters apart from MPP (Admin_Passwd, not Admin_Password). */
    cisco_if_spa: (family: unknown, spa: unknown, other: unknown) => (family === 'spa' ? spa : other),
    /** `<Name>value</Name>` for every entry of a map: enterprise <vendorConfig> from cisco.params. */
    cisco_elements: (map: unknown) => entries(map).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `  ${ciscoElement(k, v)}`).join('\n'),
  },
  paramFormats: { 'cisco-flat': ciscoElement },
  escaping: { read: (xml) => readCiscoXml(xml), carries: xmlCarries, displayNameParam: 'sipProfile.sipLines.line[1].displayName' },
  profileKey: 'params',
  resourceCheck: { matches: isCiscoFileName, check: (bytes, file) => lintCiscoFile(bytes, file) },
  // 79x0/79x1 SIP firmware's factory phone password (phone_password: cisco).
  defaultCredentials: [{ user: undefined, password: 'cisco', what: 'Cisco SIP phone password default (cisco)' }],
};
