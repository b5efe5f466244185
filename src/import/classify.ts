// Which vendor's format a file is, from its name and first lines. Anything else is reported
// as "not a config deskset imports" with its file:line, never guessed at.

import { decodeLines, looksBinary } from './text.js';
import { isGrandstreamText } from './grandstream-import.js';
import { rootName } from './xml-lite.js';
import { isYealinkText } from './yealink.js';
import type { InputFile, Vendor } from './types.js';

export type Kind = { vendor: Vendor } | { vendor: undefined; why: string };

const AVAYA_STATEMENT = /^(SET|IF|GOTO|GET)[ \t]+\S/i;

export function classify(f: InputFile, only?: Vendor): Kind {
  const base = f.name.slice(f.name.lastIndexOf('/') + 1);
  if (looksBinary(f.bytes)) return { vendor: undefined, why: 'binary data (firmware images and other resources are copied only when a config names them)' };
  const lines = decodeLines(f.bytes);
  const first = lines.find((l) => l.trim() !== '')?.trim() ?? '';
  let vendor: Vendor | undefined;
  if (first.startsWith('<')) vendor = xmlVendor(rootName(lines.slice(0, 400).join('\n')), base);
  else if (isGrandstreamText(lines)) vendor = 'grandstream';
  else if (/\.(cfg|boot)$/i.test(base) && isYealinkText(lines)) vendor = 'yealink';
  else if (/\.txt$/i.test(base) && lines.slice(0, 20_000).some((l) => AVAYA_STATEMENT.test(l))) vendor = 'avaya';
  if (!vendor) return { vendor: undefined, why: first.startsWith('<') ? 'XML that is not a config deskset imports (Poly .cfg, Cisco, Grandstream, Snom)' : lines.length === 0 || first === '' ? 'empty file' : 'not an Avaya script, Yealink cfg, Grandstream P-value list or XML config' };
  if (only && vendor !== only) return { vendor: undefined, why: `a ${vendor} file, and --vendor ${only} was given` };
  return { vendor };
}

/** Which vendor an XML file is, by its root element (and, for Poly's any-root files, its name). */
function xmlVendor(root: string | undefined, base: string): Vendor | undefined {
  if (root === 'device' || root === 'flat-profile' || root === 'Default' || root === 'DIALTEMPLATE' || root === 'softKeyCfg') return 'cisco';
  if (root === 'gs_provision') return 'grandstream';
  if (root === 'settings' || root === 'setting-files' || root === 'firmware-settings') return 'snom';
  return /\.(cfg|xml)$/i.test(base) ? 'polycom' : undefined;
}
