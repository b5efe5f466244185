// Write text files so that a reader (the server's watcher, git, a crash) sees each file
// either whole and old or whole and new: a temp file in the same directory, fsync, rename.

import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** fsync the file before the rename (default true; a batch syncs its directories instead). */
  fsync?: boolean;
  /** The file's mode (default 0644). Set explicitly after writing: an inherited ACL cannot widen it. */
  mode?: number;
  /** Create missing parent directories with this mode first (default: they must exist). */
  mkdirMode?: number;
  /** fsync the directory after the rename, so the new entry itself survives a crash (default false). */
  syncDir?: boolean;
}

/**
 * Several files, a few at a time, each atomically. A batch skips the per-file fsync: 10,000
 * fsyncs were most of a 10,000-row import, and a crash still leaves each file old or new
 * (ext4 and xfs flush a file's data before a rename over it commits); the directories are
 * synced once at the end.
 */
export async function writeFilesAtomic(files: ReadonlyArray<{ file: string; text: string }>, concurrency = 16): Promise<void> {
  for (const dir of new Set(files.map((f) => path.dirname(f.file)))) await fsp.mkdir(dir, { recursive: true });
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, files.length) }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        await writeFileAtomic(f.file, f.text, { fsync: false });
      }
    }),
  );
  for (const dir of new Set(files.map((f) => path.dirname(f.file)))) await syncDirectory(dir);
}

export async function writeFileAtomic(file: string, text: string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  if (opts.mkdirMode !== undefined) await fsp.mkdir(dir, { recursive: true, mode: opts.mkdirMode });
  // A dot-name and .tmp: the config loader ignores it should a watcher catch it mid-write.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(text, 'utf8');
    if (opts.mode !== undefined) await fh.chmod(opts.mode);
    if (opts.fsync !== false) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  if (opts.syncDir) await syncDirectory(dir);
}

/** Make a directory's entries durable; some filesystems refuse to fsync a directory, which is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  const dh = await fsp.open(dir, 'r').catch(() => undefined);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
  }
}
