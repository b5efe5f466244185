// Poly folders: master configs (000000000000.cfg for every phone without its own, <mac>.cfg for
// one phone) list CONFIG_FILES; the phone loads those files' parameters with the FIRST file in
// the list winning. A file every phone loads is the global layer, one only some models load is
// theirs, the rest is per device. <mac>-phone.cfg (settings a user made on the phone) are
// reported, not folded in.

import { normalizeMac } from '../config/mac.js';
import { drop, markUsed, modelFor, newSubject, param, readXmlFile, resolveRef, unknownModel, warn, type ImportContext } from './context.js';
import { decodeLines } from './text.js';
import type { Param, Scope, Subject } from './types.js';
import type { XmlElement } from './xml-lite.js';
import { baseName } from './yealink-import.js';

interface Master {
  file: string;
  configFiles: string[];
  /** Per catalog model: its own CONFIG_FILES_<MODEL> list, when given. */
  perModel: Map<string, string[]>;
  appFile: string;
  perModelApp: Map<string, string>;
  /** Where APP_FILE_PATH (or APP_FILE_PATH_<model>) is set. */
  appLoc: Map<string, { file: string; line: number; col: number }>;
  loc: { file: string; line: number; col: number };
}

interface ParamFile {
  params: Array<{ key: string; value: string; line: number; col: number; comments: string[] }>;
}

export function importPolycom(ctx: ImportContext, names: string[]): Subject[] {
  const docs = new Map<string, { elements: XmlElement[] } | undefined>();
  const read = (name: string) => {
    if (docs.has(name)) return docs.get(name);
    const lines = decodeLines(ctx.files.get(name)!.bytes);
    const doc = readXmlFile(ctx, name, lines);
    if (!doc) {
      docs.set(name, undefined);
      return undefined;
    }
    markUsed(ctx, name, lines.length);
    docs.set(name, doc);
    return doc;
  };

  const masters = new Map<string, Master>(); // '' (generic) or mac -> master
  const paramFiles: string[] = [];
  for (const name of names) {
    const base = baseName(name);
    if (/-phone\.cfg$/i.test(base) && normalizeMac(base.slice(0, -'-phone.cfg'.length))) {
      const doc = read(name);
      warn(ctx, 'IMPORT_PHONE_OVERRIDES', `${base} holds settings made on the phone (its overrides file): reported, not folded into the profiles; deskset serves uploads back from var/`, { file: name, line: 1, col: 1 });
      for (const el of doc?.elements ?? []) for (const a of el.attrs) drop(ctx, { file: name, line: a.line, col: a.col }, a.name, 'phone-made override (<mac>-phone.cfg), reported not imported');
      continue;
    }
    const doc = read(name);
    if (!doc) continue;
    const app = doc.elements.find((e) => e.name === 'APPLICATION');
    if (app) {
      const found = normalizeMac(base.replace(/\.cfg$/i, ''));
      const mac = found === '000000000000' ? undefined : found;
      masters.set(mac ?? '', master(ctx, name, doc.elements));
      if (!mac && !/^0{12}\.cfg$/i.test(base)) warn(ctx, 'IMPORT_MASTER_NAME', `${base} is a master config but not named 000000000000.cfg or <mac>.cfg; read as the default master config`, { file: name, line: app.line, col: 1 });
    } else paramFiles.push(name);
  }

  const fileParams = new Map<string, ParamFile | undefined>();
  const paramsOf = (name: string): ParamFile | undefined => {
    if (fileParams.has(name)) return fileParams.get(name);
    const doc = read(name);
    let pf: ParamFile | undefined;
    if (doc) {
      pf = { params: [] };
      const seen = new Map<string, number>();
      for (const el of doc.elements) {
        let comments = el.comments;
        for (const a of el.attrs) {
          if (/^xmlns(:|$)/.test(a.name) || /^xsi:/.test(a.name)) continue;
          const prev = seen.get(a.name);
          if (prev !== undefined) {
            // Duplicate parameter in one file: the phone keeps the first it reads.
            warn(ctx, 'IMPORT_DUPLICATE_KEY', `${a.name} is set again (first on line ${prev}); the first value is imported, as a Poly phone keeps the first`, { file: name, line: a.line, col: a.col });
            drop(ctx, { file: name, line: a.line, col: a.col }, a.name, `duplicate: line ${prev} sets it first`);
            continue;
          }
          seen.set(a.name, a.line);
          pf.params.push({ key: a.name, value: a.value, line: a.line, col: a.col, comments });
          comments = [];
        }
      }
      if (pf.params.length === 0) warn(ctx, 'IMPORT_EMPTY', 'no parameters in this file', { file: name, line: 1, col: 1 }, 'info');
    }
    fileParams.set(name, pf);
    return pf;
  };

  // Who loads what: devices from per-MAC masters or the admin's list, probes for the default master.
  const subjects: Subject[] = [];
  const loads = new Map<Subject, string[]>();
  const polyModels = ctx.catalog.vendor('polycom')?.models ?? [];
  const generic = masters.get('');
  const macs = new Set([...masters.keys()].filter((m) => m !== ''));
  for (const [mac, g] of ctx.givenModels) if (g.model.vendor === 'polycom') macs.add(mac);
  for (const mac of [...macs].sort()) {
    const m = masters.get(mac) ?? generic;
    const own = masters.get(mac);
    const named = own && own.perModel.size === 1 ? { name: [...own.perModel.keys()][0]!, from: `${own.file} (its only per-model section)` } : undefined;
    const { model, from } = modelFor(ctx, 'polycom', mac, named);
    const s = newSubject(mac, 'polycom', { mac, model, modelFrom: from });
    if (m) loads.set(s, filesFor(m, model, mac));
    if (m) firmwareOf(s, m, model, m === generic);
    if (!model) unknownModel(ctx, mac, own?.file);
    subjects.push(s);
  }
  if (generic) {
    // Phones without a master config of their own read the default one: probe it for each model
    // it treats differently, and once for every other model.
    const ownModels = new Set([...generic.perModel.keys(), ...generic.perModelApp.keys()]);
    for (const model of ownModels) {
      const s = newSubject(`${model} (probe)`, 'polycom', { model, modelFrom: `${generic.file} ${generic.perModel.has(model) ? 'CONFIG_FILES' : 'APP_FILE_PATH'}_${model}`, probe: true });
      loads.set(s, filesFor(generic, model, undefined));
      firmwareOf(s, generic, model, true);
      subjects.push(s);
    }
    const other = polyModels.find((m) => !ownModels.has(m.name));
    if (other) {
      const s = newSubject(`any ${other.name} (probe)`, 'polycom', { model: other.name, modelFrom: 'no per-model section', probe: true });
      loads.set(s, filesFor(generic, other.name, undefined));
      firmwareOf(s, generic, other.name, true);
      subjects.push(s);
    }
  }
  // Files named on the command line with no master config: the admin says every phone loads them.
  const loadedSomewhere = new Set([...loads.values()].flat());
  const orphans = paramFiles.filter((f) => !loadedSomewhere.has(f));
  const explicitOrphans = orphans.filter((f) => ctx.explicit.has(f));
  if (explicitOrphans.length && subjects.length === 0) {
    const other = polyModels[0]!;
    const s = newSubject(`any ${other.name} (probe)`, 'polycom', { model: other.name, modelFrom: 'files named on the command line', probe: true });
    loads.set(s, explicitOrphans);
    subjects.push(s);
    warn(ctx, 'IMPORT_NO_MASTER', `no master config: ${explicitOrphans.join(', ')} read as files every phone loads, in the order given`, { file: explicitOrphans[0]!, line: 1, col: 1 }, 'info');
  }
  for (const f of orphans) {
    if (explicitOrphans.includes(f) && subjects.some((s) => loads.get(s)?.includes(f))) continue;
    const pf = paramsOf(f);
    warn(ctx, 'IMPORT_NOT_LOADED', `${baseName(f)} is in no master config's CONFIG_FILES: no phone loads it, so it is not imported (name it on the command line to import it as loaded by every phone)`, { file: f, line: 1, col: 1 });
    for (const p of pf?.params ?? []) drop(ctx, { file: f, line: p.line, col: p.col }, p.key, 'no master config loads this file');
  }

  // Scope of a file: loaded by every subject -> global; by every subject of the models that load it -> model.
  const users = new Map<string, Subject[]>();
  for (const [s, files] of loads)
    for (const f of files) {
      const list = users.get(f);
      if (list) list.push(s);
      else users.set(f, [s]);
    }
  const scopeOf = (file: string): Scope => {
    const u = users.get(file) ?? [];
    if (u.length === subjects.length) return 'global';
    const ms = new Set(u.map((s) => s.model));
    if (![...ms].includes(undefined) && subjects.filter((s) => ms.has(s.model)).length === u.length) return 'model';
    return 'device';
  };
  for (const [s, files] of loads) {
    for (const f of files) {
      const pf = paramsOf(f);
      if (!pf) continue;
      // A probe stands for the phones of its model that read the default master: what only
      // they load is their model's.
      const fileScope = scopeOf(f);
      const scope = s.probe && fileScope === 'device' ? 'model' : fileScope;
      for (const p of pf.params) {
        if (s.params.has(p.key)) continue; // earlier files in CONFIG_FILES win
        s.params.set(p.key, param(p.key, p.value, { file: f, line: p.line, col: p.col }, scope, p.comments));
      }
    }
  }
  return subjects;

  function filesFor(m: Master, model: string | undefined, mac: string | undefined): string[] {
    const list = (model && m.perModel.get(model)) || m.configFiles;
    const out: string[] = [];
    for (const entry of list) {
      if (entry.includes('[PHONE_MAC_ADDRESS]') && !mac) continue;
      const ref = entry.replace(/\[PHONE_MAC_ADDRESS\]/g, mac ?? '');
      const hit = resolveRef(ctx, m.file, ref);
      if (!hit) {
        warn(ctx, 'IMPORT_CONFIG_FILE_MISSING', `CONFIG_FILES names ${ref}, which is not in the folder`, m.loc);
        continue;
      }
      if (!out.includes(hit)) out.push(hit);
    }
    return out;
  }
}

function master(ctx: ImportContext, file: string, elements: XmlElement[]): Master {
  const m: Master = { file, configFiles: [], perModel: new Map(), appFile: '', perModelApp: new Map(), appLoc: new Map(), loc: { file, line: 1, col: 1 } };
  const split = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const el of elements) {
    for (const a of el.attrs) {
      if (a.name === 'CONFIG_FILES') {
        m.configFiles = split(a.value);
        m.loc = { file, line: a.line, col: a.col };
      } else if (a.name === 'APP_FILE_PATH') {
        m.appFile = a.value.trim();
        m.appLoc.set('', { file, line: a.line, col: a.col });
      }
      else {
        const cm = /^(CONFIG_FILES|APP_FILE_PATH)_(\w+)$/.exec(a.name);
        if (!cm) continue;
        const model = ctx.catalog.find(cm[2]!);
        if (!model || model.vendor !== 'polycom') {
          if (a.value.trim() !== '') warn(ctx, 'IMPORT_UNKNOWN_MODEL', `${a.name}: ${cm[2]} is not a Poly model deskset knows; not imported`, { file, line: a.line, col: a.col });
          continue;
        }
        if (cm[1] === 'CONFIG_FILES' && a.value.trim() !== '') m.perModel.set(model.name, split(a.value));
        if (cm[1] === 'APP_FILE_PATH' && a.value.trim() !== '') {
          m.perModelApp.set(model.name, a.value.trim());
          m.appLoc.set(model.name, { file, line: a.line, col: a.col });
        }
      }
    }
  }
  return m;
}

function firmwareOf(s: Subject, m: Master, model: string | undefined, isDefault: boolean): void {
  const own = model ? m.perModelApp.get(model) : undefined;
  const app = own || m.appFile;
  // The default master's own APP_FILE_PATH is what every model without its own gets.
  if (app) s.firmware = { image: app, loc: m.appLoc.get(own ? model! : '') ?? m.loc, everyModel: !own && isDefault };
}

export type { Param };
