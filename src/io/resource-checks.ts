// Hand-written files under resources/ that a vendor can check (a phone script, a site
// overlay) go through that vendor's checker, the same one its rendered files meet: a GOTO to
// a missing label is as broken in a file an admin wrote as in one we generated.

import type { Diagnostic } from '../check/diagnostics.js';
import { VENDORS } from '../vendors/registry.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { Confinement } from './confine.js';

const MAX_RESOURCE = 4 * 1024 * 1024;

export async function checkResourceFiles(snap: Snapshot, catalogs: ReadonlyMap<string, ReadonlySet<string>>): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const exists = (n: string) => snap.resources.has(n) || snap.firmwareFiles.has(n) || snap.routes.match(n).length > 0;
  const resources = new Confinement(snap.rootDir, { sub: 'resources' });
  for (const v of VENDORS) {
    const check = v.resourceCheck;
    if (!check) continue;
    for (const name of snap.resources) {
      if (!check.matches(name)) continue;
      // Read through a checked descriptor: a listed file swapped for a symlink out is not read.
      const read = await resources.readFile(resources.at(name), MAX_RESOURCE);
      if (read === undefined || read === 'outside') continue;
      out.push(...check.check(read.bytes, snap.display(`resources/${name}`), { catalog: catalogs.get(v.id), resourceExists: exists }));
    }
  }
  return out;
}
