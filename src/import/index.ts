// `deskset import`, the pure part: input files in, profile files and a report out. The CLI
// (src/cli/import.ts) reads the folder, calls planImport, then verifyRoundTrip, then writes.

import type { Diagnostic } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import type { ModelCatalog } from '../vendors/manifest.js';
import { parseSnomKey } from '../vendors/snom/escape.js';
import { importAvaya } from './avaya-import.js';
import { importCisco } from './cisco-import.js';
import { classify } from './classify.js';
import { drop, makeContext, type ImportContext } from './context.js';
import { asAddition, isExistingRoot } from './add-to-root.js';
import { planFirmware, type FirmwareRef } from './firmware.js';
import { importGrandstream } from './grandstream-import.js';
import { buildLayers, type Layers, type SubjectLeaves } from './layers.js';
import { importPolycom } from './polycom-import.js';
import { importSnom } from './snom-import.js';
import { emptyFolder, type CopiedFile, type Dropped, type InputFile, type Subject, type Vendor } from './types.js';
import { toLeaves, VENDOR_CONFIG } from './vocabulary.js';
import { envExample, externalizeSecrets, profileYaml, type SecretRef } from './write.js';
import { importYealink } from './yealink-import.js';

export { verifyRoundTrip, type SubjectResult, type VerifyResult } from './verify.js';
export { VENDORS, type InputFile, type Subject, type Vendor } from './types.js';

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
  /** Text of the files ROOT already holds (profiles/, .env.example), by root-relative path: the import adds to it. */
  existing?: Map<string, string>;
  /** Leave devices whose file ROOT already has as they are (instead of refusing the import). */
  skipExisting?: boolean;
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
  /** Files the import would write that ROOT already has (device files by MAC): nothing is written while there are any. */
  conflicts: string[];
  /** Devices left as ROOT has them (--skip-existing), by their existing file. */
  kept: string[];
  /** True when ROOT already had profiles and the import adds to it. */
  adding: boolean;
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
  if (byVendor.has('cisco')) subjects.push(...importCisco(ctx, byVendor.get('cisco')!));
  if (byVendor.has('grandstream')) subjects.push(...importGrandstream(ctx, byVendor.get('grandstream')!));
  if (byVendor.has('snom')) subjects.push(...importSnom(ctx, byVendor.get('snom')!));
  const vendors = [...new Set(subjects.map((s) => s.vendor))].sort();

  // Parameters the renderer cannot write back exactly are dropped, each with its reason.
  const unwritable = new Set<string>();
  for (const s of subjects)
    for (const [k, p] of [...s.params]) {
      const why = cannotWrite(s.vendor, k, p.value, s.compare === 'sep');
      if (!why) continue;
      s.params.delete(k);
      const at = `${p.loc.file}:${p.loc.line}`;
      if (!unwritable.has(at)) {
        unwritable.add(at);
        drop(ctx, p.loc, k, why);
        out.findings.push({ code: 'IMPORT_DROPPED', severity: 'warning', message: `${k}: ${why}; not imported`, loc: p.loc });
      }
    }

  // Firmware the input names: a pinned policy per model, the image copied when it is in the folder.
  const refs: FirmwareRef[] = [...out.firmware].map(([model, fw]) => ({ vendor: 'avaya', model, image: fw.image, loc: fw.loc }));
  for (const s of subjects) if (s.firmware && s.model && s.vendor === 'polycom') refs.push({ vendor: 'polycom', model: s.firmware.everyModel ? '' : s.model, image: s.firmware.image, loc: s.firmware.loc });
  const firmwareHeads = planFirmware(ctx, refs);

  // Vocabulary only when one vendor is imported: a shared key in the global layer would also
  // change what the other vendors' phones get.
  const vocabulary = vendors.length <= 1;
  if (!vocabulary) out.findings.push({ code: 'IMPORT_VENDOR_MAPS_ONLY', severity: 'info', message: `several vendors (${vendors.join(', ')}): parameters are written to the vendor maps, not the shared vocabulary` });
  const leaves: SubjectLeaves[] = subjects.map((subject) => {
    const vc = { data: opts.catalog.vendor(subject.vendor)?.data, fields: subject.model ? opts.catalog.find(subject.model)?.fields : undefined, enterprise: subject.compare === 'sep' };
    const all = toLeaves(subject.vendor, subject.params, vocabulary, vc);
    return { subject, leaves: new Map(placeable(ctx, subject, all, vocabulary).map((l) => [l.path.join('\u0000'), l])) };
  });
  const layers = buildLayers(leaves, { minShare: opts.minShare ?? 0.8, minGroup: opts.minGroup ?? 5 });
  const existing = opts.existing ?? new Map<string, string>();
  const adding = isExistingRoot(existing);
  const groupHeads = adding ? asAddition(layers, subjects, existing, vendors, firmwareHeads) : new Map<string, Record<string, unknown> | undefined>();

  // Devices ROOT already has a file for (any spelling of the MAC): conflicts, or left alone.
  const existingDevices = new Map<string, string>();
  for (const p of existing.keys()) {
    const m = /^profiles\/devices\/([^/]+)\.yaml$/.exec(p);
    const mac = m ? normalizeMac(m[1]!) : undefined;
    if (mac) existingDevices.set(mac, p);
  }
  const conflicts: string[] = [];
  const kept: string[] = [];
  for (const [id, d] of [...layers.devices]) {
    const there = d.subject.mac ? existingDevices.get(d.subject.mac) : undefined;
    if (!there) continue;
    if (opts.skipExisting) {
      kept.push(there);
      layers.devices.delete(id);
      subjects.splice(subjects.indexOf(d.subject), 1);
    } else conflicts.push(there);
  }
  const taken = new Set<string>();
  for (const t of existing.values()) for (const m of t.matchAll(/\$\{env:([A-Za-z0-9_]+)\}|^([A-Za-z0-9_]+)=/gm)) taken.add(m[1] ?? m[2]!);
  const secrets = opts.inlineSecrets ? [] : externalizeSecrets(layers, taken);

  const files = new Map<string, string>();
  if (!adding) {
    files.set('profiles/global.yaml', profileYaml({ description: `Imported by deskset import (${vendors.join(', ') || 'no vendor files'})`, firmware: firmwareHeads.get('') }, layers.global));
    const models = new Set([...layers.models.keys(), ...[...firmwareHeads.keys()].filter((m) => m !== '')]);
    for (const m of models) files.set(`profiles/models/${m}.yaml`, profileYaml({ description: `${m}: imported`, firmware: firmwareHeads.get(m) }, layers.models.get(m) ?? new Map()));
  }
  for (const [g, x] of layers.groups) files.set(`profiles/groups/${g}.yaml`, profileYaml({ description: x.description, firmware: groupHeads.get(g) }, x.doc));
  for (const [, d] of layers.devices) {
    const s = d.subject;
    const note = s.model ? undefined : `${s.vendor} phone: no input file says its model. Add "model: <MODEL>" (check reports it until then).`;
    files.set(`profiles/devices/${s.mac}.yaml`, profileYaml({ model: s.model, groups: d.groups, note, description: s.model ? undefined : `${s.vendor} phone, model unknown` }, d.doc));
  }
  // Appended to the root's own list of names, which keeps its lines.
  if (secrets.length) files.set('.env.example', `${existing.get('.env.example')?.replace(/\n?$/, '\n') ?? ''}${envExample(secrets)}`);
  for (const p of files.keys()) if (p !== '.env.example' && existing.has(p) && !conflicts.includes(p)) conflicts.push(p);

  let linesIn = 0;
  for (const n of out.used.values()) linesIn += n;
  let linesOut = 0;
  for (const [p, t] of files) if (p.startsWith('profiles/')) linesOut += t.split('\n').length - 1;
  return { files, copies: out.copies, subjects, layers, secrets, findings: out.findings, dropped: out.dropped, vendors, read: [...out.used.keys()], linesIn, linesOut, conflicts, kept, adding };
}

/**
 * Cisco SEP structure the vocabulary did not take (a line whose proxy is not USECALLMANAGER, a
 * server when several vendors are imported) has no place in the SEP template: reported and
 * taken out of what the round trip compares.
 */
function placeable(ctx: ReturnType<typeof makeContext>, s: Subject, leaves: ReturnType<typeof toLeaves>, vocabulary: boolean): ReturnType<typeof toLeaves> {
  if (s.vendor !== 'cisco') return leaves;
  return leaves.filter((l) => {
    const key = l.sources[0]?.key ?? '';
    if (s.compare !== 'sep' || l.path[0] !== 'cisco' || key.startsWith(VENDOR_CONFIG)) return true;
    for (const p of l.sources) {
      s.params.delete(p.key);
      drop(ctx, p.loc, p.key, vocabulary ? 'the SEP template writes this element from the shared settings only, and this value does not fit them' : 'several vendors are imported, so the shared settings (the only place the SEP template reads this from) are not used');
    }
    return false;
  });
}

/** Why the shipped templates could not write this parameter back as it is, if they could not. */
function cannotWrite(vendor: Vendor, key: string, value: string, enterprise = false): string | undefined {
  if (/[\r\n\u0000]/.test(value)) return 'the value holds a line break or NUL';
  if (value.startsWith('$${')) return 'a value starting with "$${" cannot be written: profiles read it as an escaped secret reference';
  if (vendor === 'avaya') {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) return 'not a valid Avaya parameter name';
    if (value.includes('"')) return 'Avaya values cannot carry a double quote';
  } else if (vendor === 'polycom') {
    if (/[\u0001-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(value)) return 'the value holds a control character XML cannot carry';
  } else if (vendor === 'grandstream') {
    if (!/^P\d{1,6}$/.test(key)) return 'not a Grandstream P-value name';
  } else if (vendor === 'snom') {
    if (!parseSnomKey(key)) return 'not a Snom setting deskset can write (name, idx or perm)';
  } else if (vendor === 'cisco') {
    // A flat-profile parameter or a <vendorConfig> child is written as an element of that name; other SEP paths go through the vocabulary.
    const name = !enterprise ? key : key.startsWith(VENDOR_CONFIG) ? key.slice(VENDOR_CONFIG.length) : undefined;
    if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) return 'not a Cisco parameter name';
  } else if (!/^[A-Za-z0-9_][A-Za-z0-9_.%-]*$/.test(key)) return 'not a key Yealink files can carry';
  if (vendor !== 'avaya' && vendor !== 'yealink' && /[\u0001-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(value)) return 'the value holds a control character XML cannot carry';
  return undefined;
}
