// Render and validate a snapshot's files: the whole of `deskset check`, and the gate a
// reload must pass before its snapshot is swapped in.

import type { Diagnostic } from './diagnostics.js';
import { validateRendered, type OutputValidators } from './check-output.js';
import { renderTarget, type RenderTarget } from './render.js';
import { allTargets, deviceTargets, sharedTargets } from './request.js';
import { chooseFirmware } from './firmware.js';
import { securityPolicy } from './security-profile.js';
import { findPath, type EMap } from './merge.js';
import type { ModelInfo } from './vendors.js';
import type { Snapshot } from './snapshot.js';

export interface CheckResult {
  diagnostics: Diagnostic[];
  files: number;
}

export interface CheckOptions {
  /** Only these devices' files (plus every shared and model file): incremental reload. */
  devices?: ReadonlySet<string>;
  /** With `devices`: leave out the shared and model files (already checked). */
  devicesOnly?: boolean;
  /** Called after each file with how many of the total are done (the CLI's progress line). */
  onProgress?: (done: number, total: number) => void;
}

export async function checkSnapshot(snap: Snapshot, validators: OutputValidators, opts: CheckOptions = {}): Promise<CheckResult> {
  const diagnostics: Diagnostic[] = [];
  let files = 0;
  // A script's GET or resource name may be a file deskset renders, not one under resources/.
  const exists = validators.resourceExists;
  const withServedNames: OutputValidators = exists ? { ...validators, resourceExists: (n) => exists(n) || snap.firmwareFiles.has(n) || snap.routes.match(n).length > 0 } : validators;
  const firmwareSeen = new Set<string>();
  // A subset is listed directly: enumerating 100,000 devices' files to keep a few is a second wasted.
  const targets: RenderTarget[] = !opts.devices
    ? allTargets(snap)
    : opts.devicesOnly
      ? deviceTargets(snap, opts.devices)
      : [...sharedTargets(snap), ...deviceTargets(snap, [...opts.devices].sort())];
  let done = 0;
  for (const t of targets) {
    opts.onProgress?.(done++, targets.length);
    const { rendered, diagnostics: rd } = renderTarget(snap.render, t);
    diagnostics.push(...rd);
    if (!rendered) continue;
    files++;
    const model = t.subject?.model ?? t.model;
    const fwKey = `${t.subject?.known ? t.subject.mac : ''}|${model?.name}`;
    if (model && !firmwareSeen.has(fwKey)) {
      firmwareSeen.add(fwKey);
      const device = t.subject?.known ? t.subject.mac : undefined;
      diagnostics.push(...firmwareProblems(snap, rendered.effective, model, device));
      diagnostics.push(...securityPolicy(rendered.effective).diagnostics.map((d) => ({ ...d, device })));
      if (device) diagnostics.push(...droppedLines(snap, rendered.effective, model, device));
    }
    const found = validateRendered(rendered, t.subject?.known ? t.subject.mac : undefined, withServedNames);
    const list = Array.isArray(found) ? found : await found;
    // A device's own file is meant to carry its credentials (issue #5 guards who may fetch
    // it); the plaintext-secret lint is about files every phone downloads.
    diagnostics.push(...(t.file.scope === 'device' ? list.filter((d) => d.code !== 'PLAINTEXT_SECRET') : list));
  }
  opts.onProgress?.(done, targets.length);
  return { diagnostics: dedupe(diagnostics), files };
}

/** A problem in a shared layer shows once per place, not once per device that inherits it. */
function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    if (!d.loc || !['AUTH_PLAINTEXT', 'ACCESS_CIDR', 'FIRMWARE_PINNED_MISSING', 'FIRMWARE_NEEDS_PUBLIC_URL'].includes(d.code)) return true;
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
