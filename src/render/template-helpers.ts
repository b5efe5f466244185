// Handlebars helpers every template can call: the vendor-neutral ones here, plus each
// vendor's own (its escaping, line formats and time-zone forms, src/vendors/<id>/index.ts).
// Templates are compiled with noEscape: escaping is the job of format-aware helpers,
// because HTML escaping is wrong for most phone formats.

import type { HelperDelegate } from 'handlebars';
import { dstRule, zoneInfo } from './timezone.js';
import { RenderValueError, type ParamWriter } from '../vendors/contract.js';
import { PARAM_WRITERS, VENDOR_HELPERS } from '../vendors/registry.js';
import { entries, isXmlName, text, xmlEscape } from '../vendors/values.js';

export { RenderValueError, xmlEscape };

/** `{{#params "xml"}}`: one attribute a line, names checked. */
function xmlParam(indent: string): ParamWriter {
  return (k, v) => {
    const name = text(k);
    if (!isXmlName(name)) throw new RenderValueError(`"${name}" is not a valid XML attribute name`);
    return `${indent}${name}="${xmlEscape(v)}"`;
  };
}

/** Emit collected parameters in one format. Later `set`s of a key win; the key keeps its first place, so diffs stay small. */
function emitParams(write: ParamWriter, params: Map<string, unknown>): string {
  let out = '';
  let key: string | undefined;
  let first = true;
  // One try around the loop (not a closure per key): this runs for every parameter of every render.
  try {
    for (const [k, v] of params) {
      key = k;
      if (!first) out += '\n';
      first = false;
      out += write(k, v);
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

const neutral: Record<string, HelperDelegate> = {
  /**
   * {{#params "xml"}} {{set "k" v}} … {{/params}}: templates declare values; the block writes
   * each key once (a vendor param set in a profile replaces the vocabulary's value for the
   * same key, instead of producing a duplicate that the file's format would reject).
   */
  params(this: unknown, format: unknown, options: HelperOptions) {
    const write = format === 'xml' ? xmlParam(String(options.hash?.indent ?? '  ')) : typeof format === 'string' ? PARAM_WRITERS.get(format) : undefined;
    if (!write) throw new RenderValueError(`params: unknown format ${String(format)}`);
    const params = new Map<string, unknown>();
    options.fn(this, { data: frameWithParams(options.data, params) });
    return emitParams(write, params);
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
  tz_dst: (zone: unknown) => (zoneInfo(text(zone)).observesDst ? '1' : '0'),
  /** The zone's DST rule ({start, end, saveMinutes}; each edge {month, week (5 = last), weekday (0 = Sun), hour, day}), or nothing. */
  dst: (zone: unknown) => dstRule(text(zone)),
  eq: (a: unknown, b: unknown) => a === b || String(a) === String(b),
  ne: (a: unknown, b: unknown) => !(a === b || String(a) === String(b)),
  or: (...args: unknown[]) => args.slice(0, -1).find(Boolean) ?? args[args.length - 2],
  and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
  not: (a: unknown) => !a,
  inc: (n: unknown) => Number(n) + 1,
  default: (v: unknown, d: unknown) => (v === undefined || v === null || v === '' ? d : v),
  join: (list: unknown, sep: unknown) => (Array.isArray(list) ? list.map(text).join(typeof sep === 'string' ? sep : ',') : text(list)),
  first: (list: unknown) => (Array.isArray(list) ? list[0] : list),
  upper: (v: unknown) => text(v).toUpperCase(),
  lower: (v: unknown) => text(v).toLowerCase(),
};

/** The helpers a template environment registers: the neutral ones, then every vendor's. */
export const helpers: Record<string, HelperDelegate> = { ...neutral };
for (const [name, fn] of VENDOR_HELPERS) {
  if (Object.hasOwn(neutral, name)) throw new Error(`vendor helper "${name}" would replace deskset's own helper of that name`);
  helpers[name] = fn;
}
