// Read a config root's text files into memory in one pass, so a snapshot is built from a
// single consistent view of the disk. Symlinks may not lead outside the root, and oversized
// files are refused rather than read (a 2 GB "profile" must not take the server down).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';

export const MAX_TEXT_FILE = 4 * 1024 * 1024;

export interface TreeRead {
  files: Map<string, string>;
  diagnostics: Diagnostic[];
}

/** Read `entries` (files or directories, relative to `root`) recursively as UTF-8 text. */
export async function readTextTree(root: string, entries: readonly string[]): Promise<TreeRead> {
  const files = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const realRoot = await fs.realpath(root);
  const visit = async (rel: string): Promise<void> => {
    const abs = path.join(realRoot, rel);
    let st;
    try {
      st = await fs.stat(abs);
    } catch {
      return; // absent entries are simply not there (deskset.yaml is optional)
    }
    const real = await fs.realpath(abs);
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
      diagnostics.push({ code: 'OUTSIDE_ROOT', severity: 'error', message: `${rel} leads outside the config root; not read`, loc: { file: rel, line: 1, col: 1 } });
      return;
    }
    if (st.isDirectory()) {
      const names = (await fs.readdir(abs)).filter((n) => !n.startsWith('.')).sort();
      for (const n of names) await visit(rel ? `${rel}/${n}` : n);
      return;
    }
    if (!st.isFile()) return;
    if (st.size > MAX_TEXT_FILE) {
      diagnostics.push({ code: 'FILE_TOO_LARGE', severity: 'error', message: `${st.size} bytes is over the ${MAX_TEXT_FILE}-byte limit for config files`, loc: { file: rel, line: 1, col: 1 } });
      return;
    }
    files.set(rel, await fs.readFile(abs, 'utf8'));
  };
  for (const e of entries) await visit(e);
  return { files, diagnostics };
}
