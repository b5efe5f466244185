// `deskset import`, the pure part: input files in, profile files and a report out. The CLI
// (src/cli/import.ts) reads the folder, calls planImport, then verifyRoundTrip, then writes.

import type { Diagnostic } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import type { ModelCatalog } from '../vendors/manifest.js';
import { importAvaya } from './avaya-import.js';
import { classify } from './classify.js';
import { drop, makeContext, type ImportContext } from './context.js';
import { buildLayers, type Layers, type SubjectLeaves } from './layers.js';
import { importPolycom } from './polycom-import.js';
import { emptyFolder, type CopiedFile, type Dropped, type InputFile, type Subject, type Vendor } from './types.js';
import { toLeaves } from './vocabulary.js';
import { envExample, externalizeSecrets, profileYaml, type SecretRef } from './write.js';
import { importYealink } from './yealink-import.js';

export { verifyRoundTrip, type SubjectResult, type VerifyResult } from './verify.js';
export type { InputFile, Subject, Vendor } from './types.js';

export interface ImportOptions {
  files: InputFile[];
  /** Names of files given one by one on the command line (not found in a folder). */
  explicit?: Set<string>;
  catalog: ModelCatalog;
  /** MAC -> model name, and where the admin said it ("--model", "models.csv:3"). */
  models?: Array<{ mac: string; model: string; from: string }>;
  vendor?: Vendor;
  minShare?: number;
  minGroup?: number;
  inlineSecrets?: boolean;
}

export interface ImportPlan {
  /** Root-relative path -> text (profiles, .env.example). */
  files: Map<string, string>;
  /** Root-relative path -> bytes copied as-is (resources, firmware). */
  copies: CopiedFile[];
  subjects: Subject[];
  layers: Layers;
  secrets: SecretRef[];
  findings: Diagnostic[];
  dropped: Dropped[];
  vendors: Vendor[];
  /** Input files read and understood (the others are named in `findings`). */
  read: string[];
  linesIn: number;
  linesOut: number;
}

export function planImport(opts: ImportOptions): ImportPlan {
  const out = emptyFolder();
  const given: ImportContext['givenModels'] = new Map();
  for (const g of opts.models ?? []) {
    const mac = normalizeMac(g.mac);
    const model = opts.catalog.find(g.model);
    if (!mac) out.findings.push({ code: 'IMPORT_BAD_MAC', severity: 'error', message: `${g.from}: "${g.mac}" is not a MAC address` });
    else if (!model) out.findings.push({ code: 'IMPORT_UNKNOWN_MODEL', severity: 'error', message: `${g.from}: "${g.model}" is not a model deskset knows` });
    else given.set(mac, { model, from: g.from });
  }
  const ctx = makeContext(opts.files, opts.catalog, given, opts.explicit ?? new Set(), out);

  const byVendor = new Map<Vendor, string[]>();
  for (const f of opts.files) {
    const k = classify(f, opts.vendor);
    if (k.vendor) byVendor.set(k.vendor, [...(byVendor.get(k.vendor) ?? []), f.name]);
    else {
      out.findings.push({ code: 'IMPORT_SKIPPED', severity: 'warning', message: `skipped: ${k.why}`, loc: { file: f.name, line: 1, col: 1 } });
      drop(ctx, { file: f.name, line: 1, col: 1 }, '(whole file)', k.why);
    }
  }
  const subjects: Subject[] = [];
  if (byVendor.has('avaya')) subjects.push(...importAvaya(ctx, byVendor.get('avaya')!));
  if (byVendor.has('polycom')) subjects.push(...importPolycom(ctx, byVendor.get('polycom')!));
  if (byVendor.has('yealink')) subjects.push(...importYealink(ctx, byVendor.get('yealink')!));
  const vendors = [...new Set(subjects.map((s) => s.vendor))].sort();

  // Parameters the renderer cannot write back exactly are dropped, each with its reason.
  const unwritable = new Set<string>();
  for (const s of subjects)
    for (const [k, p] of [...s.params]) {
      const why = cannotWrite(s.vendor, k, p.value);
      if (!why) continue;
      s.params.delete(k);
      const at = `${p.loc.file}:${p.loc.line}`;
      if (!unwritable.has(at)) {
        unwritable.add(at);
        drop(ctx, p.loc, k, why);
        out.findings.push({ code: 'IMPORT_DROPPED', severity: 'warning', message: `${k}: ${why}; not imported`, loc: p.loc });
      }
    }

  // Firmware the scripts name: copied with a release.yaml when the image is in the folder.
  const firmwareHeads = new Map<string, Record<string, unknown>>();
  for (const [model, fw] of out.firmware) {
    const hit = [...ctx.files.keys()].find((n) => n.slice(n.lastIndexOf('/') + 1) === fw.image.slice(fw.image.lastIndexOf('/') + 1));
    if (!hit) {
      out.findings.push({ code: 'IMPORT_FIRMWARE_MISSING', severity: 'warning', message: `${model}: firmware ${fw.image} is not in the folder; no firmware policy written (copy the image to firmware/avaya/<version>/ and pin it)`, loc: fw.loc });
      drop(ctx, fw.loc, 'APPNAME', `image ${fw.image} is not in the folder`);
      continue;
    }
    const version = /_R(\d+(?:_\d+)+)/.exec(fw.image)?.[1]?.replace(/_/g, '.') ?? fw.image.replace(/\.[^.]+$/, '');
    const dir = `firmware/avaya/${version}`;
    out.copies.push({ path: `${dir}/${fw.image}`, bytes: ctx.files.get(hit)!.bytes });
    // Not "skipped" after all: the image is the firmware the script names.
    out.findings = out.findings.filter((f) => !(f.code === 'IMPORT_SKIPPED' && f.loc?.file === hit));
    out.dropped = out.dropped.filter((d) => d.loc.file !== hit);
    out.used.set(hit, 0);
    out.copies.push({ path: `${dir}/release.yaml`, bytes: new TextEncoder().encode(`models:\n  ${model}: ${JSON.stringify(fw.image)}\n`) });
    firmwareHeads.set(model, { policy: 'pinned', version });
  }
  for (const s of subjects) if (s.firmware && s.vendor === 'polycom') {
    out.findings.push({ code: 'IMPORT_FIRMWARE_NOT_IMPORTED', severity: 'warning', message: `APP_FILE_PATH ${s.firmware.image}: Poly firmware paths are not imported yet; put the image under firmware/polycom/<version>/ and set a firmware policy`, loc: s.firmware.loc });
    s.firmware = undefined;
  }

  // Vocabulary only when one vendor is imported: a shared key in the global layer would also
  // change what the other vendors' phones get.
  const vocabulary = vendors.length <= 1;
  if (!vocabulary) out.findings.push({ code: 'IMPORT_VENDOR_MAPS_ONLY', severity: 'info', message: `several vendors (${vendors.join(', ')}): parameters are written to the vendor maps, not the shared vocabulary` });
  const leaves: SubjectLeaves[] = subjects.map((subject) => ({
    subject,
    leaves: new Map(toLeaves(subject.vendor, subject.params, vocabulary).map((l) => [l.path.join('\u0000'), l])),
  }));
  const layers = buildLayers(leaves, { minShare: opts.minShare ?? 0.8, minGroup: opts.minGroup ?? 5 });
  const secrets = opts.inlineSecrets ? [] : externalizeSecrets(layers);

  const files = new Map<string, string>();
  files.set('profiles/global.yaml', profileYaml({ description: `Imported by deskset import (${vendors.join(', ') || 'no vendor files'})` }, layers.global));
  const models = new Set([...layers.models.keys(), ...firmwareHeads.keys()]);
  for (const m of models) files.set(`profiles/models/${m}.yaml`, profileYaml({ description: `${m}: imported`, firmware: firmwareHeads.get(m) }, layers.models.get(m) ?? new Map()));
  for (const [g, x] of layers.groups) files.set(`profiles/groups/${g}.yaml`, profileYaml({ description: x.description }, x.doc));
  for (const [, d] of layers.devices) {
    const s = d.subject;
    const note = s.model ? undefined : `${s.vendor} phone: no input file says its model. Add "model: <MODEL>" (check reports it until then).`;
    files.set(`profiles/devices/${s.mac}.yaml`, profileYaml({ model: s.model, groups: d.groups, note, description: s.model ? undefined : `${s.vendor} phone, model unknown` }, d.doc));
  }
  if (secrets.length) files.set('.env.example', envExample(secrets));

  let linesIn = 0;
  for (const n of out.used.values()) linesIn += n;
  let linesOut = 0;
  for (const [p, t] of files) if (p.startsWith('profiles/')) linesOut += t.split('\n').length - 1;
  return { files, copies: out.copies, subjects, layers, secrets, findings: out.findings, dropped: out.dropped, vendors, read: [...out.used.keys()], linesIn, linesOut };
}

/** Why the shipped templates could not write this parameter back as it is, if they could not. */
function cannotWrite(vendor: Vendor, key: string, value: string): string | undefined {
  if (/[\r\n\u0000]/.test(value)) return 'the value holds a line break or NUL';
  if (value.startsWith('$${')) return 'a value starting with "$${" cannot be written: profiles read it as an escaped secret reference';
  if (vendor === 'avaya') {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) return 'not a valid Avaya parameter name';
    if (value.includes('"')) return 'Avaya values cannot carry a double quote';
  } else if (vendor === 'polycom') {
    if (/[\u0001-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(value)) return 'the value holds a control character XML cannot carry';
  } else if (!/^[A-Za-z0-9_][A-Za-z0-9_.%-]*$/.test(key)) return 'not a key Yealink files can carry';
  return undefined;
}
