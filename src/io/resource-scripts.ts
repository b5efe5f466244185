// Hand-written Avaya scripts under resources/ (46xxspecials.txt, site overlays) go through
// the same linter as the files deskset renders: a GOTO to a missing label is as broken in a
// file an admin wrote as in one we generated.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';
import { decodeScript, lintAvayaScript } from '../core/avaya-script/index.js';
import type { Snapshot } from '../core/snapshot.js';

const MAX_SCRIPT = 4 * 1024 * 1024;

export async function lintResourceScripts(snap: Snapshot, catalog: ReadonlySet<string>): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const exists = (n: string) => snap.resources.has(n) || snap.firmwareFiles.has(n) || snap.routes.match(n).length > 0;
  for (const name of snap.resources) {
    if (!name.toLowerCase().endsWith('.txt')) continue;
    const abs = path.join(snap.rootDir, 'resources', name);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st?.isFile() || st.size > MAX_SCRIPT) continue;
    const text = decodeScript(await fs.readFile(abs));
    // Text files that are not scripts (a README) say so at info level only: drop that.
    out.push(...lintAvayaScript(text, { file: snap.display(`resources/${name}`), catalog, resourceExists: exists }).filter((d) => d.severity !== 'info'));
  }
  return out;
}
