// Inventory batches written on a thread of their own: better-sqlite3 is synchronous, and a
// boot storm's batch written on the server's thread is time no phone is answered in (bench B
// and C: a third of the server's CPU). The thread runs the same transaction (observations.ts).

import { ThreadCalls, threadScript } from '../../io/thread-calls.js';
import type { Observation, ObservationWriter } from '../contract.js';
import type { Required } from '../provision-result.js';
import type { WriteMessage } from './writer-thread.js';

export function startWriterThread(file: string): ObservationWriter | undefined {
  const script = threadScript(import.meta.url, 'store/sqlite/writer-thread.js');
  if (!script || file === ':memory:') return undefined;
  // The thread keeps the process alive only while a batch is on its way: a stop must not
  // lose the last batch, and an idle writer must not hold a stopping process open.
  const thread = new ThreadCalls<{ id: number; error?: string }>(script, { workerData: { file } }, 'the inventory writer thread stopped');
  return {
    async record(batch: readonly Observation[], required: ReadonlyMap<string, Required[] | null>, maxUnknown: number): Promise<void> {
      await thread.call((id): WriteMessage => ({ id, batch: batch as Observation[], required: [...required], maxUnknown }));
    },
    alive: () => thread.dead === undefined,
    close: () => thread.close('close'),
  };
}
