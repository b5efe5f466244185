// What every vendor importer shares: the input files by name, the model catalog, the models
// the admin told us (--model, CSV), and the collectors for findings and dropped parameters.

import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';
import type { ModelCatalog, ModelInfo } from '../vendors/manifest.js';
import type { InputFile, Param, ParsedFolder, Scope, Subject, Vendor } from './types.js';
import { readXml, type XmlDoc } from './xml-lite.js';

export interface ImportContext {
  catalog: ModelCatalog;
  /** Input files by name (relative path, forward slashes). */
  files: Map<string, InputFile>;
  /** Lower-cased base name -> file names, to follow references (GET, CONFIG_FILES, include:config). */
  byBase: Map<string, string[]>;
  /** Files named on the command line rather than found in a folder. */
  explicit: Set<string>;
  /** MAC -> model the admin gave (--model MAC=MODEL or the CSV). */
  givenModels: Map<string, { model: ModelInfo; from: string }>;
  out: ParsedFolder;
}

export function makeContext(files: InputFile[], catalog: ModelCatalog, givenModels: ImportContext['givenModels'], explicit: Set<string>, out: ParsedFolder): ImportContext {
  const byName = new Map(files.map((f) => [f.name, f]));
  const byBase = new Map<string, string[]>();
  for (const f of files) {
    const base = f.name.slice(f.name.lastIndexOf('/') + 1).toLowerCase();
    const list = byBase.get(base);
    if (list) list.push(f.name);
    else byBase.set(base, [f.name]);
  }
  return { catalog, files: byName, byBase, explicit, givenModels, out };
}

/**
 * The file a reference names, looked up next to the referring file first, then anywhere in the
 * folder by base name (phones fetch from one directory; case-insensitive like most TFTP servers).
 */
export function resolveRef(ctx: ImportContext, from: string, ref: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return undefined;
  const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
  const clean = ref.replace(/^\.?\//, '');
  const direct = `${dir}${clean}`;
  if (ctx.files.has(direct)) return direct;
  const base = clean.slice(clean.lastIndexOf('/') + 1).toLowerCase();
  const hits = ctx.byBase.get(base) ?? [];
  return hits.find((h) => h.startsWith(dir)) ?? hits[0];
}

export function warn(ctx: ImportContext, code: string, message: string, loc?: SourceLoc, severity: Diagnostic['severity'] = 'warning'): void {
  ctx.out.findings.push({ code, severity, message, loc });
}

export function drop(ctx: ImportContext, loc: SourceLoc, key: string, reason: string): void {
  ctx.out.dropped.push({ loc, key, reason });
}

export function markUsed(ctx: ImportContext, name: string, lines: number): void {
  ctx.out.used.set(name, lines);
}

/** Set a parameter so that it counts as set last (Avaya, Yealink: later wins and moves to the end). */
export function setLast(params: Map<string, Param>, p: Param): void {
  params.delete(p.key);
  params.set(p.key, p);
}

export function newSubject(id: string, vendor: Vendor, init: Partial<Subject> = {}): Subject {
  return { id, vendor, groups: [], probe: false, params: new Map(), ...init };
}

export function param(key: string, value: string, loc: SourceLoc, scope: Scope, comments: string[] = []): Param {
  return { key, value, loc, scope, comments };
}

/** The model a device's MAC was given by the admin, or the one the input names. */
export function modelFor(ctx: ImportContext, vendor: Vendor, mac: string, fromInput?: { name: string; from: string }): { model?: string; from?: string } {
  const given = ctx.givenModels.get(mac);
  if (given) {
    if (given.model.vendor !== vendor) warn(ctx, 'IMPORT_MODEL_VENDOR', `${mac}: the model given (${given.model.name}) is a ${given.model.vendor} model, but the files are ${vendor}`, undefined, 'error');
    return { model: given.model.name, from: given.from };
  }
  if (fromInput) {
    const m = ctx.catalog.find(fromInput.name);
    if (m && m.vendor === vendor) return { model: m.name, from: fromInput.from };
  }
  return {};
}

/** The finding for a phone no input file names the model of (the device is written without one). */
export function unknownModel(ctx: ImportContext, mac: string, file: string | undefined): void {
  warn(ctx, 'IMPORT_MODEL_UNKNOWN', `${mac}: no file says which model this phone is; give it with --model ${mac}=MODEL or a CSV (the device is written without a model, which check reports)`, { file: file ?? mac, line: 1, col: 1 });
}

/** An XML input file, or undefined with the error reported at its line (a phone would reject the file too). */
export function readXmlFile(ctx: ImportContext, name: string, lines: string[]): XmlDoc | undefined {
  const doc = readXml(lines.join('\n'));
  if (!doc.error) return doc;
  warn(ctx, 'IMPORT_BAD_XML', `not well-formed XML: ${doc.error.message}; the file is skipped (a phone would reject it too)`, { file: name, line: doc.error.line, col: doc.error.col }, 'error');
  drop(ctx, { file: name, line: doc.error.line, col: doc.error.col }, '(whole file)', 'not well-formed XML');
  return undefined;
}
