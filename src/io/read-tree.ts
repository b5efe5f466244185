// Read a config root's text files into memory in one pass, so a snapshot is built from a
// single consistent view of the disk. Symlinks may not lead outside the root (checked when
// listed and again when opened), loops are reported rather than walked, and oversized
// files are refused rather than read (a 2 GB "profile" must not take the server down).
//
// 100,000 device files must load in seconds: directories are listed with their entry types
// (no stat per file), only symlinks are resolved (realpath is the expensive call), and file
// files are read synchronously (see below).

import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, promises as fs, readFileSync, readSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../check/diagnostics.js';
import { Confinement, isInside } from './confine.js';

export const MAX_TEXT_FILE = 4 * 1024 * 1024;
/** One read covers a typical profile; bigger files take the checked path. */
const SMALL_READ = 64 * 1024;

export interface TreeListing {
  /** Root-relative paths. */
  files: string[];
  diagnostics: Diagnostic[];
}

export interface TreeRead {
  files: Map<string, string>;
  diagnostics: Diagnostic[];
}

export interface ReadOptions {
  /**
   * Compare each file's size and modification time before and after reading it, and report
   * one that changed meanwhile as FILE_CHANGING instead of using a torn read (a reload reads
   * files an editor may still be writing in place).
   */
  stable?: boolean;
}

/**
 * Every regular file below `entries` (files or directories, relative to `root`), in a stable
 * depth-first order, with a diagnostic for each entry that was not listed for a reason the
 * admin must hear about: a symlink loop, a symlink out of the root, an unreadable directory.
 */
export async function listTree(root: string, entries: readonly string[], opts: { sub?: string } = {}): Promise<TreeListing> {
  const realRoot = await fs.realpath(root);
  // Served trees are their own boundary: a link from resources/ to profiles/ stays unlisted.
  const boundary = opts.sub ? path.join(realRoot, opts.sub) : realRoot;
  const outside = opts.sub ? `${opts.sub}/` : 'the config root';
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const problem = (rel: string, code: string, message: string): void => {
    diagnostics.push(fileProblem(rel, code, message));
  };

  // `real` is where `rel` really is; `ancestors` the real directories walked to reach it. A
  // directory that is one of them or contains one (`ln -s . sub`, `ln -s .. up`, two folders
  // linked to each other) is a loop: reported once instead of walked until the path is too long.
  const visit = async (rel: string, real: string, ancestors: readonly string[], known?: Dirent): Promise<void> => {
    let isDir: boolean;
    let isFile: boolean;
    if (known && !known.isSymbolicLink()) {
      isDir = known.isDirectory();
      isFile = known.isFile();
    } else {
      const abs = path.join(realRoot, rel);
      let st;
      try {
        st = await fs.stat(abs);
        real = await fs.realpath(abs);
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return; // absent (deskset.yaml is optional) or a dangling link
        if (code === 'ELOOP') return problem(rel, 'SYMLINK_LOOP', `${rel} is a symlink loop; not read`);
        return problem(rel, 'UNREADABLE', `${rel} cannot be read (${code ?? 'error'}); not read`);
      }
      if (!isInside(boundary, real)) {
        const what = rel === opts.sub ? `${rel}/ is a symlink; it must be a real directory of the config root` : `${rel} leads outside ${outside}`;
        return problem(rel, 'OUTSIDE_ROOT', `${what}; not read`);
      }
      isDir = st.isDirectory();
      isFile = st.isFile();
    }
    if (isDir) {
      if (ancestors.some((a) => isInside(real, a))) return problem(rel, 'SYMLINK_LOOP', `${rel} is a symlink loop (it leads back to a directory that contains it); not read`);
      let dirents: Dirent[];
      try {
        dirents = await fs.readdir(path.join(realRoot, rel), { withFileTypes: true });
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return; // went away while listing
        return problem(rel, 'UNREADABLE', `${rel} cannot be listed (${code ?? 'error'}); not read`);
      }
      const names = dirents.filter((d) => !d.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
      const above = [...ancestors, real];
      for (const d of names) {
        const child = rel ? `${rel}/${d.name}` : d.name;
        // Plain files are the 100,000-device case: list them here instead of an async call each.
        if (d.isFile()) files.push(child);
        else await visit(child, path.join(real, d.name), above, d);
      }
    } else if (isFile) files.push(rel);
  };
  for (const e of entries) {
    const parent = await fs.realpath(path.dirname(path.join(realRoot, e))).catch(() => realRoot);
    await visit(e, path.join(realRoot, e), [parent]);
  }
  return { files, diagnostics };
}

/** Read `entries` (files or directories, relative to `root`) recursively as UTF-8 text. */
export async function readTextTree(root: string, entries: readonly string[], opts: ReadOptions = {}): Promise<TreeRead> {
  const listed = await listTree(root, entries);
  const files = new Map<string, string>();
  const diagnostics = listed.diagnostics;
  const confine = new Confinement(root);
  const problem = (rel: string, code: string, message: string): void => {
    diagnostics.push(fileProblem(rel, code, message));
  };

  // Read synchronously: a libuv round trip per open/stat/read/close costs more than the read
  // itself for small files (measured: 100,000 profiles in ~7 s async, ~1 s sync). This runs at
  // start-up and for the few files a reload touches, never per request.
  // Most profiles fit one small read: open, read, close. Only a file that fills the buffer
  // pays for an fstat (for the size cap) and a full read.
  const buf = Buffer.allocUnsafe(SMALL_READ);
  // Listed as inside the root, but a file or a directory above it may have been swapped for
  // a symlink since: decided again as each file is opened.
  const opener = confine.syncOpener();
  for (const rel of listed.files) {
    let fd: number | undefined;
    try {
      const opened = opener.open(rel);
      if (opened === 'outside') {
        problem(rel, 'OUTSIDE_ROOT', `${rel} leads outside the config root; not read`);
        continue;
      }
      fd = opened;
      const before = opts.stable ? fstatSync(fd) : undefined;
      const n = readSync(fd, buf, 0, SMALL_READ, 0);
      const bytes = n < SMALL_READ ? buf.subarray(0, n) : undefined;
      const size = bytes ? n : fstatSync(fd).size;
      if (size > MAX_TEXT_FILE) {
        problem(rel, 'FILE_TOO_LARGE', `${size} bytes is over the ${MAX_TEXT_FILE}-byte limit for config files`);
        continue;
      }
      const all = bytes ?? readFileSync(fd);
      if (before && changedSince(before, fstatSync(fd), all.length)) {
        problem(rel, 'FILE_CHANGING', `${rel} changed while it was being read (still being written?); it is read again once it is quiet`);
        continue;
      }
      const text = decodeUtf8(all);
      // A bad file is still there (its devices must not read "site does not exist"), but the
      // error keeps any snapshot holding it from being served.
      files.set(rel, typeof text === 'string' ? text : all.toString('utf8'));
      if (typeof text !== 'string') diagnostics.push({ code: 'INVALID_UTF8', severity: 'error', message: `not valid UTF-8 (byte 0x${(all[text.offset] ?? 0).toString(16).padStart(2, '0')} at offset ${text.offset}); save the file as UTF-8`, loc: { file: rel, line: text.line, col: text.col } });
    } catch (err) {
      const code = errCode(err);
      // Vanished between listing and reading: not there. Anything else must not silently drop a profile.
      if (code === 'ELOOP') problem(rel, 'SYMLINK_LOOP', `${rel} is a symlink loop; not read`);
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') problem(rel, 'UNREADABLE', `${rel} cannot be read (${code ?? 'error'}); not read`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  opener.close();
  return { files, diagnostics };
}

function fileProblem(rel: string, code: string, message: string): Diagnostic {
  return { code, severity: 'error', message, loc: { file: rel, line: 1, col: 1 } };
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Size or modification time moved, or fewer bytes were read than the file had when opened. */
function changedSince(before: Stats, after: Stats, read: number): boolean {
  return before.size !== after.size || before.mtimeMs !== after.mtimeMs || read !== after.size;
}

/**
 * The text of `bytes`, or where its first invalid UTF-8 sequence is. Decoding would silently
 * turn a cp1252 "é" into U+FFFD and serve that; a config file must be UTF-8 or an error.
 */
export function decodeUtf8(bytes: Buffer): string | { offset: number; line: number; col: number } {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const offset = firstInvalidUtf8(bytes);
  const before = bytes.subarray(0, offset);
  const lineStart = before.lastIndexOf(0x0a) + 1;
  let line = 1;
  for (let i = before.indexOf(0x0a); i !== -1; i = before.indexOf(0x0a, i + 1)) line++;
  // Columns count characters, as every other position deskset reports does.
  return { offset, line, col: before.subarray(lineStart).toString('utf8').length + 1 };
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Buffer): number {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > b.length) return i;
    // The decoder judges the sequence (overlongs, surrogates, out-of-range code points).
    if (len > 1) {
      try {
        fatal.decode(b.subarray(i, i + len));
      } catch {
        return i;
      }
    }
    i += len;
  }
  return b.length;
}
