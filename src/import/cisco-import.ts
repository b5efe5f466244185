// Cisco folders. Enterprise firmware reads SEP<MAC>.cnf.xml (a nested <device> document): its
// <vendorConfig> children are cisco.params, the server, lines, NTP, language and phone password
// are vocabulary, and the rest of the structure, which the shipped SEP template writes its own
// way, is reported, not imported. MPP/SPA firmware reads <flat-profile> files: <mac>.xml (or
// spa<mac>.cfg) is the phone's own, $PSN.xml / spa$PSN.cfg its model's common profile, read
// first; each element is a parameter. XMLDefault.cnf.xml is what phones without a SEP file read:
// deskset writes its own from the profiles, so it is reported, and its loads name models.

import { normalizeMac } from '../config/mac.js';
import type { ModelInfo } from '../vendors/manifest.js';
import { drop, readXmlFile, warn, type ImportContext } from './context.js';
import { flatSubjects, type FlatEntry, type FlatFile, type FlatRole } from './flat-import.js';
import { decodeLines } from './text.js';
import type { Subject } from './types.js';
import { VENDOR_CONFIG } from './vocabulary.js';
import { xmlLeaves, type XmlDoc } from './xml-lite.js';
import { baseName } from './yealink-import.js';

/** Enterprise elements outside <vendorConfig> that the vocabulary may take (the rest has no place in the SEP template). */
const SEP_VOCABULARY = [
  /^fullConfig$/,
  /^deviceProtocol$/,
  /^loadInformation$/,
  /^devicePool\.callManagerGroup\.members\.member\.callManager\.(processNodeName|ports\.(sipPort|ethernetPhonePort|securedSipPort))$/,
  /^devicePool\.dateTimeSetting\.(dateTemplate|ntps\.ntp\.(name|ntpMode))$/,
  /^sipProfile\.(sipProxies\.(outboundProxy|registerWithProxy)|sipStack\.timerRegisterExpires|transportLayerProtocol|voipControlPort|dialTemplate|softKeyFile)$/,
  /^sipProfile\.sipLines\.line\[\d+\]\.(featureID|featureLabel|proxy|port|name|displayName|authName|authPassword|contact|sharedLine)$/,
  /^commonProfile\.(phonePassword|backgroundImageAccess|callLogBlfEnabled)$/,
  /^userLocale\.(name|langCode|winCharSet)$/,
];

export function importCisco(ctx: ImportContext, names: string[]): Subject[] {
  const models = ctx.catalog.vendor('cisco')?.models ?? [];
  const docs = new Map<string, { doc: XmlDoc; lines: number }>();
  for (const name of names) {
    const lines = decodeLines(ctx.files.get(name)!.bytes);
    const doc = readXmlFile(ctx, name, lines);
    if (doc) docs.set(name, { doc, lines: lines.length });
  }
  // XMLDefault's loadInformation<type model="Cisco 7961">: load name -> model, for SEP files that name a load.
  const byLoad = new Map<string, ModelInfo>();
  for (const [name, { doc }] of docs) {
    if (doc.elements[0]!.name !== 'Default') continue;
    for (const el of doc.elements) {
      const model = /^loadInformation\d*$/.test(el.name) ? ctx.catalog.find((el.attrs.find((a) => a.name === 'model')?.value ?? '').replace(/^Cisco\s+/i, '')) : undefined;
      if (model?.vendor === 'cisco' && el.text.trim()) byLoad.set(el.text.trim().toLowerCase(), model);
    }
    const why = 'XMLDefault.cnf.xml is what phones without a SEP file read; deskset writes its own from the profiles (server, firmware loads)';
    warn(ctx, 'IMPORT_NOT_LOADED', `${why}: its elements are reported, not imported (its loads name the models of SEP files that use them)`, { file: name, line: 1, col: 1 }, 'info');
    for (const { path, el } of xmlLeaves(doc)) drop(ctx, { file: name, line: el.line, col: 1 }, path.join('.'), why);
  }

  const files: FlatFile[] = [];
  for (const [name, { doc, lines }] of docs) {
    const root = doc.elements[0]!.name;
    if (root === 'Default') continue;
    const base = baseName(name);
    if (root === 'device') {
      const mac = /^SEP([0-9A-F]{12})\.cnf\.xml$/i.exec(base)?.[1];
      const entries = enterpriseEntries(ctx, name, doc);
      const load = entries.find((e) => e.key === 'loadInformation')?.value.trim();
      const role: FlatRole = mac
        ? { kind: 'device', mac: normalizeMac(mac)!, model: load ? modelOfLoad(load, byLoad, models) : undefined, compare: 'sep' }
        : { kind: 'orphan', why: 'enterprise phones read SEP<MAC>.cnf.xml only' };
      files.push({ name, role, entries, lines });
    } else if (root === 'flat-profile') {
      files.push({ name, role: flatRole(base, models), entries: flatEntries(ctx, name, doc), lines });
    } else {
      const why = `the root is <${root}>: not a Cisco config deskset imports (SEP<MAC>.cnf.xml <device>, <flat-profile>)`;
      warn(ctx, 'IMPORT_SKIPPED', `skipped: ${why}`, { file: name, line: 1, col: 1 });
      drop(ctx, { file: name, line: 1, col: 1 }, '(whole file)', why);
    }
  }
  return flatSubjects(ctx, 'cisco', files);
}

/** A load's model: the one XMLDefault names for it, else the only model whose load prefix it has. */
function modelOfLoad(load: string, byLoad: Map<string, ModelInfo>, models: readonly ModelInfo[]): { name: string; from: string } | undefined {
  const named = byLoad.get(load.toLowerCase());
  if (named) return { name: named.name, from: `XMLDefault.cnf.xml (load ${load})` };
  const prefix = load.split('.')[0]!.toLowerCase();
  const hits = models.filter((m) => m.fields.family === 'enterprise' && String(m.fields.load).toLowerCase() === prefix);
  return hits.length === 1 ? { name: hits[0]!.name, from: `its load ${load}` } : undefined;
}

function flatRole(base: string, models: readonly ModelInfo[]): FlatRole {
  const stem = base.replace(/\.(xml|cfg)$/i, '');
  const mac = normalizeMac(stem.replace(/^spa/i, ''));
  if (mac && mac !== '000000000000') return { kind: 'device', mac, compare: 'profile' };
  const psn = stem.replace(/^spa/i, '').toLowerCase();
  const model = models.find((m) => m.fields.family !== 'enterprise' && String(m.fields.psn).toLowerCase() === psn);
  if (model) return { kind: 'model', model: model.name };
  return { kind: 'orphan', why: 'neither a phone\'s <mac>.xml / spa<mac>.cfg nor a model\'s $PSN.xml / spa$PSN.cfg: no profile rule names it' };
}

/** <flat-profile> children: element name -> text. `ua` (user access) attributes are reported: deskset writes none. */
function flatEntries(ctx: ImportContext, name: string, doc: XmlDoc): FlatEntry[] {
  const out: FlatEntry[] = [];
  for (const el of doc.elements) {
    if (el.depth !== 1) continue;
    const at = { file: name, line: el.line, col: 1 };
    if (el.parent) {
      drop(ctx, at, el.name, 'holds elements; a flat-profile parameter holds text only');
      continue;
    }
    for (const a of el.attrs) drop(ctx, { file: name, line: a.line, col: a.col }, `${el.name}@${a.name}`, `the ${a.name} attribute is not imported: deskset writes parameters without attributes (the phone's default access applies)`);
    out.push({ key: el.name, value: el.text, line: el.line, col: 1, comments: el.comments });
  }
  return out;
}

/** SEP leaves by dotted path (line[n] by its button); the ones the template cannot write are reported. */
function enterpriseEntries(ctx: ImportContext, name: string, doc: XmlDoc): FlatEntry[] {
  const out: FlatEntry[] = [];
  let reported = 0;
  for (const { path, el } of xmlLeaves(doc, 'button')) {
    const key = path.join('.');
    const at = { file: name, line: el.line, col: 1 };
    if ((key.startsWith(VENDOR_CONFIG) && path.length === 2) || SEP_VOCABULARY.some((r) => r.test(key))) {
      out.push({ key, value: el.text.trim(), line: el.line, col: 1, comments: el.comments });
      continue;
    }
    drop(ctx, at, key, 'the SEP template writes the device structure itself and has no place for this element (put it in cisco.params only if it belongs in <vendorConfig>)');
    reported++;
  }
  if (reported) warn(ctx, 'IMPORT_SEP_STRUCTURE', `${reported} element(s) outside <vendorConfig> are not imported: the shipped SEP template writes the server, lines, NTP, language and password from the profiles, and nothing else outside <vendorConfig> (each is listed as not imported)`, { file: name, line: 1, col: 1 });
  return out;
}
