// A throwaway database on the test cluster (DESKSET_TEST_PG, started by test/helpers/pg-cluster.sh):
// each suite gets its own, dropped afterwards, so suites running in parallel never share state.

import crypto from 'node:crypto';
import pg from 'pg';

async function asAdmin(cluster: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: cluster });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  /** The new database's URL on the same cluster. */
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(cluster: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
  await asAdmin(cluster, `CREATE DATABASE ${name}`);
  const u = new URL(cluster);
  u.pathname = `/${name}`;
  return { name, url: u.toString(), drop: () => asAdmin(cluster, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
