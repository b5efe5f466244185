// Yealink T4x/T5x/W-series: `key = value` .cfg files under a `#!version:1.0.0.1` header,
// checked by the grammar in cfg-grammar.ts; settings made on the phone come back by PUT.

import type { Vendor } from '../contract.js';
import { entries, text } from '../values.js';
import { zoneInfo } from '../../render/timezone.js';
import { checkYealinkCfg, readYealinkCfg } from './cfg-grammar.js';
import { formatOffsetHours, yealinkCarries, yealinkLine } from './escape.js';

/** `key = value`, as `check` traces a finding to the profile value. */
function cfgLine(line: string): { name: string; value?: string } | undefined {
  const name = /^([A-Za-z0-9_.%-]+)\s*=/.exec(line)?.[1];
  return name === undefined ? undefined : { name, value: /^[A-Za-z0-9_.%-]+\s*=\s?(.*)$/.exec(line)?.[1] };
}

export const vendor: Vendor = {
  id: 'yealink',
  helpers: {
    yealink: (key: unknown, value: unknown) => yealinkLine(key, value),
    yealink_params: (map: unknown) => entries(map).map(([k, v]) => yealinkLine(k, v)).join('\n'),
    tz_offset_hours: (zone: unknown) => formatOffsetHours(zoneInfo(text(zone)).standardMinutes),
    /** ISO weekday (1 = Monday … 7 = Sunday) from 0 = Sunday: local_time.start_time's form. */
    iso_weekday: (d: unknown) => (Number(d) === 0 ? 7 : Number(d)),
  },
  paramFormats: { yealink: yealinkLine },
  formats: { 'yealink-cfg': { check: (cfg, file) => checkYealinkCfg(cfg, file), lineParam: cfgLine } },
  escaping: { read: readYealinkCfg, carries: yealinkCarries, displayNameParam: 'account.1.display_name' },
  profileKey: 'params',
  // vendor-facts §1.1 (Y-PUT).
  uploadKinds: {
    'contact.xml': { storage: 'file', override: false, contentType: 'application/xml', what: 'Yealink local contacts backup' },
    'local.cfg': { storage: 'file', override: true, contentType: 'text/plain', what: 'Yealink settings changed on the phone (local config sync)' },
  },
  defaultCredentials: [{ user: 'admin', password: 'admin', what: 'Yealink admin default (admin/admin)' }],
};
