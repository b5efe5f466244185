// Render and validate a reload of a large root on threads of their own. A global edit at
// 10,000 devices is seconds of rendering and validation; on the serving thread, even in
// slices, every phone's answer waited behind it (issue 14.9). A snapshot holds compiled
// templates and closures and cannot be handed to a thread, so each thread builds the same
// snapshot from the same texts (sent as the changes since its last build), works out which
// devices the change can affect, and checks its share of their files.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { dedupe, type CheckResult } from '../check/check.js';
import type { Diagnostic } from '../check/diagnostics.js';
import type { RootFiles } from '../io/load-root.js';
import { PACKAGE_ROOT } from '../io/package-root.js';
import type { FilesMessage, FromCheckThread, ToCheckThread } from './check-thread.js';

/**
 * One thread per core beyond the serving one, at least one and at most four (past four a
 * reload waits on the server's own build). `serveProcesses` (serve --workers) share the cores.
 */
export function defaultCheckThreads(serveProcesses = 1): number {
  return Math.min(4, Math.max(1, Math.floor(availableParallelism() / serveProcesses) - 1));
}

export interface ThreadCheck extends CheckResult {
  schemaProblems: string[];
}

/** One reload's use of the threads: they get its texts at once and build while the server does. */
export interface ThreadSession {
  /**
   * Check what the changed paths `since` can affect (as affectedDevices sees it in the
   * build's snapshot). Rejects if a thread fails.
   */
  check(since: readonly string[]): Promise<ThreadCheck>;
  /** The threads may drop this build's snapshot (it is as large as the server's). */
  end(): void;
}

/** The compiled thread script; undefined where there is none (the tests run the TypeScript sources before a build). */
function threadScript(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? path.join(PACKAGE_ROOT, 'dist', 'service', 'check-thread.js') : path.join(path.dirname(here), 'check-thread.js');
  return existsSync(js) ? js : undefined;
}

class CheckThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (m: FromCheckThread) => void; reject: (e: Error) => void }>();
  /** The root texts this thread holds, as of the last build sent: changes are sent against them. */
  private sent?: RootFiles;
  dead?: Error;

  constructor(script: string) {
    // SHARE_ENV: ${env:…} references resolve here as they do on the server's thread.
    this.worker = new Worker(script, { env: SHARE_ENV });
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('message', (m: FromCheckThread) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (!this.waiting.size) this.worker.unref();
      w?.resolve(m);
    });
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('a reload-check thread stopped')));
    // An idle thread must not hold a stopping server open.
    this.worker.unref();
  }

  sendFiles(build: number, rf: RootFiles, freshValidators: boolean): void {
    const prev = this.sent?.files;
    const set: Array<[string, string]> = [];
    for (const [rel, text] of rf.files) if (prev?.get(rel) !== text) set.push([rel, text]);
    const deleted = prev ? [...prev.keys()].filter((rel) => !rf.files.has(rel)) : [];
    const fresh = freshValidators || this.sent?.dir !== rf.dir;
    const m: FilesMessage = { kind: 'files', build, dir: rf.dir, set, deleted, resources: [...rf.resources], firmware: rf.firmware, firmwareSizes: [...rf.firmwareSizes], freshValidators: fresh };
    this.post(m);
    this.sent = rf;
  }

  check(id: number, build: number, since: readonly string[], shard: number, of: number): Promise<ThreadCheck> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<FromCheckThread>((resolve, reject) => {
      if (!this.waiting.size) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.post({ kind: 'check', id, build, since: [...since], shard, of });
    }).then((m) => {
      if ('error' in m) throw new Error(`reload-check thread: ${m.error}`);
      return m;
    });
  }

  done(build: number): void {
    if (!this.dead) this.post({ kind: 'done', build });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.ref();
    this.post('close');
    await exited;
  }

  private post(m: ToCheckThread): void {
    this.worker.postMessage(m);
  }
}

export class CheckThreads {
  private threads: CheckThread[] = [];
  private build = 0;
  private nextId = 1;

  /** `count` threads (0: none; every check stays on the caller's thread), started on first use. */
  constructor(readonly count: number) {}

  /** Whether checks can go to threads here: threads were asked for, and the build has their script. */
  available(): boolean {
    return this.count > 0 && threadScript() !== undefined;
  }

  /** Send the threads the root's texts for a new build; undefined when there are no threads. */
  begin(rf: RootFiles, freshValidators: boolean): ThreadSession | undefined {
    if (!this.available()) return undefined;
    const threads = this.live();
    const build = ++this.build;
    for (const t of threads) t.sendFiles(build, rf, freshValidators);
    return {
      check: async (since) => {
        const results = await Promise.all(threads.map((t, i) => t.check(this.nextId++, build, since, i, threads.length)));
        const diagnostics: Diagnostic[] = results.flatMap((r) => r.diagnostics);
        return { diagnostics: dedupe(diagnostics), files: results.reduce((n, r) => n + r.files, 0), schemaProblems: [...new Set(results.flatMap((r) => r.schemaProblems))] };
      },
      end: () => {
        for (const t of threads) t.done(build);
      },
    };
  }

  /**
   * Check the start-up root on the threads and drop the result: the first reload then finds
   * their parse caches, remembered passes and compiled code warm, as later reloads do. Any
   * reload supersedes it at once.
   */
  prime(rf: RootFiles): Promise<ThreadCheck | undefined> {
    const session = this.begin(rf, false);
    if (!session) return Promise.resolve(undefined);
    return session
      .check(['profiles'])
      .catch(() => undefined)
      .finally(() => session.end());
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((t) => t.close()));
  }

  /** The threads, replacing any that died (a thread's death fails one check, not every later one). */
  private live(): CheckThread[] {
    const script = threadScript()!;
    this.threads = this.threads.filter((t) => !t.dead);
    while (this.threads.length < this.count) this.threads.push(new CheckThread(script));
    return this.threads;
  }
}
