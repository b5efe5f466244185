// Building blocks for writing values into a file format, shared by the vendor folders and
// the vendor-neutral helpers (render/template-helpers.ts).

import { RenderValueError } from './contract.js';

/** A template value as one piece of text; a list or map cannot be one value. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new RenderValueError(`expected a single value, got ${Array.isArray(v) ? 'a list' : 'a map'}`);
  return String(v);
}

/** Line-based formats: a newline in a value would smuggle in a new statement. */
export function singleLine(s: string, what: string): string {
  if (/[\r\n\u0000]/.test(s)) throw new RenderValueError(`${what}: value contains a line break or NUL, which would inject a new line into the file`);
  return s;
}

/**
 * A name check that remembers the names it found valid. Every device's file writes the same
 * few hundred names, so each is tested once, not once per render. Bounded: `set_all` writes
 * names from profiles, and a root with more distinct names than this only tests some again.
 */
export function nameCheck(pattern: RegExp): (name: string) => boolean {
  const valid = new Set<string>();
  return (name) => {
    if (valid.has(name)) return true;
    if (!pattern.test(name)) return false;
    if (valid.size >= 10_000) valid.clear();
    valid.add(name);
    return true;
  };
}

/** The entries of a map of parameters (a vendor's escape-hatch map); nothing for null. */
export function entries(map: unknown): Array<[string, unknown]> {
  if (map === null || map === undefined) return [];
  if (typeof map !== 'object' || Array.isArray(map)) throw new RenderValueError('expected a map of parameters');
  return Object.entries(map as Record<string, unknown>);
}

// XML 1.0 forbids most C0 controls even as character references.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

// Anything xmlEscape must escape or refuse: most values have none, and one test says so.
const XML_SPECIAL = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** Can an XML attribute carry this value at all (escaped)? */
export function xmlCarries(value: string): boolean {
  return !XML_FORBIDDEN.test(value);
}

/** A value as the text of an XML attribute or element: escaped, or refused when XML cannot carry it. */
export function xmlEscape(v: unknown): string {
  const s = text(v);
  if (!XML_SPECIAL.test(s)) return s;
  // The value itself is not quoted: it may be a password.
  if (XML_FORBIDDEN.test(s)) throw new RenderValueError('a value holds a control character that XML cannot carry');
  return s.replace(/[&<>"'\t\n\r]/g, (c) => XML_ENTITIES[c]!);
}
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

export const isXmlName = nameCheck(/^[A-Za-z_][A-Za-z0-9_.:-]*$/);
