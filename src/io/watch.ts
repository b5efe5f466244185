// Watch a config root and report changed paths in debounced batches: a `git checkout` that
// touches 500 files produces one batch, hence one rebuild.
//
// No file-system event or watcher error ends the process: errors go to `onError`, symlinks are
// reported, not followed.
//
// The root directory itself is watched, with everything outside WATCHED ignored: watching
// the entries by name misses ones that do not exist yet (an admin creating schemas/ after
// start), and chokidar reports "ready" early when a named entry is missing.

import chokidar, { type FSWatcher } from 'chokidar';
import { watch as fsWatch, promises as fsp, type FSWatcher as NodeWatcher } from 'node:fs';
import path from 'node:path';

export const WATCHED = ['deskset.yaml', 'profiles', 'templates', 'schemas', 'resources', 'firmware'];

/**
 * The one directory that grows with the fleet. chokidar stats and watches every file it
 * tracks: at 100,000 device files that took 12 s of CPU and 390 MB after every start. Device
 * files sit flat in this directory, so one directory watch (inotify reports every file
 * written, created, renamed or deleted in it) sees the same changes.
 */
export const DEVICES_DIR = 'profiles/devices';

export interface WatchOptions {
  /** Quiet time before a batch fires. */
  debounceMs?: number;
  /** A batch fires at the latest this long after its first event, even if events keep coming. */
  maxWaitMs?: number;
  /**
   * A watcher error (a symlink loop, an unreadable entry, the kernel's watch limit). Without
   * a listener an 'error' event ends the process; with one, watching goes on as best it can.
   */
  onError?: (err: Error, rel: string | undefined) => void;
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
  const changed = (rel: string): void => {
    if (!pending.size) first = Date.now();
    pending.add(rel);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, Date.now() - first >= maxWait ? 0 : debounce);
  };
  // Two directory watches, whatever the fleet size: the devices directory for its files,
  // and its parent for the directory itself appearing, vanishing or being replaced.
  const devicesDir = path.join(dir, DEVICES_DIR);
  let devices: NodeWatcher | undefined;
  let parent: NodeWatcher | undefined;
  const watchDir = (at: string, onName: (event: string, name: string | null) => void): NodeWatcher | undefined => {
    try {
      const w = fsWatch(at, onName);
      // The directory went away: stop; the parent (or chokidar) reports when it is back.
      w.on('error', () => w.close());
      return w;
    } catch {
      return undefined; // not there (yet)
    }
  };
  const watchDevices = (): void => {
    devices?.close();
    devices = watchDir(devicesDir, (_event, name) => {
      // No name (the kernel's event queue overflowed): read the whole directory again.
      if (name === null) changed(DEVICES_DIR);
      else if (!name.startsWith('.')) changed(`${DEVICES_DIR}/${name}`);
    });
  };
  const watchParent = (): void => {
    parent?.close();
    parent = watchDir(path.dirname(devicesDir), (event, name) => {
      if (name === null || (event === 'rename' && name === path.basename(devicesDir))) {
        watchDevices();
        changed(DEVICES_DIR);
      }
    });
  };
  watchParent();
  watchDevices();
  const ignored = (p: string): boolean => {
    if (p === devicesDir || p.startsWith(devicesDir + path.sep)) return true;
    const rel = relOf(p);
    if (rel === '') return false;
    if (rel.split('/').some((seg) => seg.startsWith('.'))) return true;
    return !WATCHED.includes(rel.split('/')[0]!);
  };
  const watcher: FSWatcher = chokidar.watch(dir, {
    ignoreInitial: true,
    // A symlink is reported as the link itself, never walked: `ln -s . sub` or `ln -s .. up`
    // would otherwise be followed until ELOOP, and a link out of the root would put the
    // outside tree under watch. The snapshot's reader decides what a link may lead to.
    followSymlinks: false,
    // Editors write a temp file and rename it; wait for the write to settle.
    awaitWriteFinish: { stabilityThreshold: 30, pollInterval: 10 },
    ignored,
  });
  watcher.on('all', (event, p) => {
    const rel = relOf(p);
    if (rel === '') return;
    // profiles/ came or went: watch it and the devices directory afresh.
    if ((event === 'addDir' || event === 'unlinkDir') && rel === path.posix.dirname(DEVICES_DIR)) {
      watchParent();
      watchDevices();
    }
    changed(rel);
  });
  watcher.on('error', (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    const at = (e as NodeJS.ErrnoException).path;
    const rel = at === undefined ? undefined : relOf(at);
    opts.onError?.(e, rel);
    // Whatever failed to be watched may have changed: let a reload look at it.
    if (rel !== undefined && rel !== '' && !rel.startsWith('..')) changed(rel);
  });
  // chokidar drops a link it cannot resolve (`ln -s x.yaml x.yaml`) without an event; the raw
  // event of its directory still names it, so a loop made (or removed) while serving reaches
  // a reload.
  watcher.on('raw', (event, name, details) => {
    const watchedPath = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (event !== 'rename' || typeof name !== 'string' || typeof watchedPath !== 'string') return;
    const full = path.resolve(watchedPath, name);
    if (ignored(full)) return;
    fsp.stat(full).catch((err: NodeJS.ErrnoException) => {
      // ENOENT: such a link removed again (chokidar never knew it, so it reports nothing).
      if (err.code === 'ELOOP' || err.code === 'ENOENT') changed(relOf(full));
    });
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer);
      devices?.close();
      parent?.close();
      await watcher.close();
    },
  };
}
