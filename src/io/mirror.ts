// The bytes of a static mirror: every path of mirrorPaths() answered as the server answers it
// without a User-Agent (resolveRequest + renderTarget for rendered files, diskFileFor for
// firmware and resources). `render --out` writes them beside the files it renders anyway.

import type { Diagnostic } from '../check/diagnostics.js';
import { mirrorPaths } from '../snapshot/mirror.js';
import { renderTarget, type RenderOptions } from '../render/render.js';
import { resolveRequest } from '../pipeline/request.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { diskFileFor, servedTrees } from './disk-file.js';

export interface MirrorFile {
  path: string;
  /** The bytes, or (firmware, resources sent as they are) the file to copy: images can be large. */
  bytes?: Buffer;
  from?: string;
}

/** The mirror's files that are not in `have` (paths already written, with their bytes). */
export async function mirrorFiles(snap: Snapshot, have: ReadonlyMap<string, Buffer>, opts: RenderOptions, only?: string): Promise<{ files: MirrorFile[]; diagnostics: Diagnostic[] }> {
  const { rendered, disk } = mirrorPaths(snap, only);
  const files: MirrorFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const taken = new Set(have.keys());
  for (const path of rendered) {
    if (taken.has(path)) continue;
    const r = resolveRequest(snap, { path });
    if (r.kind !== 'render') continue; // deskset answers 404 here without a User-Agent: so does the mirror
    // Another name of a file already rendered (J179/<mac>/46xxsettings.txt is <mac>.txt): the same bytes.
    const same = have.get(r.target.path);
    if (same) {
      files.push({ path, bytes: same });
      taken.add(path);
      continue;
    }
    const out = renderTarget(snap.render, r.target, opts);
    diagnostics.push(...out.diagnostics);
    if (!out.rendered) continue;
    files.push({ path, bytes: out.rendered.bytes });
    taken.add(path);
  }
  const trees = servedTrees(snap.rootDir);
  for (const path of disk) {
    if (taken.has(path)) continue;
    const hit = await diskFileFor(snap, trees, path, {});
    if (!hit) continue;
    if (hit.body) files.push({ path, bytes: hit.body });
    else {
      // deskset refuses a file over files.max_bytes (403) or outside its tree; a mirror leaves it out.
      const opened = await hit.confine.open(hit.abs);
      if (opened === undefined || opened === 'outside') continue;
      await opened.handle.close();
      const st = opened.st;
      if (!st.isFile() || st.size > snap.config.maxFileBytes) continue;
      files.push({ path, from: hit.abs });
    }
    taken.add(path);
  }
  return { files, diagnostics };
}
