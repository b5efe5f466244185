// A real deskset server with its admin listener on a throwaway root (samples/ plus admin users),
// the real SQLite state store in the root's var/, and raw requests to the admin port, from a
// chosen loopback source address when a test needs two callers.

import http from 'node:http';
import path from 'node:path';
import { hashPassword } from '../../src/security/password.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { StateStore } from '../../src/store/contract.js';
import { memoryLogger } from './serve-root.js';
import { makeTmpRoot, type Edit, type TmpRoot } from './tmp-root.js';

export const ADMIN = { user: 'alice', password: 'correct horse battery' };
export const VIEWER = { user: 'victor', password: 'viewer pass 42' };
export const VIEWER_ENV = 'DESKSET_TEST_ADMIN_VIEWER_PW';

export interface AdminHarness {
  root: TmpRoot;
  running: RunningServer;
  /** The same SQLite database the server uses (tokens are issued here as the CLI would). */
  store: StateStore;
  logLines: string[];
  close(): Promise<void>;
}

export async function startAdminHarness(opts: { extraYaml?: string; edits?: Record<string, Edit>; devTls?: boolean } = {}): Promise<AdminHarness> {
  process.env[VIEWER_ENV] = VIEWER.password;
  const hash = await hashPassword(ADMIN.password);
  const yaml = (old: string) =>
    `${old}\nadmin:\n  listen: 127.0.0.1:9090\n  users:\n    ${ADMIN.user}: {password: "${hash}", role: admin}\n    ${VIEWER.user}: {password: "\${env:${VIEWER_ENV}}", role: viewer}\n${opts.extraYaml ?? ''}`;
  const root = await makeTmpRoot({ 'deskset.yaml': yaml, ...opts.edits });
  const mem = memoryLogger();
  const running = await startServer({ root: root.dir, host: '127.0.0.1', port: 0, watch: false, log: mem.log, admin: { port: 0 }, devTls: opts.devTls, httpsPort: opts.devTls ? 0 : undefined });
  const store = await openSqliteStore({ file: path.join(root.dir, 'var', 'deskset.db') });
  return {
    root,
    running,
    store,
    logLines: mem.lines,
    close: async () => {
      await store.close();
      await running.close();
      await root.cleanup();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type Auth = { user: string; password: string } | { token: string } | { raw: string } | undefined;

export function call(h: AdminHarness, method: string, target: string, o: { auth?: Auth; body?: Buffer | string; headers?: Record<string, string>; from?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.auth && 'user' in o.auth) headers.Authorization = `Basic ${Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64')}`;
  if (o.auth && 'token' in o.auth) headers.Authorization = `Bearer ${o.auth.token}`;
  if (o.auth && 'raw' in o.auth) headers.Authorization = o.auth.raw;
  const body = typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  if (body && headers['Content-Length'] === undefined && headers['Transfer-Encoding'] === undefined) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: h.running.admin!.port, method, path: target, headers, agent: false, localAddress: o.from }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
