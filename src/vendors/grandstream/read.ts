// Reading and checking Grandstream provisioning files as the phone reads them:
// `<gs_provision version="1">[<mac>…</mac>]<config version="1"><Pnnn>value</Pnnn>…` (and
// `<config version="2">` with `<item name="…">`), plus the older text form, `Pnnn = value`
// lines. Parsed by libxml2; every defect is a finding with file:line:col, never a throw.

import { XmlDocument, type XmlElement } from 'libxml2-wasm';
import type { Diagnostic } from '../../check/diagnostics.js';
import { childElements, finding, parseForCheck, setOnce, strayText, textOnly } from '../xml-check.js';

/** P-value name -> value, as the phone applies them (a later duplicate wins). */
export function readGsXml(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  const doc = XmlDocument.fromString(xml);
  try {
    const config = childElements(doc.root).find((e) => e.name === 'config');
    for (const e of childElements(config ?? null)) {
      if (e.name === 'item') out.set(e.attr('name')?.value ?? '', e.content);
      else out.set(e.name, e.content);
    }
  } finally {
    doc.dispose();
  }
  return out;
}

const P_NAME = /^P\d{1,6}$/;

/**
 * Findings for one Grandstream file (XML or the `Pnnn = value` text form). `catalog` is the
 * set of P-values we know: others are reported as warnings (the phone ignores what its
 * firmware does not know, so an unknown number is most likely a typo).
 */
export function checkGrandstream(text: string, file: string, catalog?: ReadonlySet<string>): Diagnostic[] {
  const body = text.replace(/^\uFEFF/, '');
  return body.trimStart().startsWith('<') ? checkGsXml(body, file, catalog) : checkGsText(body, file, catalog);
}

function checkGsXml(text: string, file: string, catalog?: ReadonlySet<string>): Diagnostic[] {
  const parsed = parseForCheck(text, file, 'GS_XML');
  if ('findings' in parsed) return parsed.findings;
  const { doc } = parsed;
  const out: Diagnostic[] = [];
  try {
    const root = doc.root;
    if (root.name !== 'gs_provision') {
      out.push(finding('GS_ROOT', 'error', `the root element is <${root.name}>; a Grandstream phone reads only <gs_provision>`, file, root.line));
      return out;
    }
    if (root.attr('version')?.value !== '1') out.push(finding('GS_VERSION', 'warning', '<gs_provision> should carry version="1"', file, root.line));
    strayText(root, file, 'GS_TEXT', out);
    const kids = childElements(root);
    let config: XmlElement | undefined;
    for (const k of kids) {
      if (k.name === 'mac') {
        // The phone refuses a file whose <mac> is not its own; a malformed one matches no phone.
        if (!/^[0-9a-fA-F]{12}$/.test(k.content.trim())) out.push(finding('GS_MAC', 'error', `<mac>${k.content.trim()}</mac> is not 12 hex digits: no phone would accept the file`, file, k.line));
      } else if (k.name === 'config') {
        if (config) out.push(finding('GS_DUPLICATE', 'error', 'a second <config> element: the phone reads one', file, k.line));
        config ??= k;
      } else out.push(finding('GS_ELEMENT', 'warning', `<${k.name}> is not part of <gs_provision> (mac, config): the phone ignores it`, file, k.line));
    }
    if (!config) {
      out.push(finding('GS_NO_CONFIG', 'error', '<gs_provision> has no <config> element: the file sets nothing', file, root.line));
      return out;
    }
    const version = config.attr('version')?.value ?? '1';
    if (version !== '1' && version !== '2') out.push(finding('GS_VERSION', 'error', `<config version="${version}">: Grandstream phones read version 1 (<Pnnn>) or 2 (<item name>)`, file, config.line));
    strayText(config, file, 'GS_TEXT', out);
    const seen = new Map<string, number>();
    for (const e of childElements(config)) {
      let name: string;
      if (version === '2' && e.name === 'item') {
        name = e.attr('name')?.value ?? '';
        if (!name) out.push(finding('GS_ITEM', 'error', '<item> without a name attribute', file, e.line));
      } else if (P_NAME.test(e.name)) {
        name = e.name;
        if (catalog && catalog.size && !catalog.has(name)) out.push(finding('GS_UNKNOWN_PVALUE', 'warning', `${name} is not a P-value deskset knows (schemas/grandstream/pvalues.txt): check the number`, file, e.line));
      } else {
        out.push(finding('GS_NAME', 'error', `<${e.name}> is not a P-value (P followed by digits${version === '2' ? ', or <item name="…">' : ''}): the phone ignores it`, file, e.line));
        continue;
      }
      textOnly(e, 'a P-value', file, 'GS_NESTED', out);
      setOnce(seen, name, e.line, file, 'GS_DUPLICATE', out);
    }
  } finally {
    doc.dispose();
  }
  return out;
}

/**
 * The text form (`P47 = sip.example.com`, `#` comments) that older tools write and that
 * P-value lists use. A line that is neither is an error, with its position.
 */
function checkGsText(text: string, file: string, catalog?: ReadonlySet<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  let statements = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(P\d{1,6})\s*=\s?(.*)$/.exec(line);
    if (!m) {
      out.push(finding('GS_TEXT_LINE', 'error', `not a "Pnnn = value" line: ${JSON.stringify(line.slice(0, 60))}`, file, i + 1, raw.length - raw.trimStart().length + 1));
      return;
    }
    statements++;
    const name = m[1]!;
    if (catalog && catalog.size && !catalog.has(name)) out.push(finding('GS_UNKNOWN_PVALUE', 'warning', `${name} is not a P-value deskset knows (schemas/grandstream/pvalues.txt)`, file, i + 1));
    setOnce(seen, name, i + 1, file, 'GS_DUPLICATE', out);
  });
  if (statements === 0) out.push(finding('GS_EMPTY', 'warning', 'no P-value in the file', file, 1));
  return out;
}

/** The P-value catalog: `Pnnn = description` lines (the HT502 definitions form), `#` comments. */
export function parsePValueCatalog(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(P\d{1,6})\s*=/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** `<P47>value</P47>`, as `check` traces a finding to the profile value. */
export function gsLineParam(line: string): { name: string; value?: string } | undefined {
  const m = /^<(P\d{1,6})>(.*)<\/P\d{1,6}>$/.exec(line) ?? /^<(P\d{1,6})\s*\/>$/.exec(line);
  return m ? { name: m[1]!, value: m[2] } : undefined;
}

