// Calls to a worker thread by message: each request carries an id, its answer the same id
// (and `error` when it failed). The thread holds the process open only while a call is on
// its way, and its death fails every waiting call, and every later one, instead of hanging
// them. The inventory's SQLite writer and the reload-check threads are both such threads.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { PACKAGE_ROOT } from './package-root.js';

/**
 * The compiled script `rel` (under dist/, e.g. `service/check-thread.js`) for the module at
 * `moduleUrl`; undefined where there is none (the tests run the TypeScript sources, and a
 * thread can only run what the build compiled).
 */
export function threadScript(moduleUrl: string, rel: string): string | undefined {
  const here = fileURLToPath(moduleUrl);
  const js = here.endsWith('.ts') ? path.join(PACKAGE_ROOT, 'dist', rel) : path.join(path.dirname(here), path.basename(rel));
  return existsSync(js) ? js : undefined;
}

export class ThreadCalls<Answer extends { id: number; error?: string }> {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (m: Answer) => void; reject: (e: Error) => void }>();
  private next = 1;
  /** Why the thread is gone; set, no call is sent again. */
  dead?: Error;

  /** `stopped`: the error calls get when the thread exits. */
  constructor(script: string, options: WorkerOptions, stopped: string) {
    this.worker = new Worker(script, options);
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('message', (m: Answer) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (!this.waiting.size) this.worker.unref();
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m);
    });
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error(stopped)));
    this.worker.unref();
  }

  /** Send the message `make(id)` and wait for the answer with that id. */
  call(make: (id: number) => unknown): Promise<Answer> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (!this.waiting.size) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage(make(id));
    });
  }

  /** A message that gets no answer. */
  post(m: unknown): void {
    if (!this.dead) this.worker.postMessage(m);
  }

  /** Send `bye` (the thread ends itself after what it was sent before) and wait until it has. */
  async close(bye: unknown): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.ref();
    this.worker.postMessage(bye);
    await exited;
  }
}
