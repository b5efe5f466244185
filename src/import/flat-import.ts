// What the Cisco, Grandstream and Snom importers share: each reads its files into flat
// name -> value entries and says what each file is to a phone; this module turns that into
// subjects. A phone applies its model's file first (Snom snom<model>.htm, Cisco $PSN.xml), then
// its own (later values win); a fallback file (Grandstream cfg.xml, cfg<model>.xml) is read only
// by phones without a file of their own, so it becomes a probe whose values the layers carry
// and the devices null out.

import type { SourceLoc } from '../check/diagnostics.js';
import { drop, markUsed, modelFor, newSubject, param, setLast, unknownModel, warn, type ImportContext } from './context.js';
import type { Param, Scope, Subject, Vendor } from './types.js';
import { baseName } from './yealink-import.js';

export interface FlatEntry {
  key: string;
  value: string;
  line: number;
  col: number;
  comments: string[];
}

export type FlatRole =
  | { kind: 'device'; mac: string; model?: { name: string; from: string }; compare?: string }
  | { kind: 'model'; model: string }
  | { kind: 'fallback'; model?: string }
  | { kind: 'orphan'; why: string };

export interface FlatFile {
  name: string;
  role: FlatRole;
  entries: FlatEntry[];
  lines: number;
}

export function flatSubjects(ctx: ImportContext, vendor: Vendor, files: FlatFile[]): Subject[] {
  const modelFiles = new Map<string, FlatFile[]>();
  const fallbacks = new Map<string, FlatFile[]>(); // '' = every model
  const devices = new Map<string, FlatFile[]>();
  for (const f of files) {
    markUsed(ctx, f.name, f.lines);
    const r = f.role;
    if (r.kind === 'model') modelFiles.set(r.model, [...(modelFiles.get(r.model) ?? []), f]);
    else if (r.kind === 'fallback') fallbacks.set(r.model ?? '', [...(fallbacks.get(r.model ?? '') ?? []), f]);
    else if (r.kind === 'device') devices.set(r.mac, [...(devices.get(r.mac) ?? []), f]);
    else {
      warn(ctx, 'IMPORT_NOT_LOADED', `${baseName(f.name)}: ${r.why}; not imported`, { file: f.name, line: 1, col: 1 });
      for (const e of f.entries) drop(ctx, { file: f.name, line: e.line, col: e.col }, e.key, r.why);
    }
  }

  const apply = (f: FlatFile, scope: Scope, params: Map<string, Param>) => {
    const seen = new Map<string, number>();
    for (const e of f.entries) {
      const loc: SourceLoc = { file: f.name, line: e.line, col: e.col };
      const prev = seen.get(e.key);
      if (prev !== undefined) {
        warn(ctx, 'IMPORT_DUPLICATE_KEY', `${e.key} is set again (first on line ${prev}); the last value is imported, as the phone keeps the last`, loc);
        drop(ctx, { file: f.name, line: prev, col: 1 }, e.key, `overridden by the same key on line ${e.line}`);
      }
      seen.set(e.key, e.line);
      setLast(params, param(e.key, e.value, loc, scope, e.comments));
    }
  };

  const subjects: Subject[] = [];
  const withDevice = new Set<string>();
  const macs = new Set(devices.keys());
  for (const [mac, g] of ctx.givenModels) if (g.model.vendor === vendor) macs.add(mac);
  for (const mac of [...macs].sort()) {
    const own = devices.get(mac) ?? [];
    const said = own.map((f) => (f.role.kind === 'device' ? f.role.model : undefined)).find((m) => m) ?? modelFromFolder(ctx, vendor, own[0]?.name);
    const { model, from } = modelFor(ctx, vendor, mac, said);
    const compare = own.map((f) => (f.role.kind === 'device' ? f.role.compare : undefined)).find((c) => c);
    const s = newSubject(mac, vendor, { mac, model, modelFrom: from, compare });
    if (model) {
      withDevice.add(model);
      for (const f of modelFiles.get(model) ?? []) apply(f, 'model', s.params);
    } else unknownModel(ctx, mac, own[0]?.name);
    for (const f of own) apply(f, 'device', s.params);
    subjects.push(s);
  }
  // Model files no phone of the folder reads, and fallback files: probes prove their layers.
  const models = ctx.catalog.vendor(vendor)?.models ?? [];
  for (const [model, fs] of modelFiles) {
    if (withDevice.has(model)) continue;
    const s = newSubject(`${model} (probe)`, vendor, { model, modelFrom: fs[0]!.name, probe: true });
    for (const f of fs) apply(f, 'model', s.params);
    subjects.push(s);
  }
  for (const [model, fs] of fallbacks) {
    const m = model || models.find((x) => !fallbacks.has(x.name) && !modelFiles.has(x.name))?.name;
    if (!m) continue;
    const s = newSubject(`${model ? '' : 'any '}${m} (probe)`, vendor, { model: m, modelFrom: fs[0]!.name, probe: true });
    for (const f of modelFiles.get(m) ?? []) apply(f, 'model', s.params);
    for (const f of fs) apply(f, model ? 'model' : 'global', s.params);
    subjects.push(s);
  }
  return subjects;
}

/** A model named by a folder the file sits in (`GXP2170/cfg000b82….xml`), when one of them is a model of this vendor. */
export function modelFromFolder(ctx: ImportContext, vendor: Vendor, name: string | undefined): { name: string; from: string } | undefined {
  if (!name) return undefined;
  const dirs = name.split('/').slice(0, -1).reverse();
  for (const d of dirs) {
    const m = ctx.catalog.find(d);
    if (m && m.vendor === vendor) return { name: m.name, from: `the folder ${d}/` };
  }
  return undefined;
}
