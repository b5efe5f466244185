// Start a deskset server on a config root: load, refuse on errors, listen. Used by
// `deskset serve` and by the end-to-end tests, so both run the same code.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DiagnosticsError, hasErrors, type Diagnostic } from './core/diagnostics.js';
import type { Snapshot } from './core/snapshot.js';
import { createLogger } from './http/access-log.js';
import { createApp } from './http/app.js';
import { loadRoot } from './io/load-root.js';
import { Provisioner } from './service/provisioner.js';

export interface ServerOptions {
  root: string;
  host?: string;
  port?: number;
  log?: Logger;
}

export interface RunningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  provisioner: Provisioner;
  /** Warnings found while loading (errors refuse the start). */
  warnings: Diagnostic[];
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const snap: Snapshot = await loadRoot(opts.root);
  if (hasErrors(snap.diagnostics)) throw new DiagnosticsError(snap.diagnostics);
  const host = opts.host ?? snap.config.listen.host;
  const port = opts.port ?? snap.config.listen.port;
  const provisioner = new Provisioner(snap);
  const app = createApp({ provisioner, log: opts.log ?? createLogger() });
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const actual = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${actual}`,
    host,
    port: actual,
    provisioner,
    warnings: snap.diagnostics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
