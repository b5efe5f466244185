// Render and validate a snapshot's files: the whole of `deskset check`, and the gate a
// reload must pass before its snapshot is swapped in.

import type { Diagnostic } from './diagnostics.js';
import { validateRendered, type OutputValidators } from './check-output.js';
import { renderTarget, type RenderTarget } from './render.js';
import { allTargets } from './request.js';
import type { Snapshot } from './snapshot.js';

export interface CheckResult {
  diagnostics: Diagnostic[];
  files: number;
}

export interface CheckOptions {
  /** Only these devices' files (plus every shared and model file): incremental reload. */
  devices?: ReadonlySet<string>;
}

export async function checkSnapshot(snap: Snapshot, validators: OutputValidators, opts: CheckOptions = {}): Promise<CheckResult> {
  const diagnostics: Diagnostic[] = [];
  let files = 0;
  // A script's GET or resource name may be a file deskset renders, not one under resources/.
  const exists = validators.resourceExists;
  const withServedNames: OutputValidators = exists ? { ...validators, resourceExists: (n) => exists(n) || snap.routes.match(n).length > 0 } : validators;
  const targets: RenderTarget[] = allTargets(snap).filter((t) => !opts.devices || !t.subject?.known || opts.devices.has(t.subject.mac!));
  for (const t of targets) {
    const { rendered, diagnostics: rd } = renderTarget(snap.render, t);
    diagnostics.push(...rd);
    if (!rendered) continue;
    files++;
    const found = validateRendered(rendered, t.subject?.known ? t.subject.mac : undefined, withServedNames);
    const list = Array.isArray(found) ? found : await found;
    // A device's own file is meant to carry its credentials (issue #5 guards who may fetch
    // it); the plaintext-secret lint is about files every phone downloads.
    diagnostics.push(...(t.file.scope === 'device' ? list.filter((d) => d.code !== 'PLAINTEXT_SECRET') : list));
  }
  return { diagnostics, files };
}
