// Validate what we render, before any phone sees it: XML against the route's XSD, a
// vendor's own format by that vendor's checker (src/vendors/<id>/). Each finding is traced
// back, where possible, to the profile file:line that set the offending value.

import type { Diagnostic, SourceLoc } from './diagnostics.js';
import { OUTPUT_FORMATS } from '../vendors/registry.js';
import { flattenLeaves, type EMap } from '../config/merge.js';
import { REDACTED, isSecretKey } from '../config/redact.js';
import type { Rendered } from '../render/render.js';
import { xmlEscape } from '../vendors/values.js';
import type { PNode } from '../config/yaml-tree.js';

export interface XsdFinding {
  line: number;
  col: number;
  message: string;
}

export interface OutputValidators {
  /** Validate XML against the schema a route names (`<vendor>/<name>.xsd`); [] means valid. */
  xsd?: (xml: string, schema: string) => XsdFinding[] | Promise<XsdFinding[]>;
  /**
   * Validate XML against the schema's advisory companion (`<vendor>/<name>.advisory.xsd`):
   * deskset's own layout, stricter than the phone on purpose, so its findings are warnings.
   */
  xsdAdvisory?: (xml: string, schema: string) => XsdFinding[] | Promise<XsdFinding[]>;
  /** Each vendor's catalog of parameter names (`Vendor.catalog`), by vendor id. */
  catalogs?: ReadonlyMap<string, ReadonlySet<string>>;
  resourceExists?: (name: string) => boolean;
}

/** Validate one rendered file. Sync validators stay sync: no promise per file on the hot path. */
export function validateRendered(r: Rendered, device: string | undefined, v: OutputValidators): Diagnostic[] | Promise<Diagnostic[]> {
  const where = { device, path: r.path };
  const text = r.text;
  switch (r.file.format) {
    case 'xml': {
      const schema = r.file.schema;
      if (!schema || !v.xsd) return [];
      const errors = (issues: XsdFinding[]) => issues.map((i) => traced(r, text, i.line, i.col, `XSD ${schema}: ${i.message}`, 'XSD', 'error', where));
      // Only a file the phone accepts is held to the advisory layout: one finding, one severity.
      const advisory = (issues: XsdFinding[]): Diagnostic[] | Promise<Diagnostic[]> => {
        if (issues.length || !v.xsdAdvisory) return errors(issues);
        const adv = v.xsdAdvisory(text, schema);
        const warn = (found: XsdFinding[]) => found.map((i) => traced(r, text, i.line, i.col, `XSD ${schema.replace(/\.xsd$/, '.advisory.xsd')}: ${i.message} (advisory: stricter than the phone, which ignores what it does not know)`, 'XSD_ADVISORY', 'warning', where));
        return Array.isArray(adv) ? warn(adv) : adv.then(warn);
      };
      const res = v.xsd(text, schema);
      return Array.isArray(res) ? advisory(res) : res.then(advisory);
    }
    case 'text':
      return [];
    default: {
      const own = OUTPUT_FORMATS.get(r.file.format);
      if (!own) return [];
      return own.format
        .check(text, `/${r.path}`, { catalog: v.catalogs?.get(own.vendor.id), resourceExists: v.resourceExists, perDevice: r.file.scope === 'device' })
        .map((d) => traced(r, text, d.loc?.line ?? 0, d.loc?.col ?? 0, d.message, d.code, d.severity, where));
    }
  }
}

function traced(r: Rendered, text: string, line: number, col: number, message: string, code: string, severity: Diagnostic['severity'], where: { device?: string; path: string }): Diagnostic {
  // XSD engines place an attribute error at its element; we write one attribute per line,
  // so point at the attribute's own line when the message names it.
  const attr = /attribute '([^']+)'/.exec(message)?.[1];
  if (attr) {
    const at = text.split('\n').findIndex((l) => l.includes(` ${attr}="`) || l.trimStart().startsWith(`${attr}="`));
    if (at >= 0) {
      line = at + 1;
      col = 0;
    }
  }
  const renderedLine = line > 0 ? (text.split('\n')[line - 1] ?? '') : '';
  const origin = line > 0 ? originOf(r.effective, renderedLine, message) : undefined;
  const at = line > 0 ? ` (rendered line ${line}${col > 0 ? `, col ${col}` : ''})` : '';
  const d: Diagnostic = { code, severity, message: `${message}${at}`, ...where };
  const rendered: SourceLoc = { file: `/${r.path}`, line: Math.max(line, 1), col: Math.max(col, 1) };
  if (origin) {
    d.loc = origin.loc;
    d.related = [{ message: `rendered output, set by ${origin.key}${origin.secret ? ` = ${REDACTED}` : ''}`, loc: rendered }];
  } else {
    d.loc = rendered;
  }
  return d;
}

interface ValueOrigin {
  key: string;
  loc: SourceLoc;
  secret: boolean;
}

/**
 * Which profile value produced this rendered line? First a key whose last segment is the
 * attribute or parameter the message names (vendor maps use the vendor's own names), then
 * any value that appears verbatim on the line, longest first.
 */
export function originOf(effective: EMap, renderedLine: string, message: string): ValueOrigin | undefined {
  const t = renderedLine.trim();
  const named = /attribute '([^']+)'/.exec(message)?.[1] ?? firstOf(LINE_READERS, (read) => read(t)?.name);
  const values = scalarLeaves(effective);
  if (named) {
    const hit = values.find((v) => v.key === named || v.key.endsWith(`.${named}`));
    if (hit) return { key: hit.key, loc: hit.loc, secret: isSecretKey(hit.key) };
  }
  // Otherwise a value that is a whole value on the line (an attribute's, a SET's, a key's),
  // never a substring: "en" must not be blamed for "enable".
  const whole = renderedValues(renderedLine);
  // Short or small-number values ("1", "0", "en") are too common to blame by value alone.
  const distinctive = (t: string) => t.length >= 3 && !/^\d{1,3}$/.test(t);
  const onLine = values.filter((v) => distinctive(v.text) && (whole.has(v.text) || whole.has(safeXml(v.text)))).sort((a, b) => b.text.length - a.text.length);
  const best = onLine[0];
  return best ? { key: best.key, loc: best.loc, secret: isSecretKey(best.key) } : undefined;
}

/** Every vendor format's reader of one line, in vendor order. */
const LINE_READERS = [...OUTPUT_FORMATS.values()].map((f) => f.format.lineParam);

function firstOf<T, R>(items: readonly T[], f: (item: T) => R | undefined): R | undefined {
  for (const item of items) {
    const r = f(item);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** The values a rendered line carries: XML attribute values, and each vendor format's line value. */
function renderedValues(line: string): Set<string> {
  const out = new Set<string>();
  for (const m of line.matchAll(/[\w.:-]+="([^"]*)"/g)) out.add(m[1]!);
  const t = line.trim();
  for (const read of LINE_READERS) {
    const value = read(t)?.value;
    if (value !== undefined) out.add(value);
  }
  return out;
}

function safeXml(s: string): string {
  try {
    return xmlEscape(s);
  } catch {
    return s;
  }
}

interface ScalarLeaf {
  key: string;
  text: string;
  loc: SourceLoc;
}

function scalarLeaves(effective: EMap): ScalarLeaf[] {
  const out: ScalarLeaf[] = [];
  const add = (key: string, n: PNode): void => {
    if (n.kind === 'scalar') {
      if (n.value !== null) out.push({ key, text: String(n.value), loc: n.loc });
    } else if (n.kind === 'list') n.items.forEach((it, i) => add(`${key}[${i}]`, it));
    else for (const [k, e] of n.entries) add(`${key}.${k}`, e.node);
  };
  for (const { path, leaf } of flattenLeaves(effective)) add(path.join('.'), leaf.node);
  return out;
}
