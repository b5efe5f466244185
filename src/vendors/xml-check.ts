// What the checkers of XML vendor formats (a vendor folder's read.ts) share: libxml2's parse turned
// into findings at file:line:col instead of a throw, the element children of a node, and text
// left between elements (a typo the phone silently drops).

import { XmlDocument, XmlElement, XmlParseError, XmlText, type XmlTreeNode } from 'libxml2-wasm';
import type { Diagnostic, Severity } from '../check/diagnostics.js';

export function childElements(parent: XmlElement | null): XmlElement[] {
  const out: XmlElement[] = [];
  for (let n: XmlTreeNode | null = parent?.firstChild ?? null; n; n = n.next) if (n instanceof XmlElement) out.push(n);
  return out;
}

export function finding(code: string, severity: Severity, message: string, file: string, line: number, col = 1): Diagnostic {
  return { code, severity, message, loc: { file, line: Math.max(line, 1), col: Math.max(col, 1) } };
}

/** The parsed document (the caller disposes it), or up to five `code` findings saying why it is not XML. */
export function parseForCheck(text: string, file: string, code: string): { doc: XmlDocument } | { findings: Diagnostic[] } {
  try {
    return { doc: XmlDocument.fromString(text) };
  } catch (e) {
    const details = e instanceof XmlParseError ? e.details : [];
    if (!details.length) return { findings: [finding(code, 'error', `not well-formed XML: ${(e as Error).message.trim()}`, file, 1)] };
    return { findings: details.slice(0, 5).map((d) => finding(code, 'error', `not well-formed XML: ${d.message.trim()}`, file, d.line, d.col)) };
  }
}

/** Text between `parent`'s elements other than white space, as `code` errors. */
export function strayText(parent: XmlElement, file: string, code: string, out: Diagnostic[]): void {
  for (let n: XmlTreeNode | null = parent.firstChild; n; n = n.next) {
    if (n instanceof XmlText && n.content.trim() !== '') out.push(finding(code, 'error', `stray text ${JSON.stringify(n.content.trim().slice(0, 40))} inside <${parent.name}>`, file, textLine(n)));
  }
}

/** An element that holds elements where the phone reads only text (`what`: "a P-value"). */
export function textOnly(e: XmlElement, what: string, file: string, code: string, out: Diagnostic[]): void {
  if (childElements(e).length) out.push(finding(code, 'error', `<${e.name}> holds elements; ${what} holds text only`, file, e.line));
}

/** `key` set a second time: the phone keeps the last value, so the first is silently lost. */
export function setOnce(seen: Map<string, number>, key: string, line: number, file: string, code: string, out: Diagnostic[]): void {
  const prev = seen.get(key);
  if (prev !== undefined) out.push(finding(code, 'warning', `${key} is set again (first on line ${prev}); the phone keeps the last value`, file, line));
  else seen.set(key, line);
}

/** libxml2 numbers a text node by where it ends: step back over the line breaks after its last word. */
function textLine(n: XmlText): number {
  const trailing = /\s*$/.exec(n.content)![0];
  return n.line - (trailing.match(/\n/g)?.length ?? 0);
}
