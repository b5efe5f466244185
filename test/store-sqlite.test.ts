import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { runStoreContract } from './store-contract.case.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deskset-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runStoreContract('sqlite', async (o) => {
  const file = path.join(root, `s${++n}`, 'deskset.db');
  const store = await openSqliteStore({ file, stateDir: o?.stateDir });
  return {
    store,
    reopen: () => openSqliteStore({ file, stateDir: o?.stateDir }),
    exec: async (sql) => {
      const db = new Database(file);
      db.exec(sql);
      db.close();
    },
  };
});
