// The contract suite against a real PostgreSQL: DESKSET_TEST_PG names a database whose user
// may create databases (.ci/run starts a throwaway cluster with test/helpers/pg-cluster.sh).

import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { runStoreContract } from './store-contract.case.js';

const URL_ = process.env.DESKSET_TEST_PG;
if (!URL_) console.warn('store-postgres.test.ts: DESKSET_TEST_PG is unset: the PostgreSQL contract suite is skipped (test/helpers/pg-cluster.sh start sets it)');

const created: string[] = [];
async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: URL_ });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
afterAll(async () => {
  if (!URL_) return;
  await admin(async (c) => {
    for (const db of created) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });
});

/** A new database per case, so each starts empty and migrations run from zero. */
async function freshDb(): Promise<string> {
  const name = `deskset_c_${crypto.randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  created.push(name);
  const u = new URL(URL_!);
  u.pathname = `/${name}`;
  return u.toString();
}

runStoreContract(
  'postgres',
  URL_
    ? async (o) => {
        const url = await freshDb();
        const store = await openPostgresStore({ url, stateDir: o?.stateDir });
        return {
          store,
          reopen: () => openPostgresStore({ url, stateDir: o?.stateDir }),
          exec: async (sql) => {
            const c = new pg.Client({ connectionString: url });
            await c.connect();
            await c.query(sql);
            await c.end();
          },
        };
      }
    : undefined,
  URL_ ? '' : ' (skipped: DESKSET_TEST_PG is unset)',
);
