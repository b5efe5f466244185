// Render and validate a snapshot's files: the whole of `deskset check`, and the gate a
// reload must pass before its snapshot is swapped in.

import type { Diagnostic } from './diagnostics.js';
import { validateRendered, type OutputValidators } from './check-output.js';
import { contextSamples, renderTarget, type RenderTarget } from '../render/render.js';
import { allProfiles, type Profile } from '../config/profiles.js';
import { settingsShape } from '../config/profile-schema.js';
import { addTreeNames, namesOfShape, namesOfValue, unionNames, type Names } from '../render/template-names.js';
import { deviceTargets, placeholderTargets, sharedTargets } from '../pipeline/request.js';
import { subnetSiteTargets } from '../sites/check-targets.js';
import { chooseFirmware } from '../render/firmware.js';
import { securityPolicy } from '../config/security-profile.js';
import { findPath, type EMap } from '../config/merge.js';
import { dstRule, type DstEdge } from '../render/timezone.js';
import type { ModelInfo } from '../vendors/manifest.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Pause } from '../config/steps.js';
import { policyTree } from './policy-tree.js';

export interface CheckResult {
  diagnostics: Diagnostic[];
  files: number;
}

export interface CheckOptions {
  /** Only these devices' files (plus every shared and model file): incremental reload. */
  devices?: ReadonlySet<string>;
  /** With `devices`: leave out the shared and model files (already checked). */
  devicesOnly?: boolean;
  /** Asked after every file: a server checking a reload waits here so phones are answered meanwhile. */
  pause?: Pause;
  /** Called after each file with how many of the total are done (the CLI's progress line). */
  onProgress?: (done: number, total: number) => void;
  /** One share of a check split between threads (check-threads.ts); overrides `devices`. */
  part?: CheckPart;
}

/**
 * A share of a check: the files every device shares (with `whole`, also what only a full
 * check looks at: subnet sites and the names templates read), or some devices' own files.
 * The shares of a check, together, are exactly the files the check would cover in one go.
 */
export type CheckPart = { kind: 'shared'; whole: boolean } | { kind: 'devices'; macs: string[] };

export async function checkSnapshot(snap: Snapshot, validators: OutputValidators, opts: CheckOptions = {}): Promise<CheckResult> {
  const diagnostics: Diagnostic[] = [];
  let files = 0;
  // A script's GET or resource name may be a file deskset renders, not one under resources/.
  const exists = validators.resourceExists;
  const withServedNames: OutputValidators = exists ? { ...validators, resourceExists: (n) => exists(n) || snap.firmwareFiles.has(n) || snap.routes.match(n).length > 0 } : validators;
  const firmwareSeen = new Set<string>();
  // The CLI's progress line needs the total up front; a reloading server pauses instead and
  // never lists every file at once.
  const listed = targetsToCheck(snap, opts);
  const targets = opts.onProgress ? [...listed] : listed;
  const total = Array.isArray(targets) ? targets.length : 0;
  let done = 0;
  for (const t of targets) {
    opts.onProgress?.(done++, total);
    const { rendered, diagnostics: rd } = renderTarget(snap.render, t);
    diagnostics.push(...rd);
    if (!rendered) continue;
    files++;
    const model = t.subject?.model ?? t.model;
    const fwKey = `${t.subject?.known ? t.subject.mac : ''}|${model?.name}`;
    if (model && !firmwareSeen.has(fwKey)) {
      firmwareSeen.add(fwKey);
      const device = t.subject?.known ? t.subject.mac : undefined;
      const effective = policyTree(snap, t);
      diagnostics.push(...firmwareProblems(snap, effective, model, device));
      diagnostics.push(...securityPolicy(effective).diagnostics.map((d) => ({ ...d, device })));
      if (device) diagnostics.push(...droppedLines(snap, effective, model, device));
      diagnostics.push(...dstApproximated(snap, effective, model, device));
    }
    const found = validateRendered(rendered, t.subject?.known ? t.subject.mac : undefined, withServedNames);
    for (const d of Array.isArray(found) ? found : await found) diagnostics.push(d);
    const p = opts.pause?.();
    if (p) await p;
  }
  // Names a template reads that nothing supplies: once per template, on a full check only.
  if (opts.part ? opts.part.kind === 'shared' && opts.part.whole : !opts.devices) diagnostics.push(...unknownTemplateNames(snap));
  opts.onProgress?.(done, total);
  return { diagnostics: dedupe(diagnostics), files };
}

/**
 * A template that reads a name no profile, vocabulary key or template field supplies
 * (`sip.domian`) renders it empty without a word: a warning at the template's line. The
 * names that exist: the settings vocabulary, every settings key any profile writes, and the
 * fields of the template context. Device profiles are read only when the shared layers leave
 * a name unexplained: on a large fleet their trees are parsed again to be read.
 */
function unknownTemplateNames(snap: Snapshot): Diagnostic[] {
  const layerProfiles = allProfiles({ ...snap.profiles, devices: new Map(), placeholders: new Map() });
  const lint = (profiles: Iterable<Profile>): Diagnostic[] => {
    const written: Names = { keys: new Map() };
    for (const p of profiles) {
      const s = p.keys.has('settings') && p.tree.kind === 'map' ? p.tree.entries.get('settings') : undefined;
      if (s) addTreeNames(written, s.node);
    }
    const settings = unionNames(namesOfShape(settingsShape), written);
    const out: Diagnostic[] = [];
    for (const [key, tpl] of snap.templates) {
      const vendor = key.slice(0, key.indexOf('/'));
      const root: Names = contextSamples(snap.render, vendor).map(namesOfValue).reduce(unionNames);
      root.keys.set('settings', settings);
      out.push(...tpl.unknownNames(root));
    }
    return out;
  };
  const found = lint(layerProfiles);
  return found.length === 0 ? found : lint(allProfiles(snap.profiles));
}

/**
 * The files to check, listed as they are checked: the shared and model files, then each
 * device's. A subset is listed directly: enumerating 100,000 devices' files to keep a few is
 * a second wasted, and listing them all up front would be one long pause for a server.
 */
function* targetsToCheck(snap: Snapshot, opts: CheckOptions): Generator<RenderTarget> {
  if (opts.part?.kind === 'devices') {
    for (const mac of opts.part.macs) yield* deviceTargets(snap, [mac]);
    return;
  }
  if (opts.part) {
    yield* sharedTargets(snap);
    yield* placeholderTargets(snap);
    if (opts.part.whole) yield* subnetSiteTargets(snap);
    return;
  }
  const shared = !opts.devicesOnly || !opts.devices;
  if (shared) yield* sharedTargets(snap);
  const macs = opts.devices && opts.devicesOnly ? opts.devices : [...(opts.devices ?? snap.profiles.devices.keys())].sort();
  for (const mac of macs) yield* deviceTargets(snap, [mac]);
  // Placeholders are checked like devices, under their preview MACs, whenever the shared
  // files are: a code may bind one to a phone at any time.
  if (shared) yield* placeholderTargets(snap);
  // Sites reached only by subnet, rendered once per model of the devices that name no site.
  if (!opts.devices) yield* subnetSiteTargets(snap);
}

/** A problem in a shared layer shows once per place, not once per device that inherits it. */
export function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    if (!d.loc || !['AUTH_PLAINTEXT', 'ACCESS_CIDR', 'FIRMWARE_PINNED_MISSING', 'FIRMWARE_NEEDS_PUBLIC_URL', 'DST_APPROXIMATED'].includes(d.code)) return true;
    const k = `${d.code}|${d.loc.file}:${d.loc.line}:${d.loc.col}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A policy that cannot be met is an error where it was written; a Yealink image with no
 * public_url to build its absolute URL from is a warning (the phone is told nothing). */
function firmwareProblems(snap: Snapshot, effective: EMap, model: ModelInfo, device: string | undefined): Diagnostic[] {
  const c = chooseFirmware(snap.firmware, effective, model, snap.config.publicUrl, snap.config.layers);
  const out: Diagnostic[] = [];
  if (c.problem) out.push({ code: 'FIRMWARE_PINNED_MISSING', severity: 'error', message: c.problem, loc: c.setAt[c.setAt.length - 1] ?? c.setAt[0], device });
  if (c.path && !c.url && model.fields.firmware_key) {
    out.push({ code: 'FIRMWARE_NEEDS_PUBLIC_URL', severity: 'warning', message: `${model.name} firmware ${c.version} is chosen but ${model.vendor} needs an absolute URL: set public_url in deskset.yaml`, loc: c.setAt[0], device });
  }
  return out;
}

/** More lines than the phone's provisioning file can carry would vanish without a word. */
function droppedLines(snap: Snapshot, effective: EMap, model: ModelInfo, device: string): Diagnostic[] {
  const f = findPath(effective, 'settings.lines');
  if (!f || f.node.kind !== 'leaf' || f.node.node.kind !== 'list') return [];
  const count = f.node.node.items.length;
  const limit = Number(model.fields.accounts ?? snap.catalog.vendor(model.vendor)?.data.max_lines ?? Infinity);
  if (!(count > limit)) return [];
  return [{ code: 'LINES_DROPPED', severity: 'warning', message: `${count} lines configured but a ${model.vendor} ${model.name} is provisioned with at most ${limit}; lines after ${limit} are not written`, loc: f.node.origin.loc, device }];
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * A zone whose DST rule is not "the nth (or last) weekday of a month" (Chile's "Sunday on or
 * after the 2nd") cannot be said exactly in a vendor's nth-weekday form (vendor.yaml
 * `data.dst_form`): the phone is told the usual week and is a week out in some years.
 */
function dstApproximated(snap: Snapshot, effective: EMap, model: ModelInfo, device: string | undefined): Diagnostic[] {
  if (snap.catalog.vendor(model.vendor)?.data.dst_form !== 'nth-weekday') return [];
  const f = findPath(effective, 'settings.time.zone');
  if (!f || f.node.kind !== 'leaf' || f.node.node.kind !== 'scalar') return [];
  const zone = String(f.node.node.value);
  let rule;
  try {
    rule = dstRule(zone);
  } catch {
    return []; // an unknown zone is reported where the zone is checked
  }
  const inexact = rule && [rule.start, rule.end].filter((e) => !e.weekExact);
  if (!inexact?.length) return [];
  const say = (e: DstEdge) => `the ${DAY_NAMES[e.weekday]} on or after ${MONTH_NAMES[e.month - 1]} ${e.onOrAfter}`;
  const nth = snap.vendors.filter((v) => v.data.dst_form === 'nth-weekday').map((v) => v.label);
  return [{ code: 'DST_APPROXIMATED', severity: 'warning', message: `${zone} changes clocks on ${inexact.map(say).join(' and ')}; phones that take an nth weekday (${nth.join(', ')}) are told week ${inexact[0]!.week} and are a week out in some years (docs/config.md)`, loc: f.node.origin.loc, device }];
}
