// Wait for files to stop changing before a reload reads them. A file written in place (not
// renamed into place) is visible while it grows: a 50 MB group file was read as a shorter but
// valid prefix, and three phones lost settings. The watcher's debounce only waits for events
// to pause; this waits until the files' sizes and modification times hold still.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SettleOptions {
  /** How long sizes and times must hold still. */
  quietMs?: number;
  /** Give up waiting after this long (the read's own before/after check still applies). */
  maxMs?: number;
}

/** Resolves once every file among `rels` (root-relative) has held still for `quietMs`. */
export async function waitForWrites(dir: string, rels: readonly string[], opts: SettleOptions = {}): Promise<void> {
  const quiet = opts.quietMs ?? 100;
  const deadline = performance.now() + (opts.maxMs ?? 5000);
  let last = await fingerprint(dir, rels);
  if (last === '') return; // nothing but directories and deletions: nothing is being written
  for (;;) {
    await sleep(quiet);
    const now = await fingerprint(dir, rels);
    if (now === last || performance.now() > deadline) return;
    last = now;
  }
}

/** Size and modification time of every regular file among `rels`, as one comparable string. */
async function fingerprint(dir: string, rels: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    rels.map(async (rel) => {
      const st = await fs.stat(path.join(dir, rel)).catch(() => undefined);
      return st?.isFile() ? `${rel}\0${st.size}\0${st.mtimeMs}` : '';
    }),
  );
  return parts.filter(Boolean).join('\n');
}
