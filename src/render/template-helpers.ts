// Handlebars helpers that shipped templates use to write each vendor's format safely.
// Templates are compiled with noEscape: escaping is the job of these format-aware helpers,
// because HTML escaping is wrong for two of our three formats.

import type { HelperDelegate } from 'handlebars';
import { avayaDstEdge, dstRule, formatOffsetHm, formatOffsetHours, zoneInfo, type DstEdge } from './timezone.js';

/** Thrown by a helper when a value cannot be written safely in the target format. */
export class RenderValueError extends Error {
  /** The parameter being written, so the error can be traced to the profile line that set it. */
  key?: string;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new RenderValueError(`expected a single value, got ${Array.isArray(v) ? 'a list' : 'a map'}`);
  return String(v);
}

// XML 1.0 forbids most C0 controls even as character references.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

// Anything xmlEscape must escape or refuse: most values have none, and one test says so.
const XML_SPECIAL = /[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function xmlEscape(v: unknown): string {
  const s = text(v);
  if (!XML_SPECIAL.test(s)) return s;
  // The value itself is not quoted: it may be a password.
  if (XML_FORBIDDEN.test(s)) throw new RenderValueError("a value holds a control character that XML cannot carry");
  return s.replace(/[&<>"'\t\n\r]/g, (c) => XML_ENTITIES[c]!);
}
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/**
 * A name check that remembers the names it found valid. Every device's file writes the same
 * few hundred names, so each is tested once, not once per render (measured: 1.3 µs of a
 * 21 µs render). Bounded: `set_all` writes names from profiles, and a root with more
 * distinct names than this only tests some again.
 */
function nameCheck(pattern: RegExp): (name: string) => boolean {
  const valid = new Set<string>();
  return (name) => {
    if (valid.has(name)) return true;
    if (!pattern.test(name)) return false;
    if (valid.size >= 10_000) valid.clear();
    valid.add(name);
    return true;
  };
}

const isXmlName = nameCheck(/^[A-Za-z_][A-Za-z0-9_.:-]*$/);

/** Line-based formats: a newline in a value would smuggle in a new statement. */
function singleLine(s: string, what: string): string {
  if (/[\r\n\u0000]/.test(s)) throw new RenderValueError(`${what}: value contains a line break or NUL, which would inject a new line into the file`);
  return s;
}

const isAvayaName = nameCheck(/^[A-Za-z][A-Za-z0-9_]*$/);

/** `SET NAME value`, quoted when the value has spaces or is empty, as the phone's parser needs. */
export function avayaSet(name: unknown, value: unknown): string {
  const n = text(name);
  if (!isAvayaName(n)) throw new RenderValueError(`"${n}" is not a valid Avaya parameter name`);
  const v = singleLine(text(value), n);
  // The phone's parser has no escape for a double quote inside a quoted value.
  if (v.includes('"')) throw new RenderValueError(`${n}: Avaya values cannot contain a double quote`);
  const needsQuotes = v === '' || /\s/.test(v) || v.startsWith('#');
  return `SET ${n} ${needsQuotes ? `"${v}"` : v}`;
}

const isYealinkKey = nameCheck(/^[A-Za-z0-9_][A-Za-z0-9_.%-]*$/);

/** `key = value`: Yealink reads the value to end of line, verbatim. */
export function yealinkLine(key: unknown, value: unknown): string {
  const k = text(key);
  if (!isYealinkKey(k)) throw new RenderValueError(`"${k}" is not a valid Yealink parameter name`);
  const v = singleLine(text(value), k);
  return `${k} = ${v}`;
}

function entries(map: unknown): Array<[string, unknown]> {
  if (map === null || map === undefined) return [];
  if (typeof map !== 'object' || Array.isArray(map)) throw new RenderValueError('expected a map of parameters');
  return Object.entries(map as Record<string, unknown>);
}

type ParamFormat = 'xml' | 'avaya' | 'yealink';

/** Emit collected parameters in one format. Later `set`s of a key win; the key keeps its first place, so diffs stay small. */
function emitParams(format: ParamFormat, params: Map<string, unknown>, indent: string): string {
  let out = '';
  let key: string | undefined;
  let first = true;
  // One try around the loop (not a closure per key): this runs for every parameter of every render.
  try {
    for (const [k, v] of params) {
      key = k;
      if (!first) out += '\n';
      first = false;
      if (format === 'xml') {
        if (!isXmlName(k)) throw new RenderValueError(`"${k}" is not a valid XML attribute name`);
        out += `${indent}${k}="${xmlEscape(v)}"`;
      } else if (format === 'avaya') out += avayaSet(k, v);
      else out += yealinkLine(k, v);
    }
  } catch (e) {
    if (e instanceof RenderValueError && e.key === undefined) e.key = key;
    throw e;
  }
  return out;
}

interface HelperOptions {
  fn: (ctx: unknown, opts?: { data?: unknown }) => string;
  data?: Record<string, unknown> & { params?: Map<string, unknown> };
  hash?: Record<string, unknown>;
}

function collector(options: HelperOptions | undefined): Map<string, unknown> {
  const c = options?.data?.params;
  if (!(c instanceof Map)) throw new RenderValueError('"set" used outside a {{#params}} block');
  return c;
}

/**
 * A data frame for the block: the enclosing frame's own entries plus the collector. Copied in
 * a loop: `{ ...data, params }` goes through V8's slow path for spread-then-add, and this
 * helper runs once per rendered file.
 */
function frameWithParams(data: Record<string, unknown> | undefined, params: Map<string, unknown>): Record<string, unknown> {
  const frame: Record<string, unknown> = {};
  if (data) for (const k of Object.keys(data)) frame[k] = data[k];
  frame.params = params;
  return frame;
}

export const helpers: Record<string, HelperDelegate> = {
  /**
   * {{#params "xml"}} {{set "k" v}} … {{/params}}: templates declare values; the block writes
   * each key once (a vendor param set in a profile replaces the vocabulary's value for the
   * same key, instead of producing a duplicate that XML or Yealink would reject).
   */
  params(this: unknown, format: unknown, options: HelperOptions) {
    if (format !== 'xml' && format !== 'avaya' && format !== 'yealink') throw new RenderValueError(`params: unknown format ${String(format)}`);
    const params = new Map<string, unknown>();
    options.fn(this, { data: frameWithParams(options.data, params) });
    return emitParams(format, params, String(options.hash?.indent ?? '  '));
  },
  /** Record one parameter; undefined and null mean "not set" and are skipped. */
  set(key: unknown, value: unknown, options: HelperOptions) {
    if (value === undefined || value === null) return '';
    const c = collector(options);
    c.set(text(key), value);
    return '';
  },
  /** Record every entry of a map (the vendor escape hatch maps), in order. */
  set_all(map: unknown, options: HelperOptions) {
    const c = collector(options);
    for (const [k, v] of entries(map)) {
      if (v === undefined || v === null) continue;
      c.set(k, v);
    }
    return '';
  },
  concat(...args: unknown[]) {
    // The last argument is Handlebars' options object.
    let out = '';
    for (let i = 0; i < args.length - 1; i++) out += text(args[i]);
    return out;
  },
  xml: (v: unknown) => xmlEscape(v),
  /** ` name="value"` attributes for every entry of a map, one per line, names checked. */
  xml_attrs(map: unknown, options: { hash?: { indent?: string } }) {
    const indent = options?.hash?.indent ?? '  ';
    return entries(map)
      .map(([k, v]) => {
        if (!isXmlName(k)) throw new RenderValueError(`"${k}" is not a valid XML attribute name`);
        return `\n${indent}${k}="${xmlEscape(v)}"`;
      })
      .join('');
  },
  avaya_set: (name: unknown, value: unknown) => avayaSet(name, value),
  avaya_settings: (map: unknown) => entries(map).map(([k, v]) => avayaSet(k, v)).join('\n'),
  yealink: (key: unknown, value: unknown) => yealinkLine(key, value),
  yealink_params: (map: unknown) => entries(map).map(([k, v]) => yealinkLine(k, v)).join('\n'),
  tz_offset_hm: (zone: unknown) => formatOffsetHm(zoneInfo(text(zone)).standardMinutes),
  tz_offset_hours: (zone: unknown) => formatOffsetHours(zoneInfo(text(zone)).standardMinutes),
  tz_offset_seconds: (zone: unknown) => String(zoneInfo(text(zone)).standardMinutes * 60),
  tz_dst: (zone: unknown) => (zoneInfo(text(zone)).observesDst ? '1' : '0'),
  /** The zone's DST rule ({start, end, saveMinutes}; each edge {month, week (5 = last), weekday (0 = Sun), hour, day}), or nothing. */
  dst: (zone: unknown) => dstRule(text(zone)),
  avaya_dst: (edge: unknown) => avayaDstEdge(edge as DstEdge),
  /** ISO weekday (1 = Monday … 7 = Sunday) from 0 = Sunday. */
  iso_weekday: (d: unknown) => (Number(d) === 0 ? 7 : Number(d)),
  eq: (a: unknown, b: unknown) => a === b || String(a) === String(b),
  ne: (a: unknown, b: unknown) => !(a === b || String(a) === String(b)),
  or: (...args: unknown[]) => args.slice(0, -1).find(Boolean) ?? args[args.length - 2],
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  not: (a: unknown) => !a,
  inc: (n: unknown) => Number(n) + 1,
  /** `(if_last week a b)`: a when week is 5 (the last occurrence in the month), else b. */
  if_last: (week: unknown, a: unknown, b: unknown) => (Number(week) === 5 ? a : b),
  default: (v: unknown, d: unknown) => (v === undefined || v === null || v === '' ? d : v),
  join: (list: unknown, sep: unknown) => (Array.isArray(list) ? list.map(text).join(typeof sep === 'string' ? sep : ',') : text(list)),
  first: (list: unknown) => (Array.isArray(list) ? list[0] : list),
  upper: (v: unknown) => text(v).toUpperCase(),
  lower: (v: unknown) => text(v).toLowerCase(),
};
