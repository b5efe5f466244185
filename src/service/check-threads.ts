// Render and validate a reload of a large root on threads of their own. A global edit at
// 10,000 devices is seconds of rendering and validation; on the serving thread, even in
// slices, every phone's answer waited behind it (issue 14.9). A snapshot holds compiled
// templates and closures and cannot be handed to a thread, so each thread builds the same
// snapshot from the same texts (sent as the changes since its last build), works out which
// devices the change can affect, and checks its share of their files.

import { availableParallelism } from 'node:os';
import { SHARE_ENV } from 'node:worker_threads';
import { dedupe, type CheckResult } from '../check/check.js';
import type { Diagnostic } from '../check/diagnostics.js';
import type { RootFiles } from '../io/load-root.js';
import { ThreadCalls, threadScript } from '../io/thread-calls.js';
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

class CheckThread {
  private readonly thread: ThreadCalls<FromCheckThread>;
  /** The root texts this thread holds, as of the last build sent: changes are sent against them. */
  private sent?: RootFiles;

  constructor(script: string) {
    // SHARE_ENV: ${env:…} references resolve here as they do on the server's thread.
    this.thread = new ThreadCalls(script, { env: SHARE_ENV }, 'a reload-check thread stopped');
  }

  get dead(): Error | undefined {
    return this.thread.dead;
  }

  sendFiles(build: number, rf: RootFiles, freshValidators: boolean): void {
    const prev = this.sent?.files;
    const set: Array<[string, string]> = [];
    let added = 0;
    for (const [rel, text] of rf.files) {
      const was = prev?.get(rel);
      if (was === text) continue;
      set.push([rel, text]);
      if (was === undefined) added++;
    }
    // Only when some file is gone is the old list scanned for it (10,000 keys on a large root).
    const deleted = prev && prev.size > rf.files.size - added ? [...prev.keys()].filter((rel) => !rf.files.has(rel)) : [];
    const fresh = freshValidators || this.sent?.dir !== rf.dir;
    const m: FilesMessage = { kind: 'files', build, dir: rf.dir, set, deleted, resources: [...rf.resources], firmware: rf.firmware, firmwareSizes: [...rf.firmwareSizes], freshValidators: fresh };
    this.post(m);
    this.sent = rf;
  }

  check(build: number, since: readonly string[], shard: number, of: number): Promise<ThreadCheck> {
    return this.thread.call((id) => ({ kind: 'check', id, build, since: [...since], shard, of }) satisfies ToCheckThread) as Promise<ThreadCheck>;
  }

  done(build: number): void {
    this.post({ kind: 'done', build });
  }

  close(): Promise<void> {
    return this.thread.close('close' satisfies ToCheckThread);
  }

  private post(m: ToCheckThread): void {
    this.thread.post(m);
  }
}

export class CheckThreads {
  private threads: CheckThread[] = [];
  private build = 0;
  /** The compiled thread script (none where the sources run uncompiled). */
  private readonly script = threadScript(import.meta.url, 'service/check-thread.js');

  /** `count` threads (0: none; every check stays on the caller's thread), started on first use. */
  constructor(readonly count: number) {}

  /** Whether checks can go to threads here: threads were asked for, and the build has their script. */
  available(): boolean {
    return this.count > 0 && this.script !== undefined;
  }

  /** Send the threads the root's texts for a new build; undefined when there are no threads. */
  begin(rf: RootFiles, freshValidators: boolean): ThreadSession | undefined {
    if (!this.available()) return undefined;
    const threads = this.live();
    const build = ++this.build;
    for (const t of threads) t.sendFiles(build, rf, freshValidators);
    return {
      check: async (since) => {
        const results = await Promise.all(threads.map((t, i) => t.check(build, since, i, threads.length)));
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
    this.threads = this.threads.filter((t) => !t.dead);
    while (this.threads.length < this.count) this.threads.push(new CheckThread(this.script!));
    return this.threads;
  }
}
