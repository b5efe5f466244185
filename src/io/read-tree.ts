// Read a config root's text files into memory in one pass, so a snapshot is built from a
// single consistent view of the disk. Symlinks may not lead outside the root, and oversized
// files are refused rather than read (a 2 GB "profile" must not take the server down).
//
// 100,000 device files must load in seconds: directories are listed with their entry types
// (no stat per file), only symlinks are resolved (realpath is the expensive call), and file
// files are read synchronously (see below).

import { closeSync, fstatSync, openSync, promises as fs, readFileSync, readSync, type Dirent } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';

export const MAX_TEXT_FILE = 4 * 1024 * 1024;
/** One read covers a typical profile; bigger files take the checked path. */
const SMALL_READ = 64 * 1024;

export interface TreeRead {
  files: Map<string, string>;
  diagnostics: Diagnostic[];
}

/** Read `entries` (files or directories, relative to `root`) recursively as UTF-8 text. */
export async function readTextTree(root: string, entries: readonly string[]): Promise<TreeRead> {
  const files = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const realRoot = await fs.realpath(root);
  const inside = (real: string) => real === realRoot || real.startsWith(realRoot + path.sep);
  const toRead: string[] = [];
  const problem = (rel: string, code: string, message: string) => diagnostics.push({ code, severity: 'error', message, loc: { file: rel, line: 1, col: 1 } });

  // Walk: collect regular files. A symlink is followed only if it stays inside the root.
  const visit = async (rel: string, known?: Dirent): Promise<void> => {
    const abs = path.join(realRoot, rel);
    let isDir: boolean;
    let isFile: boolean;
    if (known && !known.isSymbolicLink()) {
      isDir = known.isDirectory();
      isFile = known.isFile();
    } else {
      const st = await fs.stat(abs).catch(() => undefined);
      if (!st) return; // absent entries are simply not there (deskset.yaml is optional)
      const real = await fs.realpath(abs);
      if (!inside(real)) return void problem(rel, 'OUTSIDE_ROOT', `${rel} leads outside the config root; not read`);
      isDir = st.isDirectory();
      isFile = st.isFile();
    }
    if (isDir) {
      const names = (await fs.readdir(abs, { withFileTypes: true })).filter((d) => !d.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const d of names) {
        const child = rel ? `${rel}/${d.name}` : d.name;
        // Plain files are the 100,000-device case: list them here instead of an async call each.
        if (d.isFile()) toRead.push(child);
        else await visit(child, d);
      }
    } else if (isFile) toRead.push(rel);
  };
  for (const e of entries) await visit(e);

  // Read synchronously: a libuv round trip per open/stat/read/close costs more than the read
  // itself for small files (measured: 100,000 profiles in ~7 s async, ~1 s sync). This runs at
  // start-up and for the few files a reload touches, never per request.
  // Most profiles fit one small read: open, read, close. Only a file that fills the buffer
  // pays for an fstat (for the size cap) and a full read.
  const buf = Buffer.allocUnsafe(SMALL_READ);
  for (const rel of toRead) {
    let fd: number | undefined;
    try {
      fd = openSync(path.join(realRoot, rel), 'r');
      const n = readSync(fd, buf, 0, SMALL_READ, 0);
      if (n < SMALL_READ) {
        files.set(rel, buf.toString('utf8', 0, n));
        continue;
      }
      const size = fstatSync(fd).size;
      if (size > MAX_TEXT_FILE) {
        problem(rel, 'FILE_TOO_LARGE', `${size} bytes is over the ${MAX_TEXT_FILE}-byte limit for config files`);
        continue;
      }
      files.set(rel, readFileSync(fd, 'utf8'));
    } catch {
      // vanished between listing and reading: not there
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return { files, diagnostics };
}
