// Lint for Cisco files an admin writes by hand (resources/) and for the real files people
// publish: each file is read, never thrown on; what a phone would choke on or silently drop
// is a finding at file:line:col. XML files: well-formedness (libxml2), a root element Cisco
// firmware reads, duplicate flat-profile parameters (the later one wins on the phone).
// Legacy 79x0 SIP files (SIPDefault.cnf, SIP<MAC>.cnf): the grammar of sip-cnf.ts.

import { XmlDocument, XmlElement, XmlParseError, type XmlTreeNode } from 'libxml2-wasm';
import type { Diagnostic } from '../../check/diagnostics.js';
import { checkSipCnf } from './sip-cnf.js';

/** Root elements Cisco firmware reads, by the file that carries each. */
const ROOTS: Readonly<Record<string, string>> = {
  device: 'SEP<MAC>.cnf.xml',
  Default: 'XMLDefault.cnf.xml',
  'flat-profile': 'an MPP/SPA profile',
  DIALTEMPLATE: 'dialplan.xml',
  softKeyCfg: 'SoftKeys.xml',
};

/** Names the lint reads: Cisco's XML configuration files and the legacy SIP .cnf files. */
export function isCiscoFileName(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return /\.cnf(?:\.xml)?$/i.test(base) || /^(?:dialplan|softkeys)\.xml$/i.test(base) || /^spa.*\.(?:cfg|xml)$/i.test(base);
}

export function lintCiscoFile(bytes: Uint8Array | string, file: string): Diagnostic[] {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const body = text.replace(/^\uFEFF/, '');
  if (/\.cnf$/i.test(file) && !body.trimStart().startsWith('<')) return checkSipCnf(body, file);
  return lintXml(body, file);
}

const at = (file: string, line: number, col: number) => ({ file, line: Math.max(1, line), col: Math.max(1, col) });

function lintXml(text: string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (text.trim() === '') return [{ code: 'CISCO_XML', severity: 'error', message: 'empty file: a phone reads no settings from it', loc: at(file, 1, 1) }];
  let doc: XmlDocument | undefined;
  try {
    doc = XmlDocument.fromString(text);
  } catch (e) {
    if (!(e instanceof XmlParseError)) throw e;
    const fatal = e.details.filter((d) => d.level >= 3);
    // The first fatal error is the defect; libxml2's later ones are its echo (every enclosing
    // tag then "mismatches").
    for (const d of [...e.details.filter((x) => x.level < 3), ...fatal.slice(0, 1)]) {
      const ns = d.level < 3 && /namespace/i.test(d.message);
      out.push({
        code: ns ? 'CISCO_XML_NAMESPACE' : 'CISCO_XML',
        severity: ns ? 'warning' : 'error',
        message: ns ? `${d.message.trim()} (Cisco phones ignore namespaces, but a namespace-aware tool rejects the file)` : `not well-formed XML: ${d.message.trim()}`,
        loc: at(file, d.line, d.col),
      });
    }
    if (fatal.length) return out;
    // Only namespace faults (xsi:type with no xmlns:xsi): read the structure without prefixes.
    try {
      doc = XmlDocument.fromString(text.replace(/(\s)[A-Za-z_][\w.-]*:([A-Za-z_][\w.-]*\s*=)/g, '$1$2'));
    } catch {
      return out;
    }
  }
  try {
    const root = doc.root;
    if (!Object.hasOwn(ROOTS, root.name)) {
      out.push({ code: 'CISCO_UNKNOWN_ROOT', severity: 'warning', message: `root element <${root.name}> is none Cisco firmware reads (${Object.keys(ROOTS).map((r) => `<${r}>`).join(', ')})`, loc: at(file, root.line, 1) });
    }
    if (root.name === 'flat-profile') out.push(...duplicates(root, file));
    if (root.name === 'device') out.push(...lines(root, file));
  } finally {
    doc.dispose();
  }
  return out;
}

function* elements(n: XmlTreeNode | null): Generator<XmlElement> {
  for (; n; n = n.next) if (n instanceof XmlElement) yield n;
}

/** A flat profile may set a parameter twice; the phone keeps the last, which is rarely meant. */
function duplicates(root: XmlElement, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  for (const e of elements(root.firstChild)) {
    const prev = seen.get(e.name);
    if (prev !== undefined) out.push({ code: 'CISCO_DUPLICATE_PARAM', severity: 'warning', message: `<${e.name}> is set again (first at line ${prev}); the phone keeps this later value`, loc: at(file, e.line, 1) });
    else seen.set(e.name, e.line);
  }
  return out;
}

/** Enterprise lines are addressed by their button: one without is never shown. */
function lines(root: XmlElement, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const profile = [...elements(root.firstChild)].find((e) => e.name === 'sipProfile');
  const sipLines = profile && [...elements(profile.firstChild)].find((e) => e.name === 'sipLines');
  const buttons = new Map<string, number>();
  for (const line of sipLines ? elements(sipLines.firstChild) : []) {
    if (line.name !== 'line') continue;
    const b = line.attr('button')?.value;
    if (b === undefined) out.push({ code: 'CISCO_LINE_BUTTON', severity: 'warning', message: '<line> has no button="N" attribute: the phone shows it on no key', loc: at(file, line.line, 1) });
    else if (buttons.has(b)) out.push({ code: 'CISCO_LINE_BUTTON', severity: 'warning', message: `button ${b} is used again (first at line ${buttons.get(b)})`, loc: at(file, line.line, 1) });
    else buttons.set(b, line.line);
  }
  return out;
}
