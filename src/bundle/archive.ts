// Reproducible archives with archiver: entries in sorted order, one fixed timestamp and mode,
// gzip without a file name or time, so the same files give the same bytes on every run.

import { createReadStream } from 'node:fs';
import { TarArchive, ZipArchive, type Archiver } from 'archiver';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

export interface ArchiveEntry {
  /** '/'-separated path inside the archive. */
  name: string;
  bytes?: Buffer;
  /** A file on disk to pack as it is (firmware images can be large). */
  from?: string;
}

/** 1980-01-01, the earliest time a zip (DOS) timestamp holds: no build time leaks into the bytes. */
export const FIXED_DATE = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));
const MODE = 0o644;

export async function archiveBytes(entries: readonly ArchiveEntry[], format: ArchiveFormat): Promise<Buffer> {
  const archive: Archiver =
    format === 'zip' ? new ZipArchive({ zlib: { level: 9 }, forceLocalTime: false }) : new TarArchive({ gzip: format === 'tar.gz', gzipOptions: { level: 9 } });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on('data', (c: Buffer) => chunks.push(c));
    archive.on('end', () => resolve());
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const data = { name: e.name, date: FIXED_DATE, mode: MODE };
    // A stream, not archive.file(): file() entries wait for an fs.stat in a parallel queue and
    // join the archive in whatever order those finish (seen: two builds, two byte streams).
    if (e.bytes) archive.append(e.bytes, data);
    else if (e.from) archive.append(createReadStream(e.from), data);
  }
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}
