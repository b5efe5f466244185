// The guarantee: build the imported root with the same core `render` uses, render every
// subject's files, read the effective settings back out of the rendered bytes the way the
// phone would, and compare with what the input gave that phone. Probes (stand-ins for "a
// phone of this model/group") get a temporary device file in the in-memory root only.

import { parseAvayaScript } from '../vendors/avaya/script/index.js';
import { renderTarget } from '../render/render.js';
import { deviceTargets } from '../pipeline/request.js';
import { buildSnapshot, type FileMap } from '../snapshot/snapshot.js';
import type { Diagnostic } from '../check/diagnostics.js';
import { parseYealink } from './yealink.js';
import { snomParamKey } from './snom-import.js';
import { VENDOR_CONFIG } from './vocabulary.js';
import { readXml, xmlLeaves } from './xml-lite.js';
import type { Subject } from './types.js';
import { isSecretPath } from './layers.js';

export interface SubjectResult {
  subject: Subject;
  status: 'equal' | 'differs' | 'unchecked';
  /** The first differences, or why it was not checked. */
  notes: string[];
  /** How many parameters were compared. */
  compared: number;
}

export interface VerifyInput {
  root: Map<string, string>;
  shipped: FileMap;
  version: string;
  subjects: Subject[];
  /** Values of the ${env:…} references the import wrote. */
  env: Map<string, string>;
  firmwareFiles?: string[];
  resources?: Set<string>;
}

export interface VerifyResult {
  results: SubjectResult[];
  /** Problems the core found loading the imported root (errors mean `check` fails). */
  diagnostics: Diagnostic[];
}

export function verifyRoundTrip(inp: VerifyInput): VerifyResult {
  const root = new Map(inp.root);
  const probeMac = new Map<Subject, string>();
  const used = new Set(inp.subjects.map((s) => s.mac).filter((m): m is string => !!m));
  let n = 0;
  for (const s of inp.subjects) {
    if (!s.probe || !s.model) continue;
    let mac: string;
    do mac = `fe00000${(++n).toString(16).padStart(5, '0')}`;
    while (used.has(mac));
    probeMac.set(s, mac);
    const groups = s.groups.length ? `groups: [${s.groups.join(', ')}]\n` : '';
    root.set(`profiles/devices/${mac}.yaml`, `model: ${s.model}\n${groups}`);
  }
  const snap = buildSnapshot({
    root,
    shipped: inp.shipped,
    version: inp.version,
    firmwareFiles: inp.firmwareFiles,
    resources: inp.resources,
    secretRefs: { env: (name) => inp.env.get(name) ?? process.env[name], readFile: () => undefined },
  });
  const diagnostics = snap.diagnostics.filter((d) => !(d.loc?.file ?? '').match(/profiles\/devices\/fe00000/));
  const results: SubjectResult[] = [];
  for (const s of inp.subjects) {
    const mac = s.mac ?? probeMac.get(s);
    if (!s.model || !mac) {
      results.push({ subject: s, status: 'unchecked', notes: ['model unknown: nothing to render until the device file names its model'], compared: 0 });
      continue;
    }
    const device = snap.profiles.devices.get(mac);
    if (!device) {
      results.push({ subject: s, status: 'differs', notes: ['the imported root does not load this device (see the errors above)'], compared: 0 });
      continue;
    }
    const texts: Array<{ id: string; text: string }> = [];
    const notes: string[] = [];
    // Phones that read their model's file first (Yealink y0000000000NN.cfg, Snom snom<model>.htm,
    // Cisco MPP $PSN.xml / SPA spa$PSN.cfg), then their own: the model's file is read back too.
    const first = modelFileOf(s, String(device.model.fields.family ?? ''));
    const common = first ? snap.vendors.find((v) => v.vendor === s.vendor)?.files.find((f) => f.id === first) : undefined;
    if (common) {
      const r = renderTarget(snap.render, { file: common, model: device.model, path: 'common', subject: { known: false, vendor: s.vendor, model: device.model, groups: [] } });
      if (r.rendered) texts.push({ id: 'common', text: r.rendered.text });
      for (const d of r.diagnostics) if (d.severity === 'error') notes.push(`render: ${d.message}`);
    }
    for (const t of deviceTargets(snap, [mac])) {
      const r = renderTarget(snap.render, t);
      if (r.rendered) texts.push({ id: t.file.id, text: r.rendered.text });
      for (const d of r.diagnostics) if (d.severity === 'error') notes.push(`render ${t.path}: ${d.message}`);
    }
    const actual = effectiveOf(s.vendor, texts, s.compare);
    const expected = new Map([...s.params].map(([k, p]) => [k, p.value]));
    // The SEP template writes a whole device structure: only what the input had, and <vendorConfig>, is compared.
    const diffs = compare(s.vendor, expected, actual, s.compare === 'sep' ? (k) => k.startsWith(VENDOR_CONFIG) : s.vendor === 'cisco' ? (k) => !CISCO_COMMON_OWN.has(k) : undefined);
    notes.push(...diffs.slice(0, 5));
    if (diffs.length > 5) notes.push(`… and ${diffs.length - 5} more`);
    results.push({ subject: s, status: notes.length ? 'differs' : 'equal', notes, compared: expected.size });
  }
  return { results, diagnostics };
}

/** What the phone ends up with after reading these rendered files in order. */
export function effectiveOf(vendor: Subject['vendor'], texts: Array<{ id: string; text: string }>, file?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { id, text } of texts) {
    if (vendor === 'cisco' || vendor === 'grandstream' || vendor === 'snom') {
      if (id === 'common' || id === (file ?? (vendor === 'cisco' ? 'profile' : 'device'))) for (const [k, v] of xmlParams(vendor, id, text)) out.set(k, v);
    } else if (vendor === 'yealink') {
      for (const e of parseYealink(text.split(/\r?\n/), id).entries) out.set(e.key, e.value);
    } else if (vendor === 'polycom') {
      if (id !== 'settings') continue;
      const doc = readXml(text);
      // The first value a phone reads wins.
      for (const el of doc.elements) for (const a of el.attrs) if (!out.has(a.name)) out.set(a.name, a.value);
    } else {
      if (id !== 'settings') continue;
      for (const st of parseAvayaScript(text).statements) if (st.kind === 'set' && st.keyword === 'SET') out.set(st.name, st.value);
    }
  }
  return out;
}

/** What the Cisco common profile always sets so that the phone goes on to its own file: not the input's. */
const CISCO_COMMON_OWN = new Set(['Provision_Enable', 'Resync_On_Reset', 'Profile_Rule_B']);

/** The id of the model file a subject's phone reads before its own, if its vendor has one. */
function modelFileOf(s: Subject, family: string): string | undefined {
  if (s.vendor === 'yealink') return 'common';
  if (s.vendor === 'snom') return 'model';
  if (s.vendor === 'cisco' && s.compare !== 'sep') return family === 'spa' ? 'spa-common' : family === 'mpp' ? 'common' : undefined;
  return undefined;
}

/** Parameters of a rendered Cisco, Grandstream or Snom file, keyed as the importers key the input (a later one wins, as on the phone). */
function xmlParams(vendor: Subject['vendor'], id: string, text: string): Array<[string, string]> {
  const doc = readXml(text);
  if (vendor === 'cisco' && id === 'sep') return xmlLeaves(doc, 'button').map(({ path, el }) => [path.join('.'), el.text.trim()]);
  if (vendor === 'cisco') return xmlLeaves(doc).filter(({ path }) => path.length === 1).map(({ path, el }) => [path[0]!, el.text]);
  if (vendor === 'grandstream') return xmlLeaves(doc).filter(({ path }) => path.length === 2 && path[0] === 'config').map(({ path, el }) => [path[1]!, el.text]);
  const attr = (el: (typeof doc.elements)[number], n: string) => el.attrs.find((a) => a.name === n)?.value;
  return xmlLeaves(doc).filter(({ path }) => path.length === 2 && path[0] === 'phone-settings').map(({ el }) => [snomParamKey(el.name, attr(el, 'idx'), attr(el, 'perm')), el.text]);
}

function compare(vendor: Subject['vendor'], expected: Map<string, string>, actual: Map<string, string>, added: (key: string) => boolean = () => true): string[] {
  const out: string[] = [];
  // Secrets never reach the report, not even when they differ.
  const show = (k: string, v: string | undefined) => (isSecretPath([k], vendor) && v ? '"••••"' : JSON.stringify(v));
  for (const [k, v] of expected) {
    if (!actual.has(k)) out.push(`${k}: missing (input: ${show(k, v)})`);
    else if (actual.get(k) !== v) out.push(`${k}: ${show(k, actual.get(k))} (input: ${show(k, v)})`);
  }
  for (const [k, v] of actual) if (!expected.has(k) && added(k)) out.push(`${k}: ${show(k, v)} added (not in the input)`);
  return out;
}
