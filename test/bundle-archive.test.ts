// The archive writer alone: entries from files on disk and from memory, mixed, come out in
// sorted order with fixed times and modes, the same bytes on every build. archive.file()
// ordered entries by the end of parallel stats; this test built 20 times caught it.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveBytes, type ArchiveEntry, type ArchiveFormat } from '../src/bundle/archive.js';

describe('archiveBytes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskset-archive-'));
  const entries = async (): Promise<ArchiveEntry[]> => {
    const out: ArchiveEntry[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `f${String(i).padStart(2, '0')}.bin`;
      const file = path.join(dir, name);
      // Sizes that stat at different speeds do not matter; order must not depend on them.
      if (!existsSync(file)) await fs.writeFile(file, Buffer.alloc(1000 * (12 - i), i));
      out.push(i % 2 ? { name: `disk/${name}`, from: file } : { name: `mem/${name}`, bytes: Buffer.from(`memory ${i}\n`) });
    }
    return out.reverse();
  };

  it.each(['zip', 'tar', 'tar.gz'] as ArchiveFormat[])('%s: 20 builds, one byte stream, entries sorted', async (format) => {
    const first = await archiveBytes(await entries(), format);
    for (let i = 0; i < 19; i++) expect((await archiveBytes(await entries(), format)).equals(first)).toBe(true);
    const file = path.join(dir, `out.${format}`);
    await fs.writeFile(file, first);
    const listing = format === 'zip' ? execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }) : execFileSync('tar', ['-tf', file], { encoding: 'utf8' });
    const names = listing.trim().split('\n');
    expect(names).toEqual([...names].sort());
    expect(names).toHaveLength(12);
    if (format !== 'zip') expect(execFileSync('tar', ['-tvf', file], { encoding: 'utf8' })).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1980-01-01 00:00 /);
  });
});
