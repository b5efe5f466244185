// The tree `render --out` writes and `bundle --for static` packs: every file of every device
// plus the shared files, at their request paths, and the rest of what a static server needs to
// answer every phone as deskset does (mirror.ts). One list, so the two cannot drift.

import type { Diagnostic } from '../check/diagnostics.js';
import { allTargets } from '../pipeline/request.js';
import { renderTarget, type RenderOptions } from '../render/render.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { mirrorPaths } from '../snapshot/mirror.js';
import { mirrorFiles } from './mirror.js';

export interface TreeFile {
  /** Request path, '/'-separated, relative to the tree's top. */
  path: string;
  /** The bytes, or (firmware, resources sent as they are) the file to copy. */
  bytes?: Buffer;
  from?: string;
  /** The vendor whose manifest names the file, for rendered files. */
  vendor?: string;
  /** True for rendered files (not copied from firmware/ or resources/). */
  rendered: boolean;
  /** With showSecrets: the file holds a secret (its hash would be testable offline). */
  secret?: boolean;
}

export interface TreeOptions {
  showSecrets?: boolean;
  /** Only this device's files (and no shared ones). */
  only?: string;
  /** Work out `secret` per file (costs a second, masked render). */
  markSecrets?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function renderTree(snap: Snapshot, opts: TreeOptions = {}): Promise<{ files: TreeFile[]; problems: Diagnostic[] }> {
  // Previews mask secrets; showSecrets gives the real files for deployment.
  const masking: RenderOptions = { redact: { secrets: snap.secrets, extraKeys: snap.secretKeys } };
  const renderOpts = opts.showSecrets ? {} : masking;
  const problems: Diagnostic[] = [];
  const files: TreeFile[] = [];
  const written = new Map<string, Buffer>();
  const secretBytes = new Set<Buffer>();
  const targets = opts.only ? allTargets(snap).filter((t) => t.subject?.mac === opts.only) : allTargets(snap);
  for (const [i, t] of targets.entries()) {
    opts.onProgress?.(i, targets.length);
    const { rendered, diagnostics } = renderTarget(snap.render, t, renderOpts);
    for (const d of diagnostics) problems.push(d);
    if (!rendered) continue;
    const secret = opts.showSecrets && opts.markSecrets ? !renderTarget(snap.render, t, masking).rendered?.bytes.equals(rendered.bytes) : undefined;
    files.push({ path: rendered.path, bytes: rendered.bytes, vendor: t.file.vendor, rendered: true, secret });
    written.set(rendered.path, rendered.bytes);
    if (secret) secretBytes.add(rendered.bytes);
  }
  const mirror = await mirrorFiles(snap, written, renderOpts, opts.only);
  for (const d of mirror.diagnostics) problems.push(d);
  // A mirror name of a rendered file (J179/<mac>/46xxsettings.txt) shares its bytes, and its secrets.
  const holdsSecret = (b: Buffer) => secretBytes.has(b) || [...snap.secrets].some((v) => v.length > 0 && b.includes(v));
  const renderedPaths = new Set(mirrorPaths(snap, opts.only).rendered);
  for (const f of mirror.files) {
    files.push({ path: f.path, bytes: f.bytes, from: f.from, rendered: renderedPaths.has(f.path), secret: opts.showSecrets && opts.markSecrets && f.bytes ? holdsSecret(f.bytes) : undefined });
  }
  return { files, problems };
}
