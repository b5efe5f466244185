// Hand-written Avaya scripts under resources/ (46xxspecials.txt, site overlays) go through
// the same linter as the files deskset renders: a GOTO to a missing label is as broken in a
// file an admin wrote as in one we generated.

import path from 'node:path';
import type { Diagnostic } from '../check/diagnostics.js';
import { decodeScript, lintAvayaScript } from '../vendors/avaya/script/index.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { Confinement } from './confine.js';

const MAX_SCRIPT = 4 * 1024 * 1024;

export async function lintResourceScripts(snap: Snapshot, catalog: ReadonlySet<string>): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const exists = (n: string) => snap.resources.has(n) || snap.firmwareFiles.has(n) || snap.routes.match(n).length > 0;
  const resources = new Confinement(snap.rootDir, { sub: 'resources' });
  for (const name of snap.resources) {
    if (!name.toLowerCase().endsWith('.txt')) continue;
    // Read through a checked descriptor: a listed script swapped for a symlink out is not read.
    const read = await resources.readFile(resources.at(name), MAX_SCRIPT);
    if (read === undefined || read === 'outside') continue;
    const text = decodeScript(read.bytes);
    // Text files that are not scripts (a README) say so at info level only: drop that.
    out.push(...lintAvayaScript(text, { file: snap.display(`resources/${name}`), catalog, resourceExists: exists }).filter((d) => d.severity !== 'info'));
  }
  return out;
}
