// The filesystem edge of snapshot building: read the root and the shipped vendor data,
// then hand plain maps to the pure core.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildSnapshot, type Snapshot } from '../core/snapshot.js';
import { PACKAGE_ROOT, VERSION } from './package-root.js';
import { readTextTree } from './read-tree.js';

/** What a config root contributes; later issues add resources/, firmware/, schemas/. */
export const ROOT_ENTRIES = ['deskset.yaml', 'profiles', 'templates'];

let shippedCache: Promise<Map<string, string>> | undefined;
function shipped(): Promise<Map<string, string>> {
  shippedCache ??= readTextTree(PACKAGE_ROOT, ['templates']).then((r) => r.files);
  return shippedCache;
}

export async function loadRoot(rootDir: string): Promise<Snapshot> {
  const abs = path.resolve(rootDir);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`config root ${rootDir} is not a directory`);
  const [root, ship] = await Promise.all([readTextTree(abs, ROOT_ENTRIES), shipped()]);
  // Name files as the admin would from here: `samples/profiles/global.yaml`.
  const rel = path.relative(process.cwd(), abs);
  const display = (p: string): string => (rel === '' ? p : !rel.startsWith('..') ? `${rel}/${p}` : path.join(abs, p));
  const resources = new Set(await listFiles(path.join(abs, 'resources')));
  const snap = buildSnapshot({ root: root.files, shipped: ship, version: VERSION, display, resources });
  for (const d of root.diagnostics) if (d.loc) d.loc.file = display(d.loc.file);
  snap.diagnostics.unshift(...root.diagnostics);
  return snap;
}

/** Relative paths of every regular file below `dir` (absent dir: none). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}
