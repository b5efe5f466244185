// Inventory batches written on a thread of their own: better-sqlite3 is synchronous, and a
// boot storm's batch written on the server's thread is time no phone is answered in (bench B
// and C: a third of the server's CPU). The thread runs the same transaction (observations.ts).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../../io/package-root.js';
import type { Observation, ObservationWriter } from '../contract.js';
import type { Required } from '../provision-result.js';
import type { WriteMessage } from './writer-thread.js';

/** The compiled thread script; undefined where there is none (the TypeScript sources run in-process by the tests, before a build). */
function threadScript(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? path.join(PACKAGE_ROOT, 'dist', 'store', 'sqlite', 'writer-thread.js') : path.join(path.dirname(here), 'writer-thread.js');
  return existsSync(js) ? js : undefined;
}

export function startWriterThread(file: string): ObservationWriter | undefined {
  const script = threadScript();
  if (!script || file === ':memory:') return undefined;
  const worker = new Worker(script, { workerData: { file } });
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 1;
  let dead: Error | undefined;
  const fail = (e: Error) => {
    dead ??= e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('message', (m: { id: number; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!waiting.size) worker.unref();
    if (m.error) w?.reject(new Error(m.error));
    else w?.resolve();
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the inventory writer thread stopped')));
  // The thread keeps the process alive only while a batch is on its way: a stop must not
  // lose the last batch, and an idle writer must not hold a stopping process open.
  worker.unref();
  return {
    record(batch: readonly Observation[], required: ReadonlyMap<string, Required[] | null>, maxUnknown: number): Promise<void> {
      if (dead) return Promise.reject(dead);
      const id = next++;
      const msg: WriteMessage = { id, batch: batch as Observation[], required: [...required], maxUnknown };
      return new Promise((resolve, reject) => {
        if (!waiting.size) worker.ref();
        waiting.set(id, { resolve, reject });
        worker.postMessage(msg);
      });
    },
    alive: () => dead === undefined,
    async close(): Promise<void> {
      if (dead) return;
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
