// Files phones write back to the provisioning server with HTTP PUT: logs, setting overrides
// made on the phone, directories, call lists. Which names a phone may write is each vendor's
// `uploadKinds` (src/vendors/<id>/index.ts); this store is the same for all.
//
// This is the only code in deskset that writes where a client chooses the name, so it is
// deliberately paranoid:
//   - an allow-list of exact names (`<12 hex>-<known suffix>`), nothing else is ever a path;
//   - every path is resolved and asserted to stay under the state directory, and no symlink
//     inside it is followed (lstat on every component, O_NOFOLLOW/O_EXCL on opens);
//   - sizes are bounded twice: by the declared Content-Length before reading, and by counting
//     bytes while reading (we stop as soon as a limit is crossed);
//   - temp files count against the device quota: an upload reserves its declared length (or,
//     streamed without one, each chunk as it arrives) before writing it, and only
//     `maxConcurrentPerDevice` uploads per device run at once (upload-quota.ts);
//   - every write is atomic: a unique temp file in the target's directory, fsync, rename over
//     the target, fsync the directory. A torn or refused upload never replaces a good file.
//     A log append goes in place behind a journal (the old length, fsynced first), so a crash
//     mid-append is rolled back at the next start instead of leaving a torn day file;
//   - temp files and journals carry the writer's pid: at start-up those of dead processes are
//     removed (a kill -9 mid-upload never reaches its cleanup).
//
// Layout inside `dir` (the state directory, by convention `<config root>/var`, which the config
// watcher does not watch):
//   uploads/<mac>/<mac>-<suffix>      overrides, directories, call lists: replaced by each PUT
//   logs/<mac>/<YYYY-MM-DD>-<stem>.log  logs: each PUT is appended to the file of its UTC day
//                                      (phones append to their logs over a day); pruned after
//                                      `logRetentionDays`.
// Files are created 0600 and directories 0700: a phone's override file can hold the SIP
// password a user typed on the phone.

import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Confinement, reallyInside } from '../io/confine.js';
import { DEFAULT_UPLOADS } from '../config/root-config.js';
import { UploadQuota, type UploadSlot } from './upload-quota.js';
import {
  byName,
  classifyUpload,
  dayLogName,
  deviceMac,
  firstKeptDay,
  KINDS,
  planPut,
  readBounded,
  resolveLimits,
  UPLOAD_KINDS,
  utcDay,
  type PutResult,
  type Received,
  type StoredUpload,
  type UploadBackend,
  type UploadBody,
  type UploadedFile,
  type UploadKind,
  type UploadLimits,
} from './upload-backend.js';

import { STREAMED } from './upload-backend.js';
export { STREAMED, UPLOAD_KINDS, type PutResult, type PutStatus, type UploadedFile, type UploadKind } from './upload-backend.js';

const LOG_DAY_FILE = /^(\d{4}-\d{2}-\d{2})-(.+)\.log$/;
/** `.<name>.<pid>.<random>.tmp` (older releases wrote `.<name>.<random>.tmp`, without the pid). */
const TEMP_FILE = /^\.(.+?)(?:\.(\d+))?\.[0-9a-f]{16}\.tmp$/;
/** `.<day file>.<pid>.append`: the day file's length before an append that is in progress. */
const APPEND_JOURNAL = /^\.(.+)\.(\d+)\.append$/;

// The defaults live with the rest of deskset.yaml's (`uploads:`).
export const DEFAULT_MAX_FILE_BYTES = DEFAULT_UPLOADS.maxFileBytes;
export const DEFAULT_MAX_LOG_BYTES = DEFAULT_UPLOADS.maxLogBytes;
export const DEFAULT_MAX_DEVICE_BYTES = DEFAULT_UPLOADS.maxDeviceBytes;
export const DEFAULT_LOG_RETENTION_DAYS = DEFAULT_UPLOADS.logRetentionDays;
export const DEFAULT_MAX_CONCURRENT_PER_DEVICE = DEFAULT_UPLOADS.maxConcurrentPerDevice;

export interface UploadStoreOptions extends UploadLimits {
  /** The writable state directory. By convention `<config root>/var` (see `defaultUploadDir`). */
  dir: string;
  /**
   * The config root, when the state directory is inside it (`var/`): the directory must then
   * really be inside it too, so a `var` replaced by a symlink out of the root is refused.
   */
  within?: string;
}

/** The conventional state directory for a config root. */
export function defaultUploadDir(configRoot: string): string {
  return path.join(configRoot, 'var');
}

/** Thrown internally when the state directory holds something we refuse to touch (a symlink...). */
class Refused extends Error {}

export class UploadStore implements UploadBackend {
  readonly where = 'disk';
  readonly dir: string;
  private readonly maxDeviceBytes: number;
  private readonly limits: ReturnType<typeof resolveLimits>;
  private readonly now: () => Date;
  private readonly within?: string;
  private confinement?: Confinement;
  private readonly quota: UploadQuota;
  /** Per-device commit lock: quota re-check, log read-append and rename happen one at a time. */
  private readonly locks = new Map<string, Promise<void>>();

  constructor(opts: UploadStoreOptions) {
    this.dir = path.resolve(opts.dir);
    this.limits = resolveLimits(opts);
    this.maxDeviceBytes = this.limits.maxDeviceBytes;
    this.now = this.limits.now;
    this.within = opts.within === undefined ? undefined : path.resolve(opts.within);
    this.quota = new UploadQuota(this.maxDeviceBytes, this.limits.maxConcurrentPerDevice);
  }

  /** `<mac>-<suffix>` with a known suffix, or undefined. Pure: no I/O. */
  classify(name: string): { mac: string; kind: UploadKind } | undefined {
    return classifyUpload(name);
  }

  /**
   * Store one upload. `body` is read at most up to the applicable limit; on an early stop it is
   * left unconsumed and not destroyed (destroying an HTTP request destroys its socket, and the
   * caller still has to answer), so an HTTP caller should close the connection afterwards.
   * `declaredLength` is the Content-Length, or STREAMED for a body of unknown length (chunked),
   * which is then refused as soon as it crosses the per-file cap or the room left in the quota.
   *
   * 201 created, 204 replaced/appended, 400 short/long/aborted body, 403 not an allowed name or
   * a symlink in the way, 411 no length, 413 over the per-file cap or the device quota
   * (counting uploads in flight), 429 too many uploads already waiting for this device, 507
   * disk full. Unexpected filesystem errors are thrown (after cleaning up the temp file).
   */
  async put(name: string, body: UploadBody, declaredLength: number | typeof STREAMED | undefined): Promise<PutResult> {
    const plan = planPut(name, declaredLength, this.limits);
    if ('status' in plan) return plan;
    // Waits (body unread) while the device has maxConcurrentPerDevice uploads running.
    const slot = await this.quota.begin(plan.mac);
    if (!slot) return { status: 429, reason: 'too many uploads waiting for this device', bytes: 0 };
    try {
      return await this.putReserved(plan.mac, plan.kind, slot, body, plan.declared, plan.cap);
    } finally {
      slot.release();
    }
  }

  private async putReserved(mac: string, kind: UploadKind, slot: UploadSlot, body: UploadBody, declared: number | undefined, cap: number): Promise<PutResult> {
    const storage = UPLOAD_KINDS[kind].storage;
    let target: { dir: string; file: string };
    try {
      target = await this.prepareTarget(mac, kind);
      // Reserve before the first byte is written, so temp files never outgrow the quota;
      // measured under the lock, where commits happen, so the ledger matches the disk.
      const fits = await this.withDeviceLock(mac, async () => {
        const u = await this.usage(mac, target.file);
        slot.measured(u.total);
        if (storage === 'file') slot.replaces(target.file, u.current);
        return slot.reserve(declared ?? 0);
      });
      if (!fits) return { status: 413, reason: 'exceeds device quota', bytes: 0 };
    } catch (err) {
      if (err instanceof Refused) return { status: 403, reason: err.message };
      if (isNoSpace(err)) return { status: 507, reason: 'no space left on the state directory' };
      throw err;
    }

    const tmp = this.tempPath(target.dir, path.basename(target.file));
    let bytes = 0;
    try {
      // A streamed body grows its reservation chunk by chunk; a declared one reserved it all.
      const received = await this.receive(body, tmp, declared, cap, declared === undefined ? (n) => slot.reserve(n) : undefined);
      bytes = received.bytes;
      if (received.status) return { status: received.status, reason: received.reason, bytes };
      return await this.withDeviceLock(mac, async () => {
        // Defence in depth: the reservation already guarantees this for uploads of this process.
        const after = await this.usageAfter(mac, target.file, storage, bytes);
        if (after > this.maxDeviceBytes) return { status: 413, reason: 'exceeds device quota', bytes };
        let existed: boolean;
        if (storage === 'log' && (await this.appendInPlace(tmp, target))) existed = true;
        else {
          existed = storage === 'log' ? false : await this.exists(target.file);
          await fsp.rename(tmp, target.file);
          await syncDir(target.dir);
        }
        slot.release(after);
        return existed ? { status: 204, reason: storage === 'log' ? 'appended' : 'replaced', bytes } : { status: 201, reason: 'created', bytes };
      });
    } catch (err) {
      if (err instanceof Refused) return { status: 403, reason: err.message, bytes };
      if (isNoSpace(err)) return { status: 507, reason: 'no space left on the state directory', bytes };
      throw err;
    } finally {
      // After a successful rename the temp name is gone (ENOENT): nothing to do.
      await fsp.unlink(tmp).catch(() => {});
    }
  }

  /** Where an uploaded non-log file is, for serving it back; undefined for logs and absent files. */
  async get(name: string): Promise<(StoredUpload & { kind: 'file' }) | undefined> {
    const c = this.classify(name);
    if (!c || UPLOAD_KINDS[c.kind].storage === 'log') return undefined;
    const devDir = this.under('uploads', c.mac);
    const file = this.under('uploads', c.mac, `${c.mac}-${c.kind}`);
    try {
      await this.assertContained();
      // Every component must be a real directory/file: a symlink planted in the state
      // directory must not turn GET into a read of /etc.
      for (const d of [this.under('uploads'), devDir]) if (!(await fsp.lstat(d)).isDirectory()) return undefined;
      const st = await fsp.lstat(file);
      // The reader checks the opened file again (it may be swapped after this lstat).
      this.confinement ??= new Confinement(this.dir);
      return st.isFile() ? { kind: 'file', path: file, size: st.size, confine: this.confinement } : undefined;
    } catch (err) {
      if (isMissing(err) || err instanceof Refused) return undefined;
      throw err;
    }
  }

  /** Everything a device has stored here, sorted by name: its uploaded files, then its day logs. */
  async listForDevice(mac: string): Promise<UploadedFile[]> {
    const m = deviceMac(mac);
    if (m === undefined) return [];
    const out: UploadedFile[] = [];
    for (const e of await this.regularFiles(this.under('uploads', m))) {
      const c = this.classify(e.name);
      if (c && c.mac === m && e.name === `${m}-${c.kind}`) out.push({ name: e.name, kind: c.kind, size: e.size, mtime: e.mtime });
    }
    const logs: UploadedFile[] = [];
    for (const e of await this.regularFiles(this.under('logs', m))) {
      const kind = logKindOf(e.name);
      if (kind) logs.push({ name: e.name, kind, size: e.size, mtime: e.mtime });
    }
    return [...out.sort(byName), ...logs.sort(byName)];
  }

  /**
   * Delete day log files whose day is more than logRetentionDays before today (UTC): with 10,
   * on 2024-05-20 the files of 2024-05-10 and later stay. Returns how many were deleted.
   */
  async pruneLogs(): Promise<number> {
    const keep = firstKeptDay(this.now(), this.limits.logRetentionDays);
    let deleted = 0;
    const logsDir = this.under('logs');
    for (const dev of await this.realDirs(logsDir)) {
      const devDir = this.under('logs', dev);
      for (const e of await this.regularFiles(devDir)) {
        if (!logKindOf(e.name)) continue;
        // YYYY-MM-DD compares as text.
        if (e.name.slice(0, 10) >= keep) continue;
        await fsp.unlink(path.join(devDir, e.name)).then(
          () => deleted++,
          (err: unknown) => {
            if (!isMissing(err)) throw err;
          },
        );
      }
    }
    return deleted;
  }

  /**
   * Clean up after a crash (a process killed mid-upload never reaches its cleanup): roll back
   * log appends a dead process left half done, and remove temp files of dead processes, or
   * older than `olderThanMs` whoever wrote them. Uploads in flight (this process's, or another
   * live worker's) are untouched. Returns how many temp files were removed.
   */
  async removeStaleTemps(olderThanMs = 60 * 60 * 1000): Promise<number> {
    // File mtimes are wall-clock times, so compare with the wall clock, not the injectable one.
    const before = Date.now() - olderThanMs;
    let removed = 0;
    for (const top of ['uploads', 'logs']) {
      for (const dev of await this.realDirs(this.under(top))) {
        const devDir = this.under(top, dev);
        const entries = await this.regularFiles(devDir, true);
        for (const e of entries) {
          const j = APPEND_JOURNAL.exec(e.name);
          if (j && !isAlive(Number(j[2]))) await rollBackAppend(devDir, j[1]!, e.name);
        }
        for (const e of entries) {
          const m = TEMP_FILE.exec(e.name);
          if (!m) continue;
          const ownerDead = m[2] !== undefined && !isAlive(Number(m[2]));
          if (!ownerDead && e.mtime.getTime() >= before) continue;
          await fsp.unlink(path.join(devDir, e.name)).then(() => removed++, () => {});
        }
      }
    }
    return removed;
  }

  // ---- internals ----

  /** Join under the state directory and assert the result stays inside it. */
  private under(...parts: string[]): string {
    const p = path.resolve(this.dir, ...parts);
    const rel = path.relative(this.dir, p);
    // Defence in depth: classify() already makes this impossible; if it ever is not, fail loudly.
    if (rel === '' || rel.split(path.sep)[0] === '..' || path.isAbsolute(rel)) throw new Error('upload path escapes the state directory');
    return p;
  }

  /** With `within`: the state directory as it really is now must lie inside the config root. */
  private async assertContained(): Promise<void> {
    if (this.within === undefined) return;
    if (!(await reallyInside(this.within, this.dir))) throw new Refused('the state directory leads outside the config root');
  }

  private tempPath(dir: string, base: string): string {
    return path.join(dir, `.${base}.${process.pid}.${crypto.randomBytes(8).toString('hex')}.tmp`);
  }

  /** Create (or verify) the directories of a target, refusing anything that is not a real directory. */
  private async prepareTarget(mac: string, kind: UploadKind): Promise<{ dir: string; file: string }> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.assertContained();
    const top = UPLOAD_KINDS[kind].storage === 'log' ? 'logs' : 'uploads';
    const dir = this.under(top, mac);
    await ensureRealDir(this.under(top));
    await ensureRealDir(dir);
    const file = UPLOAD_KINDS[kind].storage === 'log' ? this.under(top, mac, dayLogName(utcDay(this.now()), kind)) : this.under(top, mac, `${mac}-${kind}`);
    return { dir, file };
  }

  /**
   * Stream `body` into a new temp file, counting bytes. Returns a refusal status, or none when
   * exactly `declared` bytes (any number, when undefined) arrived and are on disk (fsynced).
   * `reserve` is asked for room in the quota before each chunk is written.
   */
  private async receive(body: UploadBody, tmp: string, declared: number | undefined, cap: number, reserve?: (bytes: number) => boolean): Promise<Received> {
    // O_EXCL: never reuse an existing name; O_NOFOLLOW: never write through a planted symlink.
    const handle = await fsp.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      const r = await readBounded(body, declared, cap, (chunk) => writeAll(handle, chunk), reserve);
      if (r.status === undefined) await handle.sync();
      return r;
    } finally {
      await handle.close();
    }
  }

  /**
   * For a log: append the received body (`tmp`) to today's file in place, behind a journal
   * that holds the old length, so a crash mid-append is rolled back at the next start
   * (removeStaleTemps) rather than leaving a torn day file. In place, not copy-and-rename: a
   * copy would put the whole day file on disk twice, beyond the quota. Runs under the device
   * lock. Returns false when there is no day file yet (the caller renames `tmp` into place).
   */
  private async appendInPlace(tmp: string, target: { dir: string; file: string }): Promise<boolean> {
    let out: FileHandle;
    try {
      // O_NONBLOCK: a FIFO planted in the state directory must not park a thread in open().
      out = await fsp.open(target.file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (err) {
      if (isMissing(err)) return false;
      if (isCode(err, 'ELOOP')) throw new Refused('symlink in the state directory');
      throw err;
    }
    const journal = path.join(target.dir, `.${path.basename(target.file)}.${process.pid}.append`);
    let oldSize: number | undefined;
    try {
      const st = await out.stat();
      if (!st.isFile()) throw new Refused('not a regular file in the state directory');
      oldSize = st.size;
      await writeDurably(journal, `${oldSize}\n`);
      await syncDir(target.dir);
      const fresh = await fsp.open(tmp, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        await copyInto(fresh, out, oldSize);
      } finally {
        await fresh.close();
      }
      await out.sync();
      oldSize = undefined; // committed: nothing to roll back
      await fsp.unlink(journal);
      return true;
    } finally {
      // A failed append (disk full...) is undone now rather than at the next start.
      if (oldSize !== undefined) await out.truncate(oldSize).then(() => out.sync()).then(() => fsp.unlink(journal)).catch(() => {});
      await out.close();
    }
  }

  /** The device's committed bytes, and those of `file` among them (what a replace frees). */
  private async usage(mac: string, file: string): Promise<{ total: number; current: number }> {
    let total = 0;
    let current = 0;
    for (const top of ['uploads', 'logs']) {
      const devDir = this.under(top, mac);
      for (const e of await this.regularFiles(devDir)) {
        total += e.size;
        if (path.join(devDir, e.name) === file) current = e.size;
      }
    }
    return { total, current };
  }

  /** Bytes the device would hold if `file` got `incoming` bytes (replacing it, or appended for logs). */
  private async usageAfter(mac: string, file: string, storage: 'log' | 'file', incoming: number): Promise<number> {
    const { total, current } = await this.usage(mac, file);
    return storage === 'log' ? total + incoming : total - current + incoming;
  }

  private async exists(file: string): Promise<boolean> {
    try {
      await fsp.lstat(file);
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  /** Regular files directly in `dir` (lstat: symlinks are not files here); dotfiles only on request. */
  private async regularFiles(dir: string, dotfiles = false): Promise<Array<{ name: string; size: number; mtime: Date }>> {
    const out: Array<{ name: string; size: number; mtime: Date }> = [];
    if (!(await isRealDir(dir))) return out;
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith('.') !== dotfiles) continue;
      const st = await fsp.lstat(path.join(dir, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ name, size: st.size, mtime: st.mtime });
    }
    return out;
  }

  /** Device directories under `dir` that are real directories named by a canonical MAC. */
  private async realDirs(dir: string): Promise<string[]> {
    if (!(await isRealDir(dir))) return [];
    const out: string[] = [];
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (/^[0-9a-f]{12}$/.test(name) && (await isRealDir(path.join(dir, name)))) out.push(name);
    }
    return out;
  }

  private async withDeviceLock<T>(mac: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(mac) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chain = prev.then(() => mine);
    this.locks.set(mac, chain);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      // Drop the entry when nobody queued behind us, so the map does not grow with every phone.
      if (this.locks.get(mac) === chain) this.locks.delete(mac);
    }
  }
}

function logKindOf(fileName: string): UploadKind | undefined {
  const m = LOG_DAY_FILE.exec(fileName);
  if (!m) return undefined;
  const kind = `${m[2]}.log`;
  const spec = KINDS.get(kind);
  return spec?.storage === 'log' ? (kind as UploadKind) : undefined;
}

async function ensureRealDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
    return;
  } catch (err) {
    if (!isCode(err, 'EEXIST')) throw err;
  }
  // lstat, not stat: a symlink to a directory elsewhere (uploads/<mac> -> /etc) is refused.
  const st = await fsp.lstat(dir);
  if (st.isSymbolicLink()) throw new Refused('symlink in the state directory');
  if (!st.isDirectory()) throw new Refused('not a directory in the state directory');
}

async function isRealDir(dir: string): Promise<boolean> {
  const st = await fsp.lstat(dir).catch(() => undefined);
  return st?.isDirectory() ?? false;
}

async function writeAll(handle: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await handle.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** Copy all of `from` into `to` starting at byte `at`. */
async function copyInto(from: FileHandle, to: FileHandle, at: number): Promise<void> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = at;
  for (;;) {
    const { bytesRead } = await from.read(buf, 0, buf.length, null);
    if (bytesRead === 0) return;
    let off = 0;
    while (off < bytesRead) {
      const { bytesWritten } = await to.write(buf, off, bytesRead - off, pos);
      off += bytesWritten;
      pos += bytesWritten;
    }
  }
}

/** A small file, fsynced before this returns (created new: never through a planted name). */
async function writeDurably(file: string, text: string): Promise<void> {
  const h = await fsp.open(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    await writeAll(h, Buffer.from(text));
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Undo an append a dead process left half done: cut the day file back to the length its
 * journal recorded. A journal that is not a length (torn before the append began) is dropped.
 */
async function rollBackAppend(devDir: string, dayFile: string, journalName: string): Promise<void> {
  const journal = path.join(devDir, journalName);
  const text = await fsp.readFile(journal, 'utf8').catch(() => '');
  const m = /^(\d{1,15})\n$/.exec(text);
  if (m && LOG_DAY_FILE.test(dayFile)) {
    const h = await fsp.open(path.join(devDir, dayFile), fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK).catch(() => undefined);
    if (h) {
      try {
        const st = await h.stat();
        if (st.isFile() && st.size > Number(m[1])) {
          await h.truncate(Number(m[1]));
          await h.sync();
        }
      } finally {
        await h.close();
      }
    }
  }
  await fsp.unlink(journal).catch(() => {});
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isCode(err, 'EPERM');
  }
}

/** Make a rename durable: without this a crash can forget the new directory entry. */
async function syncDir(dir: string): Promise<void> {
  let h: FileHandle | undefined;
  try {
    h = await fsp.open(dir, fs.constants.O_RDONLY);
    await h.sync();
  } catch (err) {
    // Some platforms/filesystems cannot fsync a directory; the rename itself already happened.
    if (!isCode(err, 'EINVAL') && !isCode(err, 'EISDIR') && !isCode(err, 'EPERM') && !isCode(err, 'ENOTSUP')) throw err;
  } finally {
    await h?.close();
  }
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
function isMissing(err: unknown): boolean {
  return isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR');
}
function isNoSpace(err: unknown): boolean {
  return isCode(err, 'ENOSPC') || isCode(err, 'EDQUOT');
}
