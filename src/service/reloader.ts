// Live reload: build a complete new snapshot from what changed, validate it, and swap it in
// only if it is clean. A bad edit leaves the last good snapshot serving and is reported
// (log, /healthz) until it is fixed.

import type { Logger } from 'pino';
import { affectedDevices } from '../snapshot/affected.js';
import { emptiedProfiles, stillEmpty } from '../check/emptied.js';
import { checkSnapshot } from '../check/check.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../check/diagnostics.js';
import { SMALL_FLEET, type ParseCache } from '../config/profiles.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { buildFromRoot, patchRoot, type RootFiles } from '../io/load-root.js';
import { createValidators, type Validators } from '../io/validators.js';
import { checkResourceFiles } from '../io/resource-checks.js';
import { waitForWrites } from '../io/settle.js';
import { collectGarbage, collectIfBloated, withoutForcedCollections } from './heap.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { timeSlices } from './slices.js';
import type { Pause } from '../config/steps.js';
import type { Provisioner, RenderCheck } from './provisioner.js';
import { validateRendered } from '../check/check-output.js';
import { redactSecrets } from '../config/secret-refs.js';
import { ROOT_ENTRIES } from '../io/load-root.js';
import type { Metrics } from '../metrics/index.js';
import { CheckThreads, type ThreadCheck } from './check-threads.js';

/** A file still changing while read is read again this often, this long apart, before it counts as an error. */
const CHANGING_RETRIES = 50;
const CHANGING_RETRY_MS = 100;

/** Everything a root holds: what a reload on request (SIGHUP) reads again. */
export const WHOLE_ROOT: readonly string[] = [...ROOT_ENTRIES, 'schemas', 'resources', 'firmware'];

export interface ReloadOutcome {
  ok: boolean;
  ms: number;
  errors: Diagnostic[];
  checkedDevices: number | 'all';
  /** Where the files were rendered and validated: the check threads, or the serving thread in slices. */
  checkedOn?: 'threads' | 'here';
}

export interface Health {
  ok: boolean;
  errors: Diagnostic[];
  /** Served anyway, but worth a look: profiles that were emptied since the last good config. */
  warnings?: Diagnostic[];
  /** Start-up validation of a large root, while it runs in the background. */
  validating?: { done: number; total: number };
  /**
   * The threads that check a large root's reloads; `ready` once they have checked the
   * start-up root (or a reload), so the next reload finds them warm.
   */
  reloadChecks?: { threads: number; ready: boolean };
  lastReload?: ReloadEntry;
  /** The last reloads, newest first (at most RELOAD_HISTORY), for the dashboard. */
  reloads?: ReloadEntry[];
}

export interface ReloadEntry {
  at: string;
  ok: boolean;
  ms: number;
  changed: string[];
}

/**
 * A root with at least this many devices has its reloads checked on the check threads; a
 * smaller one is checked here in slices, sooner than a thread could start, and starts none.
 */
const THREADED_FROM = 500;

export interface ReloaderOptions {
  /** The start-up build's parse cache: the first reload parses only what changed. */
  parseCache?: ParseCache;
  /** Threads that render and validate large reloads (none: every check runs here, in slices). */
  threads?: CheckThreads;
}

/** Enough to see a pattern of failing reloads without growing memory. */
export const RELOAD_HISTORY = 20;

/**
 * Validate a whole snapshot (start-up) or only the devices a change touches (reload); with
 * `pause`, in slices that let the server answer phones meanwhile.
 */
export async function validateSnapshot(snap: Snapshot, validators: Validators, devices?: Set<string>, pause?: Pause): Promise<Diagnostic[]> {
  const found = [...snap.diagnostics];
  if (hasErrors(found)) return found;
  const result = await checkSnapshot(snap, validators, { devices, pause });
  for (const d of result.diagnostics) found.push(d);
  found.push(...(await checkResourceFiles(snap, validators.catalogs)));
  for (const p of validators.schemaProblems) found.push({ code: 'XSD_SCHEMA', severity: 'error', message: p });
  return found;
}

export class Reloader {
  private rootFiles: RootFiles;
  private readonly parseCache: ParseCache;
  private readonly threads: CheckThreads;
  private validators: Validators;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private health: Health = { ok: true, errors: [] };
  /**
   * Every path changed since the serving snapshot was built. A rejected edit stays on disk and
   * rides along in the next build, so each build is checked against all of these, not only its
   * own event: a later unrelated good edit must not put a rejected file live.
   */
  private sinceGood = new Set<string>();
  /**
   * False while start-up validation of a large root is under way or found invalid devices. A
   * reload checks only what changed since, so its snapshot inherits the render check and a
   * fresh background pass: no device goes unvalidated because a reload came first.
   */
  private fullyValidated = true;
  /** The files of the serving snapshot: what "was empty before" is judged against. */
  private goodFiles: RootFiles;
  /** EMPTY_PROFILE warnings of the serving snapshot, by root-relative path. */
  private emptied = new Map<string, Diagnostic>();
  /** Files that changed while being read: how often in a row, and the pending re-read. */
  private changingRetries = 0;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    rootFiles: RootFiles,
    private readonly provisioner: Provisioner,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    opts: ReloaderOptions = {},
  ) {
    this.parseCache = opts.parseCache ?? new Map();
    this.threads = opts.threads ?? new CheckThreads(0);
    // Primed at start-up up to SMALL_FLEET devices; a larger root's threads start with its
    // first reload, so start-up memory stays what it was (a thread holds its own parse).
    const devices = provisioner.current().profiles.devices.size;
    if (this.large() && devices <= SMALL_FLEET && this.threads.available()) {
      const started = performance.now();
      this.health = { ...this.health, reloadChecks: { threads: this.threads.count, ready: false } };
      void this.threads.prime(rootFiles).then((primed) => {
        if (!primed) return; // superseded by a reload, which says when it is done
        this.threadsReady();
        this.log.info({ event: 'check_threads_ready', threads: this.threads.count, files: primed.files, ms: Math.round(performance.now() - started) }, 'reload checks are ready on their own threads');
      });
    }
    this.rootFiles = rootFiles;
    this.goodFiles = rootFiles;
    this.validators = createValidators({ root: rootFiles.dir, resourceNames: rootFiles.resources });
  }

  status(): Health {
    return this.health;
  }

  /**
   * Problems beside a reload (the watcher failed on an entry, a reload could not read the
   * root at all, entries left unread at start-up): /healthz says so (503, with the reasons)
   * and the log has a line, while the last good snapshot keeps serving. The next accepted
   * reload clears them.
   */
  degrade(event: string, problems: Diagnostic[]): void {
    const fresh = problems.filter((p) => !this.health.errors.some((e) => e.code === p.code && e.message === p.message));
    this.health = { ...this.health, ok: false, errors: [...this.health.errors, ...fresh] };
    this.log.error({ event, errors: problems.map(formatDiagnostic) }, 'still serving the last good config');
  }

  /**
   * Validate every device of the serving snapshot in small slices, yielding to requests
   * between them (a 100,000-device root takes minutes to render in full; phones should not
   * wait for that). Until it finishes, renders are checked one by one before being served.
   */
  async validateInBackground(snap: Snapshot, slice = 250): Promise<Diagnostic[]> {
    const macs = [...snap.profiles.devices.keys()];
    const check = (r: Parameters<RenderCheck>[0], device: string | undefined) => {
      const found = validateRendered(r, device, this.validators);
      return Array.isArray(found) ? found : [];
    };
    this.provisioner.checkRendersWith(snap, check);
    this.fullyValidated = false;
    const errors: Diagnostic[] = [];
    const pause = timeSlices();
    this.health = { ...this.health, validating: { done: 0, total: macs.length } };
    for (let i = 0; i < macs.length; i += slice) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.provisioner.base() !== snap) return errors; // a reload replaced it (and validated its own)
      if (this.closed) return errors; // shutting down: Ctrl-C must not wait for 100,000 renders
      collectIfBloated();
      const found = await checkSnapshot(snap, this.validators, { devices: new Set(macs.slice(i, i + slice)), devicesOnly: true, pause });
      for (const d of found.diagnostics) if (d.severity === 'error') errors.push(d);
      this.health = { ...this.health, ok: errors.length === 0 && this.health.ok, errors: errors.length ? errors : this.health.errors, validating: { done: Math.min(i + slice, macs.length), total: macs.length } };
    }
    // Devices found invalid keep the check: they answer 500 until fixed, never their bytes.
    if (!errors.length) this.provisioner.checkRendersWith(snap, undefined);
    this.fullyValidated = errors.length === 0;
    collectGarbage();
    const { validating: _done, ...rest } = this.health;
    this.health = rest;
    if (errors.length) this.log.error({ event: 'validation_failed', errors: errors.slice(0, 50).map((d) => redactSecrets(formatDiagnostic(d), snap.secrets)), count: errors.length }, 'some devices have invalid files; they answer 500 until fixed');
    else this.log.info({ event: 'validated', devices: macs.length }, 'every device validated');
    return errors;
  }

  /** Reloads run one at a time, in order; each sees the files as they are when it runs. */
  reload(changed: string[]): Promise<ReloadOutcome> {
    const run = this.queue.then(() => withoutForcedCollections(() => this.reloadNow(changed)));
    this.queue = run.catch(() => this.metrics?.recordReload('failed'));
    return run;
  }

  /**
   * Read and check the whole root again, as if every file had changed (SIGHUP, `systemctl
   * reload`): for edits the watcher cannot see, such as on a network share.
   */
  reloadAll(): Promise<ReloadOutcome> {
    this.log.info({ event: 'reload_requested' }, 'reloading the whole root on request');
    return this.reload([...WHOLE_ROOT]);
  }

  private async reloadNow(changed: string[]): Promise<ReloadOutcome> {
    const started = performance.now();
    // Phones are served by this thread too: what it builds and checks here goes in slices
    // that yield to them (a thread cannot hand back a snapshot: it holds compiled templates).
    const pause = timeSlices();
    await waitForWrites(this.rootFiles.dir, changed);
    const nextFiles = await patchRoot(this.rootFiles, changed);
    const changing = nextFiles.problems.filter((p) => p.code === 'FILE_CHANGING');
    if (changing.length && this.changingRetries < CHANGING_RETRIES) {
      // Torn read: nothing is built from it; the same paths are read again shortly.
      this.changingRetries++;
      this.log.info({ event: 'reload_deferred', changed, files: changing.map((d) => d.loc?.file) }, 'a file is still being written: reading it again shortly');
      this.retryTimer = setTimeout(() => void this.reload(changed), CHANGING_RETRY_MS);
      return { ok: false, ms: Math.round(performance.now() - started), errors: changing, checkedDevices: 0 };
    }
    this.changingRetries = 0;
    const freshValidators = changed.some((c) => c.startsWith('schemas') || c.startsWith('resources'));
    for (const c of changed) this.sinceGood.add(c);
    // The check threads build the same snapshot from the same texts and start checking it
    // while this thread builds its own.
    await nextTurn(); // reading the change was one step, handing it over is the next
    const session = this.large() ? this.threads.begin(nextFiles, freshValidators) : undefined;
    const threadCheck = session?.check([...this.sinceGood]);
    threadCheck?.catch(() => undefined); // awaited below, or replaced by a check here
    let snap: Snapshot;
    let found: Diagnostic[];
    let affected: Set<string> | 'all';
    let checkedOn: 'threads' | 'here';
    try {
      await nextTurn();
      snap = await buildFromRoot(nextFiles, this.parseCache, pause);
      if (freshValidators) {
        // Compiled schemas are cached by path: an edited XSD needs a fresh engine.
        await this.validators.close();
        this.validators = createValidators({ root: nextFiles.dir, resourceNames: nextFiles.resources });
      }
      affected = affectedDevices(snap, this.sinceGood);
      ({ found, on: checkedOn } = await this.validate(snap, affected === 'all' ? undefined : affected, pause, threadCheck));
    } finally {
      session?.end();
    }
    const errors = found.filter((d) => d.severity === 'error');
    const emptied = emptiedProfiles(this.goodFiles.files, nextFiles.files, this.sinceGood, snap.display);
    if (emptied.size) this.log.warn({ event: 'profile_emptied', files: [...emptied.values()].map(formatDiagnostic) }, 'a profile that had settings is empty now');
    const ms = Math.round(performance.now() - started);
    const at = new Date().toISOString();
    this.metrics?.recordReload(errors.length ? 'rejected' : 'accepted', ms);
    const entry: ReloadEntry = { at, ok: errors.length === 0, ms, changed };
    const reloads = [entry, ...(this.health.reloads ?? [])].slice(0, RELOAD_HISTORY);
    if (errors.length) {
      this.health = { ok: false, errors, warnings: [...this.emptied.values(), ...emptied.values()], lastReload: entry, reloads, reloadChecks: this.health.reloadChecks };
      this.log.error({ event: 'reload_rejected', changed, errors: errors.map((d) => redactSecrets(formatDiagnostic(d), snap.secrets)), snapshot: this.provisioner.current().id }, 'reload rejected: still serving the last good config');
    } else {
      // Only a good build moves the baseline; the next change is patched onto files that
      // include this one's, good or bad, so a fix is seen as soon as it is saved.
      this.provisioner.swap(snap);
      this.sinceGood.clear();
      this.goodFiles = nextFiles;
      this.emptied = new Map([...stillEmpty(this.emptied, nextFiles.files), ...emptied]);
      if (!this.fullyValidated) void this.validateInBackground(snap);
      this.health = { ok: true, errors: [], warnings: [...this.emptied.values()], lastReload: entry, reloads, reloadChecks: this.health.reloadChecks };
      this.log.info({ event: 'reloaded', changed, snapshot: snap.id, devices: snap.profiles.devices.size, ms, checkedOn }, 'reloaded');
    }
    this.rootFiles = nextFiles;
    return { ok: errors.length === 0, ms, errors, checkedDevices: affected === 'all' ? 'all' : affected.size, checkedOn };
  }

  private threadsReady(): void {
    if (this.health.reloadChecks) this.health = { ...this.health, reloadChecks: { ...this.health.reloadChecks, ready: true } };
  }

  /** Only a root this large can have a reload worth a thread; a small one never starts any. */
  private large(): boolean {
    return this.provisioner.current().profiles.devices.size >= THREADED_FROM;
  }

  /**
   * Check a reload's snapshot: the check threads' verdict when they have one, so phones are
   * answered at full speed meanwhile; else here, in slices. A thread that fails never lets a
   * reload through unchecked: its share is checked here.
   */
  private async validate(snap: Snapshot, devices: Set<string> | undefined, pause: Pause, threadCheck: Promise<ThreadCheck> | undefined): Promise<{ found: Diagnostic[]; on: 'threads' | 'here' }> {
    if (threadCheck && !hasErrors(snap.diagnostics)) {
      try {
        const checked = await threadCheck;
        this.threadsReady();
        const found = [...snap.diagnostics, ...checked.diagnostics, ...(await checkResourceFiles(snap, this.validators.catalogs))];
        for (const p of new Set([...checked.schemaProblems, ...this.validators.schemaProblems])) found.push({ code: 'XSD_SCHEMA', severity: 'error', message: p });
        return { found, on: 'threads' };
      } catch (e) {
        this.log.warn({ event: 'check_thread_failed', err: redactSecrets(e instanceof Error ? e.message : String(e), snap.secrets) }, 'a reload-check thread failed: checking this reload on the serving thread');
      }
    }
    return { found: await validateSnapshot(snap, this.validators, devices, pause), on: 'here' };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.queue;
    await this.validators.close();
    await this.threads.close();
  }
}
