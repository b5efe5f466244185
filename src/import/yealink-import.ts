// Yealink folders: y0000000000NN.cfg is a model's common file (cfg_id map in the vendor
// manifest), <mac>.cfg a phone's own file, boot files list the cfg files in the order the
// phone applies them (later ones win). Without a boot file the phone reads the common file,
// then its own.

import { normalizeMac } from '../config/mac.js';
import type { ModelInfo } from '../vendors/manifest.js';
import { drop, markUsed, modelFor, newSubject, param, resolveRef, setLast, unknownModel, warn, type ImportContext } from './context.js';
import { decodeLines } from './text.js';
import type { Param, Scope, Subject } from './types.js';
import { parseYealink, type YealinkFile } from './yealink.js';

const COMMON = /^y(\d{12})\.cfg$/i;

export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

export function importYealink(ctx: ImportContext, names: string[]): Subject[] {
  const parsed = new Map<string, YealinkFile>();
  const parse = (name: string): YealinkFile => {
    let f = parsed.get(name);
    if (!f) {
      const lines = decodeLines(ctx.files.get(name)!.bytes);
      f = parseYealink(lines, name);
      parsed.set(name, f);
      ctx.out.findings.push(...f.findings);
      ctx.out.dropped.push(...f.dropped);
      markUsed(ctx, name, f.lineCount);
      if (!f.header && /\.cfg$/i.test(name)) warn(ctx, 'IMPORT_NO_VERSION_HEADER', 'no "#!version:1.0.0.1" on line 1: phones may refuse this file; imported anyway', { file: name, line: 1, col: 1 });
    }
    return f;
  };

  const yl = ctx.catalog.vendor('yealink');
  const byCfgId = new Map<string, ModelInfo>();
  for (const m of yl?.models ?? []) byCfgId.set(String(m.fields.cfg_id), m);

  const commons = new Map<string, string>(); // model -> file
  const devices = new Map<string, string>(); // mac -> file
  const boots = new Map<string, string>(); // mac or '' -> boot file
  const others: string[] = [];
  for (const name of names) {
    const base = baseName(name);
    const c = COMMON.exec(base);
    const mac = normalizeMac(base.replace(/\.(cfg|boot)$/i, ''));
    if (/\.boot$/i.test(base)) {
      if (mac && mac !== '000000000000') boots.set(mac, name);
      else if (/^y0{12}\.boot$/i.test(base)) boots.set('', name);
      else others.push(name);
    } else if (c && c[1] !== '000000000000') {
      const model = byCfgId.get(c[1]!);
      if (!model) {
        warn(ctx, 'IMPORT_UNKNOWN_CFG_ID', `${base}: no Yealink model in the catalog has cfg_id ${c[1]}; not imported`, { file: name, line: 1, col: 1 });
        countDropped(ctx, name, parse(name), `no catalog model has cfg_id ${c[1]}`);
      } else commons.set(model.name, name);
    } else if (mac) devices.set(mac, name);
    else others.push(name);
  }
  // y000000000000.cfg is the T28P's by cfg_id, which the catalog does not carry; other stray files
  // are only imported when a boot file includes them.
  const included = new Set<string>();
  const applied = new Set<string>();

  /** Apply a file and what it includes, in order, into `params`. */
  const apply = (name: string, scope: Scope, params: Map<string, Param>, mac: string, stack: string[]): void => {
    if (stack.includes(name)) {
      warn(ctx, 'IMPORT_INCLUDE_LOOP', `include loop: ${[...stack, name].join(' -> ')}`, { file: name, line: 1, col: 1 });
      return;
    }
    const f = parse(name);
    applied.add(name);
    for (const e of f.entries) setLast(params, param(e.key, e.value, { file: name, line: e.line, col: 1 }, scope, e.comments));
    for (const inc of f.includes) {
      const target = inc.target.replace(/\$mac/gi, mac || '$mac');
      const hit = resolveRef(ctx, name, target);
      if (!hit) {
        if (!/\$mac/i.test(target) || mac) warn(ctx, 'IMPORT_INCLUDE_MISSING', `include:config ${inc.target}: ${/^[a-z]+:\/\//i.test(target) ? 'a URL outside the folder is not followed' : 'not in the folder'}`, { file: name, line: inc.line, col: 1 });
        continue;
      }
      included.add(hit);
      const hb = baseName(hit);
      const s: Scope = COMMON.test(hb) ? 'model' : normalizeMac(hb.replace(/\.cfg$/i, '')) ? 'device' : 'global';
      apply(hit, s, params, mac, [...stack, name]);
    }
  };

  const subjects: Subject[] = [];
  const modelsWithDevice = new Set<string>();
  const allMacs = new Set<string>([...devices.keys(), ...boots.keys()].filter((m) => m !== ''));
  for (const [mac, g] of ctx.givenModels) if (g.model.vendor === 'yealink') allMacs.add(mac);
  for (const mac of [...allMacs].sort()) {
    const boot = boots.get(mac);
    // The model: the admin's word, else the common file the phone's own boot file includes,
    // else the folder's only common file (said in the report), else unknown.
    let named: { name: string; from: string } | undefined;
    if (boot) {
      for (const inc of parse(boot).includes) {
        const m = COMMON.exec(baseName(inc.target));
        const model = m && byCfgId.get(m[1]!);
        if (model) named = { name: model.name, from: `${boot}:${inc.line}` };
      }
    }
    if (!named && commons.size === 1) {
      const [[model, file]] = [...commons];
      named = { name: model!, from: `${file} (the folder's only common file)` };
    }
    const { model, from } = modelFor(ctx, 'yealink', mac, named);
    const s = newSubject(mac, 'yealink', { mac, model, modelFrom: from });
    const chain = boot ?? boots.get('');
    if (chain) apply(chain, 'global', s.params, mac, []);
    else {
      const common = model ? commons.get(model) : undefined;
      if (common) apply(common, 'model', s.params, mac, []);
      const own = devices.get(mac);
      if (own) apply(own, 'device', s.params, mac, []);
    }
    if (!model) unknownModel(ctx, mac, devices.get(mac) ?? boot);
    else modelsWithDevice.add(model);
    subjects.push(s);
  }
  // Common files no known phone reads: probes prove the model layer renders them back.
  for (const [model, file] of commons) {
    if (modelsWithDevice.has(model)) continue;
    const s = newSubject(`${model} (probe)`, 'yealink', { model, modelFrom: file, probe: true });
    apply(file, 'model', s.params, '', []);
    subjects.push(s);
  }
  // A phone's own file its boot file does not include is never read by the phone.
  for (const [mac, name] of devices) {
    if (applied.has(name)) continue;
    const boot = boots.get(mac) ?? boots.get('');
    warn(ctx, 'IMPORT_NOT_LOADED', `${baseName(name)}: the boot file ${boot ? baseName(boot) : ''} does not include it, so the phone never reads it; not imported`, { file: name, line: 1, col: 1 });
    countDropped(ctx, name, parse(name), `the phone's boot file does not include this file`);
  }
  for (const name of others) {
    if (included.has(name)) continue;
    const f = parse(name);
    warn(ctx, 'IMPORT_NOT_LOADED', `${baseName(name)} is neither a common file (y0000000000NN.cfg) nor a phone's <mac>.cfg, and no boot file includes it: no phone loads it, so it is not imported`, { file: name, line: 1, col: 1 });
    countDropped(ctx, name, f, 'no phone loads this file');
  }
  return subjects;
}

function countDropped(ctx: ImportContext, file: string, f: YealinkFile, reason: string): void {
  for (const e of f.entries) drop(ctx, { file, line: e.line, col: 1 }, e.key, reason);
}
