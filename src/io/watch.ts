// Watch a config root and report changed paths in debounced batches: a `git checkout` that
// touches 500 files produces one batch, hence one rebuild.
//
// The root directory itself is watched, with everything outside WATCHED ignored: watching
// the entries by name misses ones that do not exist yet (an admin creating schemas/ after
// start), and chokidar reports "ready" early when a named entry is missing.

import chokidar, { type FSWatcher } from 'chokidar';
import path from 'node:path';

export const WATCHED = ['deskset.yaml', 'profiles', 'templates', 'schemas', 'resources', 'firmware'];

export interface WatchOptions {
  /** Quiet time before a batch fires. */
  debounceMs?: number;
  /** A batch fires at the latest this long after its first event, even if events keep coming. */
  maxWaitMs?: number;
}

export interface RootWatcher {
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchRoot(rootDir: string, onBatch: (changed: string[]) => void, opts: WatchOptions = {}): RootWatcher {
  // 80 ms of quiet still coalesces a git checkout (its writes come microseconds apart).
  const debounce = opts.debounceMs ?? 80;
  const maxWait = opts.maxWaitMs ?? 2000;
  const dir = path.resolve(rootDir);
  const relOf = (p: string): string => path.relative(dir, path.resolve(dir, p)).split(path.sep).join('/');
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let first = 0;
  const flush = () => {
    timer = undefined;
    const batch = [...pending];
    pending = new Set();
    if (batch.length) onBatch(batch);
  };
  const watcher: FSWatcher = chokidar.watch(dir, {
    ignoreInitial: true,
    // Editors write a temp file and rename it; wait for the write to settle.
    awaitWriteFinish: { stabilityThreshold: 30, pollInterval: 10 },
    ignored: (p: string) => {
      const rel = relOf(p);
      if (rel === '') return false;
      if (rel.split('/').some((seg) => seg.startsWith('.'))) return true;
      return !WATCHED.includes(rel.split('/')[0]!);
    },
  });
  watcher.on('all', (_event, p) => {
    const rel = relOf(p);
    if (rel === '') return;
    if (!pending.size) first = Date.now();
    pending.add(rel);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, Date.now() - first >= maxWait ? 0 : debounce);
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
