// Reading and checking Snom settings files as the phone reads them:
// `<settings><phone-settings><name [idx="N"] perm="R|RW|…">value</name>…`, and the other
// sections a settings file may hold (functionKeys, tbook, dialplan …), which we leave alone.
// Parsed by libxml2; every defect is a finding with file:line:col, never a throw.

import { XmlDocument } from 'libxml2-wasm';
import type { Diagnostic } from '../../check/diagnostics.js';
import { childElements, finding, parseForCheck, setOnce, strayText, textOnly } from '../xml-check.js';
import { SNOM_PERMS, settingKey } from './escape.js';

/** Setting (`name` or `name[idx]`) -> value, from every <phone-settings> (a later one wins). */
export function readSnomXml(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  const doc = XmlDocument.fromString(xml);
  try {
    for (const section of childElements(doc.root)) {
      if (section.name !== 'phone-settings') continue;
      for (const e of childElements(section)) out.set(settingKey(e.name, e.attr('idx')?.value), e.content);
    }
  } finally {
    doc.dispose();
  }
  return out;
}

/** Sections a Snom settings file may hold besides phone-settings. */
const SECTIONS = new Set(['phone-settings', 'functionKeys', 'tbook', 'dialplan', 'uploads', 'gui-languages', 'web-languages', 'firmware-settings', 'setting-files']);

/**
 * Findings for one Snom settings file. `catalog`, when given, is the setting names deskset
 * knows; others are warnings (a typo the phone silently ignores).
 */
export function checkSnom(text: string, file: string, catalog?: ReadonlySet<string>): Diagnostic[] {
  const parsed = parseForCheck(text.replace(/^\uFEFF/, ''), file, 'SNOM_XML');
  if ('findings' in parsed) return parsed.findings;
  const { doc } = parsed;
  const out: Diagnostic[] = [];
  try {
    const root = doc.root;
    // A firmware file and a list of setting files are Snom files too (snom<model>.htm may be either).
    if (root.name === 'firmware-settings' || root.name === 'setting-files') return out;
    if (root.name !== 'settings') {
      out.push(finding('SNOM_ROOT', 'error', `the root element is <${root.name}>; a Snom phone reads <settings>`, file, root.line));
      return out;
    }
    strayText(root, file, 'SNOM_TEXT', out);
    const sections = childElements(root);
    if (!sections.some((s) => s.name === 'phone-settings')) out.push(finding('SNOM_NO_SETTINGS', 'warning', '<settings> has no <phone-settings>', file, root.line));
    for (const section of sections) {
      if (!SECTIONS.has(section.name)) {
        out.push(finding('SNOM_SECTION', 'warning', `<${section.name}> is not a Snom settings section: the phone ignores it`, file, section.line));
        continue;
      }
      if (section.name !== 'phone-settings') continue;
      strayText(section, file, 'SNOM_TEXT', out);
      const seen = new Map<string, number>();
      for (const e of childElements(section)) {
        const perm = e.attr('perm')?.value;
        if (perm === undefined) out.push(finding('SNOM_PERM', 'warning', `<${e.name}> has no perm attribute: the user may change it on the phone`, file, e.line));
        else if (!SNOM_PERMS.has(perm)) out.push(finding('SNOM_PERM', 'error', `<${e.name} perm="${perm}">: perm is "R", "RW", "!" or empty`, file, e.line));
        const idx = e.attr('idx')?.value;
        if (idx !== undefined && !/^\d{1,4}$/.test(idx)) out.push(finding('SNOM_IDX', 'error', `<${e.name} idx="${idx}">: idx is a number`, file, e.line));
        textOnly(e, 'a setting', file, 'SNOM_NESTED', out);
        if (catalog && catalog.size && !catalog.has(e.name)) out.push(finding('SNOM_UNKNOWN_SETTING', 'warning', `${e.name} is not a Snom setting deskset knows (schemas/snom/settings.txt): check the name`, file, e.line));
        setOnce(seen, settingKey(e.name, idx), e.line, file, 'SNOM_DUPLICATE', out);
      }
    }
  } finally {
    doc.dispose();
  }
  return out;
}

/** The setting catalog: one name a line (a description may follow after white space), `#` comments. */
export function parseSnomCatalog(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\b/.exec(line);
    if (m && !line.trimStart().startsWith('#')) out.add(m[1]!);
  }
  return out;
}

/** `<name idx="1" perm="R">value</name>`, as `check` traces a finding to the profile value. */
export function snomLineParam(line: string): { name: string; value?: string } | undefined {
  const m = /^<([A-Za-z_][A-Za-z0-9_]*)(?:\s+idx="(\d+)")?\s+perm="[^"]*">(.*)<\/\1>$/.exec(line);
  return m ? { name: m[1]!, value: m[3] } : undefined;
}

