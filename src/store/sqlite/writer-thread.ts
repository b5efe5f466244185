// The SQLite writer thread (writer.ts starts it): its own connection to the database file,
// which WAL lets write while the server's connection reads. It judges from the boot files the
// server sends with each batch, since the snapshot stays on the server's thread.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { provisionResult, type Required } from '../provision-result.js';
import type { Observation } from '../contract.js';
import { observationStatements, tuneConnection } from './observations.js';

export interface WriteMessage {
  id: number;
  batch: Observation[];
  /** Per MAC: its boot files and their current ETags; null when the root does not configure it. */
  required: Array<[string, Required[] | null]>;
  maxUnknown: number;
}

const db = new Database((workerData as { file: string }).file);
tuneConnection(db);
const statements = observationStatements(db);

parentPort!.on('message', (m: WriteMessage | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  const required = new Map(m.required);
  try {
    statements.record(m.batch, {
      maxUnknown: m.maxUnknown,
      judge: (rec) => {
        const r = required.get(rec.mac);
        return r ? provisionResult(rec.files, r) : 'unknown';
      },
    });
    parentPort!.postMessage({ id: m.id });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
