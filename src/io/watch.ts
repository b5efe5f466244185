// Watch a config root and report changed paths in debounced batches: a `git checkout` that
// touches 500 files produces one batch, hence one rebuild.

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
  const debounce = opts.debounceMs ?? 150;
  const maxWait = opts.maxWaitMs ?? 2000;
  const dir = path.resolve(rootDir);
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let first = 0;
  const flush = () => {
    timer = undefined;
    const batch = [...pending];
    pending = new Set();
    if (batch.length) onBatch(batch);
  };
  const watcher: FSWatcher = chokidar.watch(WATCHED, {
    cwd: dir,
    ignoreInitial: true,
    // Editors write a temp file and rename it; wait for the write to settle.
    awaitWriteFinish: { stabilityThreshold: 40, pollInterval: 10 },
    ignored: (p: string) => path.basename(p).startsWith('.') && p !== dir,
  });
  watcher.on('all', (_event, p) => {
    const rel = p.split(path.sep).join('/');
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
