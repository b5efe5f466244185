// Write text files so that a reader (the server's watcher, git, a crash) sees each file
// either whole and old or whole and new: a temp file in the same directory, fsync, rename.

import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

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
        await writeFileAtomic(f.file, f.text, false);
      }
    }),
  );
  for (const dir of new Set(files.map((f) => path.dirname(f.file)))) {
    const dh = await fsp.open(dir, 'r').catch(() => undefined);
    if (dh) {
      await dh.sync().catch(() => undefined);
      await dh.close();
    }
  }
}

export async function writeFileAtomic(file: string, text: string, fsync = true): Promise<void> {
  const dir = path.dirname(file);
  // A dot-name and .tmp: the config loader ignores it should a watcher catch it mid-write.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(text, 'utf8');
    if (fsync) await fh.sync();
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
}
