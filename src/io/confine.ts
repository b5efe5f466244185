// Containment decided when a file is opened, not when the tree was listed: a listed name can
// be swapped for a symlink out of the root between the listing and the read. So every read
// opens first and then asks what the descriptor really is. On Linux /proc/self/fd/N names
// the opened inode's path, which no later swap can change; elsewhere the path is resolved
// again and must lead to the very inode that was opened.

import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, promises as fs, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

const PROC_FD = '/proc/self/fd';
const hasProcFd = process.platform === 'linux' && existsSync(PROC_FD);

/** Identity of an opened file: a changed inode or ctime (rename, write, relink) means check again. */
function identity(st: Pick<Stats, 'dev' | 'ino' | 'ctimeMs'>): string {
  return `${st.dev}:${st.ino}:${st.ctimeMs}`;
}

/** Files verified at open time, per absolute path; bounded so a long-running server cannot grow it forever. */
const MAX_VERIFIED = 50_000;

export interface ConfinementOptions {
  /**
   * A directory under the root that is the boundary instead (`resources`, `firmware`): files
   * served from it must really be in it, not elsewhere in the root (a link from resources/
   * to profiles/ would serve passwords). Taken as named: if it is itself a symlink, nothing
   * in it is inside.
   */
  sub?: string;
  /** Hears of each refused path once (a scanner retrying it must not flood the log). */
  onRefused?: (abs: string) => void;
}

export class Confinement {
  /** The boundary, symlinks resolved: every file read through this must really be below it. */
  readonly base: string;
  private readonly verified = new Map<string, string>();
  private readonly reported = new Set<string>();
  private readonly onRefused?: (abs: string) => void;

  constructor(rootDir: string, opts: ConfinementOptions = {}) {
    const realRoot = realpathSync(rootDir);
    this.base = opts.sub ? path.join(realRoot, opts.sub) : realRoot;
    this.onRefused = opts.onRefused;
  }

  /** The absolute path of `rel` (relative to the boundary), for opening. */
  at(rel: string): string {
    return path.join(this.base, rel);
  }

  /** True when `real` (a resolved path) is the boundary or below it. */
  inside(real: string): boolean {
    return isInside(this.base, real);
  }

  /**
   * Whether the file open as `fd` (opened from `abs`, fstat'ed as `st`) lies inside the boundary.
   * The answer is remembered per path and inode, so a file served again costs nothing more
   * than the fstat the caller already did; a swapped file has another inode and is checked.
   */
  async opened(fd: number, abs: string, st: Stats): Promise<boolean> {
    const id = identity(st);
    if (this.verified.get(abs) === id) return true;
    let real: string;
    try {
      real = hasProcFd ? await fs.readlink(`${PROC_FD}/${fd}`) : await resolvedSameInode(abs, st);
    } catch {
      return this.refused(abs);
    }
    if (!this.inside(real)) return this.refused(abs);
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(abs, id);
    return true;
  }

  /**
   * Open `abs` for reading if what opens lies inside the boundary: the handle (the caller closes
   * it) and its stat; 'outside' when it leads out; undefined when it cannot be opened.
   * O_NONBLOCK: a FIFO swapped into the tree must not park a thread in open().
   */
  async open(abs: string): Promise<{ handle: FileHandle; st: Stats } | 'outside' | undefined> {
    const handle = await fs.open(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch(() => undefined);
    if (!handle) return undefined;
    try {
      const st = await handle.stat();
      if (await this.opened(handle.fd, abs, st)) return { handle, st };
    } catch {
      /* closed below */
    }
    await handle.close().catch(() => {});
    return 'outside';
  }

  /** A whole regular file of at most `maxBytes`, read through a checked descriptor (undefined when not such a file). */
  async readFile(abs: string, maxBytes: number): Promise<{ bytes: Buffer; st: Stats } | 'outside' | undefined> {
    const opened = await this.open(abs);
    if (opened === undefined || opened === 'outside') return opened;
    const { handle, st } = opened;
    try {
      if (!st.isFile() || st.size > maxBytes) return undefined;
      return { bytes: await handle.readFile(), st };
    } catch {
      return undefined;
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** UTF-8 text of a regular file of at most `maxBytes`, opened and checked synchronously; undefined otherwise. */
  readTextSync(abs: string, maxBytes: number): string | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      if (!this.openedSync(fd, abs)) return undefined;
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > maxBytes) return undefined;
      return readFileSync(fd, 'utf8');
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private refused(abs: string): false {
    if (!this.reported.has(abs) && this.reported.size < MAX_VERIFIED) {
      this.reported.add(abs);
      this.onRefused?.(abs);
    }
    return false;
  }

  /**
   * For reading many files synchronously (a snapshot of 100,000 profiles): a checked file
   * descriptor per `rel` (relative to the boundary), or 'outside'; throws what open throws.
   * On Linux each directory is opened and checked once, and its files are opened through it
   * (`/proc/self/fd/D/name` with O_NOFOLLOW, as openat would): no swap of a directory above
   * or of the file for a link can redirect that open, and no per-file check is needed. A file
   * that is itself a link (or anything without /proc) is checked on its own descriptor.
   * Call close() when done.
   */
  syncOpener(): { open(rel: string): number | 'outside'; close(): void } {
    const dirs = new Map<string, number | undefined>();
    const dirFd = (dir: string): number | undefined => {
      if (dirs.has(dir)) return dirs.get(dir);
      let fd: number | undefined;
      try {
        fd = openSync(this.at(dir), constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
        if (!this.openedSync(fd, this.at(dir))) {
          closeSync(fd);
          fd = undefined;
        }
      } catch {
        fd = undefined;
      }
      dirs.set(dir, fd);
      return fd;
    };
    const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
    return {
      open: (rel) => {
        const d = hasProcFd ? dirFd(path.dirname(rel)) : undefined;
        if (d !== undefined) {
          try {
            return openSync(`${PROC_FD}/${d}/${path.basename(rel)}`, flags | constants.O_NOFOLLOW);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
            // The file is a link: resolved and checked on its own below.
          }
        }
        const abs = this.at(rel);
        const fd = openSync(abs, flags);
        if (this.openedSync(fd, abs)) return fd;
        closeSync(fd);
        return 'outside';
      },
      close: () => {
        for (const fd of dirs.values()) if (fd !== undefined) closeSync(fd);
        dirs.clear();
      },
    };
  }

  /** The same check for synchronous readers (snapshot building, secret files); not cached. */
  openedSync(fd: number, abs: string): boolean {
    try {
      const real = hasProcFd ? readlinkSync(`${PROC_FD}/${fd}`) : resolvedSameInodeSync(abs, fstatSync(fd));
      return this.inside(real);
    } catch {
      return false;
    }
  }
}

export function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep);
}

/** Whether the existing path `p` really (symlinks resolved) lies inside `root`. */
export async function reallyInside(root: string, p: string): Promise<boolean> {
  const [realRoot, real] = await Promise.all([fs.realpath(root), fs.realpath(p)]);
  return isInside(realRoot, real);
}

/** Without /proc: the resolved path, provided it still leads to the inode that was opened. */
async function resolvedSameInode(abs: string, st: Stats): Promise<string> {
  const real = await fs.realpath(abs);
  const now = await fs.stat(real);
  if (now.dev !== st.dev || now.ino !== st.ino) throw new Error('swapped while opening');
  return real;
}

function resolvedSameInodeSync(abs: string, st: Stats): string {
  const real = realpathSync(abs);
  const now = statSync(real);
  if (now.dev !== st.dev || now.ino !== st.ino) throw new Error('swapped while opening');
  return real;
}
