// The admin listener: its own port (127.0.0.1:9090 by default), never the phones' one, HTTPS
// when the server has a certificate. Wires the routes (routes.ts) into the app (app.ts).

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AdminConfig } from '../config/root-config.js';
import type { TlsServerOptions } from '../security/tls-config.js';
import { createAdminApp, type AdminApp } from './app.js';
import { csvPort } from './csv.js';
import { allRecords, createApiRouter, PUBLIC_PATHS, type AdminApiDeps } from './routes.js';
import { createDashboardRouters } from './ui/router.js';
import { createEnrollRouter, type EnrollDeps } from './enroll.js';

export interface AdminListenerOptions extends Omit<AdminApiDeps, 'maxBodyBytes'> {
  host: string;
  port: number;
  /** Serve HTTPS with these (the phone listener's certificate). */
  tls?: TlsServerOptions;
  config: () => AdminConfig;
  log: Logger;
  /** Redeeming codes for phones that cannot prompt (/api/v1/enroll and the /enroll form). */
  enroll?: Omit<EnrollDeps, 'maxBodyBytes'>;
}

export interface RunningAdmin {
  server: http.Server;
  /** e.g. http://127.0.0.1:9090 */
  url: string;
  port: number;
  /** Add routes beside /api/v1 (/metrics, a dashboard). */
  mount: AdminApp['mount'];
  close(): Promise<void>;
}

/** An admin call is small and quick; a CSV import of 10,000 rows is the slowest (seconds). */
const TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 120_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 };

export async function startAdminListener(o: AdminListenerOptions): Promise<RunningAdmin> {
  const csv = o.csv ?? csvPort({ rootDir: () => o.snapshot().rootDir, secrets: () => o.snapshot().secrets, extraKeys: () => o.snapshot().secretKeys, inventory: o.store ? () => allRecords(o.store) : undefined });
  const router = createApiRouter({ ...o, csv, maxBodyBytes: () => o.config().maxBodyBytes });
  const admin = createAdminApp({ config: o.config, store: o.store, log: o.log, now: o.now }, { router, publicPaths: PUBLIC_PATHS });
  // The dashboard (src/admin/ui/): pages for any admin user, audited; its two static files are not.
  const dashboard = createDashboardRouters(o);
  admin.mount(dashboard.pages, { access: 'viewer' });
  admin.mount(dashboard.assets, { access: 'viewer', audit: false });
  // Public: the code is the credential (enroll.ts).
  if (o.enroll) admin.mount(createEnrollRouter({ ...o.enroll, maxBodyBytes: () => o.config().maxBodyBytes }), { access: 'public' });
  const handler = admin.app.callback();
  const server = o.tls ? https.createServer({ ...TIMEOUTS, ...o.tls, requestCert: false }, handler) : http.createServer(TIMEOUTS, handler);
  // A client that dribbles or stalls is cut off; the admin port is not a phone's to hold.
  server.setTimeout(30_000, (s) => s.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const shown = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    url: `${o.tls ? 'https' : 'http'}://${o.tls && shown === '127.0.0.1' ? 'localhost' : shown}:${port}`,
    port,
    mount: admin.mount,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
