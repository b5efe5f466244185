import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { statSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('sqlite specifics', () => {
  it('the database and its WAL are readable by the owner only (token digests, addresses)', async () => {
    const file = path.join(root, 'mode', 'deskset.db');
    const s = await openSqliteStore({ file });
    await s.appendAudit({ at: new Date().toISOString(), actor: 'cli', source: 'local', action: 'test', result: 'ok' });
    for (const f of [file, `${file}-wal`]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(s.integrityCheck()).toBe('ok');
    await s.close();
  });

  it('an unopenable path is a clear UNAVAILABLE error', async () => {
    // A state_dir that is a file, not a directory.
    const blocker = path.join(root, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const file = path.join(blocker, 'deskset.db');
    await expect(openSqliteStore({ file })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(file) });
  });
});
