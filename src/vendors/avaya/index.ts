// Avaya J100 (SIP): scripts (`SET NAME value`, IF/GOTO) checked by our own linter, the
// J100 parameter catalog in schemas/avaya/parameters.txt, and `$MACADDR`/`$MODEL4`, which
// the phone expands itself inside its scripts.

import type { FormatContext, Vendor } from '../contract.js';
import { entries, text } from '../values.js';
import { zoneInfo, type DstEdge } from '../../render/timezone.js';
import { avayaCarries, avayaSet } from './escape.js';
import { avayaDstEdge, formatOffsetHm } from './timezone.js';
import { decodeScript, lintAvayaScript, loadCatalogText, parseAvayaScript } from './script/index.js';

function lint(text: string, file: string, ctx: FormatContext) {
  // A file with no statements says so at info level: that is for `deskset lint`, not check.
  return lintAvayaScript(text, { file, catalog: ctx.catalog, resourceExists: ctx.resourceExists, perDevice: ctx.perDevice }).filter((d) => d.severity !== 'info');
}

/** What a script sets, as the phone reads it (quotes removed; the last SET of a name wins). */
function readScript(script: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of parseAvayaScript(script).statements) if (s.kind === 'set') out.set(s.name, s.value);
  return out;
}

/** `SET NAME value` (or ADD), the value without its quotes, as `check` traces a finding. */
function setLine(line: string): { name: string; value?: string } | undefined {
  const name = /^(?:SET|ADD)\s+(\S+)/i.exec(line)?.[1];
  if (name === undefined) return undefined;
  const value = /^(?:SET|ADD)\s+\S+\s+(.*)$/i.exec(line)?.[1];
  return { name, value: value?.replace(/^"(.*)"$/, '$1') };
}

/** Is this a script the phone runs (and so expands `$MACADDR` in), not just any text file? */
function isScript(file: string, body: string): boolean {
  return file.toLowerCase().endsWith('.txt') && parseAvayaScript(body).statements.some((s) => s.kind !== 'label');
}

export const vendor: Vendor = {
  id: 'avaya',
  helpers: {
    avaya_set: (name: unknown, value: unknown) => avayaSet(name, value),
    avaya_settings: (map: unknown) => entries(map).map(([k, v]) => avayaSet(k, v)).join('\n'),
    avaya_dst: (edge: unknown) => avayaDstEdge(edge as DstEdge),
    tz_offset_hm: (zone: unknown) => formatOffsetHm(zoneInfo(text(zone)).standardMinutes),
  },
  paramFormats: { avaya: avayaSet },
  formats: { 'avaya-script': { check: lint, lineParam: setLine } },
  escaping: { read: readScript, carries: avayaCarries, displayNameParam: 'DISPLAY_NAME' },
  profileKey: 'settings',
  catalog: { file: 'parameters.txt', parse: loadCatalogText },
  resourceCheck: {
    matches: (name) => name.toLowerCase().endsWith('.txt'),
    check: (bytes, file, ctx) => lint(decodeScript(bytes), file, ctx),
  },
  phoneVariables: { names: { MACADDR: 'mac', MODEL4: 'model4' }, expandsItself: isScript },
  // 46xxsettings.txt names no MAC: the phone is known by the MAC in its User-Agent.
  exampleRequest: ({ mac, model }) => ({ path: '46xxsettings.txt', userAgent: `Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/${model}-4.1.3.0.6 (MAC:${mac})` }),
};
