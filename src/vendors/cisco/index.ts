// Cisco desk phones on third-party SIP: enterprise firmware (SEP<MAC>.cnf.xml and the files
// it names: XMLDefault.cnf.xml, dialplan.xml, SoftKeys.xml) and MPP/SPA firmware (<flat-profile>
// XML by profile rule: $PSN.xml, spa$PSN.cfg, $MA.xml), both the built-in `xml` format checked
// against schemas/cisco/cisco.xsd; and the 7940/7960 SIP firmware's `name: value` text
// (SIPDefault.cnf, SIP<MAC>.cnf: format `cisco-sip-cnf`, sip-cnf.ts). lint.ts reads
// hand-written and real-world files of all of them.

import type { Vendor } from '../contract.js';
import { entries, text, xmlCarries } from '../values.js';
import { ciscoElement, loadName } from './escape.js';
import { isCiscoFileName, lintCiscoFile } from './lint.js';
import { readCiscoXml } from './read.js';
import { checkSipCnf, readSipCnf, sipCnfLine, sipCnfLineParam, sipCnfParams } from './sip-cnf.js';
import { dstRuleText, enterpriseZoneName, gmtOffset, sipDstSettings, sipZoneName } from './timezone.js';

/** The manifest's format of the 79x0 SIP files. */
const SIP_CNF = 'cisco-sip-cnf';

/** The image name a 79x0 phone is told to run (OS79XX.TXT, image_version): the file name without its extension. */
const imageName = (file: unknown) => text(file).replace(/\.(?:loads|bin|sbn|sb2)$/i, '');

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
    /** The 79x0 time_zone, or nothing when the admin's cisco.params sets it (then a zone without an abbreviation is no error). */
    cisco_sip_zone: (zone: unknown, params: unknown) => (sipCnfParams(params).time_zone !== undefined ? undefined : sipZoneName(text(zone))),
    /** The dst_* settings of the zone, by name, for `set_all`. */
    cisco_sip_dst: (zone: unknown) => sipDstSettings(text(zone)),
    /** The entries of cisco.params whose names the 79x0 SIP firmware could read. */
    cisco_sip_params: (map: unknown) => sipCnfParams(map),
    cisco_image: (file: unknown) => imageName(file),
    /** OS79XX.TXT is one name for every 79x0: the image chosen for the first 79x0 model that has one. */
    cisco_legacy_image: (models: unknown) => {
      const m = (Array.isArray(models) ? models : []).find((x: { family?: unknown; firmware?: { file?: unknown } }) => x?.family === 'legacy' && x.firmware?.file);
      return m ? imageName(m.firmware.file) : undefined;
    },
    /** `<Name>value</Name>` for every entry of a map: enterprise <vendorConfig> from cisco.params. */
    cisco_elements: (map: unknown) => entries(map).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `  ${ciscoElement(k, v)}`).join('\n'),
  },
  paramFormats: { 'cisco-flat': ciscoElement, 'cisco-sip': sipCnfLine },
  formats: { [SIP_CNF]: { check: (cnf, file) => checkSipCnf(cnf, file), lineParam: sipCnfLineParam } },
  // A 79x0 .cnf refuses more than XML (a `"`, a line break): its writer says so at render
  // (RenderValueError); `carries` speaks for the XML files, which carry the display name.
  escaping: { read: (body, format) => (format === SIP_CNF ? readSipCnf(body) : readCiscoXml(body)), carries: xmlCarries, displayNameParam: 'sipProfile.sipLines.line[1].displayName' },
  profileKey: 'params',
  resourceCheck: { matches: isCiscoFileName, check: (bytes, file) => lintCiscoFile(bytes, file) },
  // 79x0/79x1 SIP firmware's factory phone password (phone_password: cisco).
  defaultCredentials: [{ user: undefined, password: 'cisco', what: 'Cisco SIP phone password default (cisco)' }],
};
