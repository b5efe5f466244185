// Start a deskset server on a config root: load, refuse on errors, listen. Used by
// `deskset serve` and by the end-to-end tests, so both run the same code.

import http, { type Server } from 'node:http';
import { createListener } from './http/listener.js';
import path from 'node:path';
import { UploadStore } from './service/upload-store.js';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DiagnosticsError, hasErrors, type Diagnostic } from './core/diagnostics.js';
import type { Snapshot } from './core/snapshot.js';
import { createLogger } from './http/access-log.js';
import { createApp } from './http/app.js';
import { buildFromRoot, readRoot } from './io/load-root.js';
import { createValidators } from './io/validators.js';
import { watchRoot } from './io/watch.js';
import { Reloader, validateSnapshot } from './service/reloader.js';
import { Provisioner } from './service/provisioner.js';

export interface ServerOptions {
  root: string;
  host?: string;
  port?: number;
  log?: Logger;
  /** Watch the root and reload on change (default true). */
  watch?: boolean;
  /** Answer rendered files before Koa (default true); off is for parity tests. */
  fastPath?: boolean;
  /** Debounce for the watcher, ms. */
  debounceMs?: number;
}

export interface RunningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  provisioner: Provisioner;
  reloader: Reloader;
  /** Resolves when the watcher is ready (immediately when not watching). */
  watching: Promise<void>;
  /** Warnings found while loading (errors refuse the start). */
  warnings: Diagnostic[];
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const rootFiles = await readRoot(opts.root);
  const snap: Snapshot = await buildFromRoot(rootFiles);
  // The same gate a reload must pass: everything renders and validates, or we do not start.
  const startValidators = createValidators({ root: rootFiles.dir, resourceNames: rootFiles.resources });
  const found = await validateSnapshot(snap, startValidators);
  await startValidators.close();
  if (hasErrors(found)) throw new DiagnosticsError(found);
  const host = opts.host ?? snap.config.listen.host;
  const port = opts.port ?? snap.config.listen.port;
  const log = opts.log ?? createLogger();
  const provisioner = new Provisioner(snap);
  const reloader = new Reloader(rootFiles, provisioner, log);
  const uploads = new UploadStore({ dir: path.resolve(rootFiles.dir, snap.config.stateDir) });
  // Housekeeping: old day logs and temp files a crash left behind, now and daily.
  const housekeep = () => void Promise.all([uploads.pruneLogs(), uploads.removeStaleTemps()]).catch((e: Error) => log.warn({ err: e.message }, 'upload housekeeping failed'));
  housekeep();
  const daily = setInterval(housekeep, 24 * 3600_000);
  daily.unref();
  const app = createApp({ provisioner, rootDir: rootFiles.dir, log, uploads, health: () => reloader.status() });
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, createListener({ app, provisioner, log, fastPath: opts.fastPath }));
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const actual = (server.address() as AddressInfo).port;
  const watcher = opts.watch === false ? undefined : watchRoot(rootFiles.dir, (changed) => void reloader.reload(changed), { debounceMs: opts.debounceMs });
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${actual}`,
    host,
    port: actual,
    provisioner,
    reloader,
    watching: watcher?.ready ?? Promise.resolve(),
    warnings: found,
    close: async () => {
      clearInterval(daily);
      await watcher?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await reloader.close();
    },
  };
}
