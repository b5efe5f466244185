// `deskset serve [ROOT] [--host H] [--port N]`: refuse to start on an invalid root, else
// serve it and print a few curl lines to try.

import cluster from 'node:cluster';
import { StoreError } from '../store/contract.js';
import { DiagnosticsError } from '../check/diagnostics.js';
import { deviceTargets, sharedTargets } from '../pipeline/request.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { startServer } from '../server.js';
import { notifySystemd } from '../service/systemd-notify.js';
import { defaultCheckThreads } from '../service/check-threads.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { VENDORS } from '../vendors/registry.js';

/** Requests answered over loopback before listening (http/warm-up.ts); --warm-up 0 skips it. */
const DEFAULT_WARM_UP = 1500;

export function run(args: string[]): Promise<number> {
  return guarded('serve', async () => {
    const { values, positionals } = parse(args, COMMANDS.serve);
    const root = positionals[0] ?? '.';
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`bad --port ${values.port}`);
    const workers = values.workers === undefined ? 1 : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`bad --workers ${values.workers}`);
    const warmUp = values['warm-up'] === undefined ? DEFAULT_WARM_UP : Number(values['warm-up']);
    if (!Number.isInteger(warmUp) || warmUp < 0 || warmUp > 1_000_000) throw new UsageError(`bad --warm-up ${values['warm-up']}`);
    const tftpPort = values['tftp-port'] === undefined ? undefined : Number(values['tftp-port']);
    if (tftpPort !== undefined && (!Number.isInteger(tftpPort) || tftpPort < 0 || tftpPort > 65535)) throw new UsageError(`bad --tftp-port ${values['tftp-port']}`);
    const checkThreads = values['check-threads'] === undefined ? defaultCheckThreads(workers) : Number(values['check-threads']);
    if (!Number.isInteger(checkThreads) || checkThreads < 0 || checkThreads > 16) throw new UsageError(`bad --check-threads ${values['check-threads']}`);
    if (workers > 1 && cluster.isPrimary) return supervise(args, workers);
    const quiet = cluster.isWorker && cluster.worker!.id > 1;
    let running;
    try {
      const httpsPort = values['https-port'] === undefined ? undefined : Number(values['https-port']);
      const adminPort = values['admin-port'] === undefined ? undefined : Number(values['admin-port']);
      if (adminPort !== undefined && (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535)) throw new UsageError(`bad --admin-port ${values['admin-port']}`);
      const admin = values['no-admin'] ? false : adminPort === undefined ? true : { port: adminPort };
      running = await startServer({ root, host: values.host, port, httpsPort, watch: !values['no-watch'], devTls: values['dev-tls'], warmUp, tftpPort, admin, checkThreads });
    } catch (e) {
      // A state database we may not touch (migrated by a newer deskset) or cannot reach.
      if (e instanceof StoreError) {
        process.stderr.write(`deskset serve: not starting: ${e.message}\n`);
        return 1;
      }
      if (!(e instanceof DiagnosticsError)) throw e;
      printDiagnostics(e.diagnostics);
      process.stderr.write(`deskset serve: not starting: ${root} has errors (run "deskset check ${root}")\n`);
      return 1;
    }
    // Before anything is printed: until a listener exists, SIGTERM kills the process outright,
    // and a supervisor (or a test) may act on the banner at once.
    const srv = running;
    // SIGHUP (systemctl reload) reads the whole root again, as a file change would.
    const hup = () => void srv.reload();
    process.on('SIGHUP', hup);
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGHUP', hup);
        void srv.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    if (!quiet) {
      printDiagnostics(running.warnings);
      // One write, so a reader that sees the curl lines also sees the warm-up line.
      const warmed = running.warmedUp.requests ? `warmed up before listening: ${running.warmedUp.requests} requests in ${running.warmedUp.ms} ms (none of them cached or logged)\n` : '';
      process.stderr.write(`${banner(running.provisioner.current(), root, running.host, running.port, running.url)}${cluster.isWorker ? ` [${workers} workers]` : ''}\n${warmed}`);
    }
    if (running.https && !quiet) {
      // One write, so a reader that sees the URL also sees the certificate's path.
      const dev = running.https.devCertPath ? `\n  self-signed development certificate: ${running.https.devCertPath} (curl --cacert it)` : '';
      process.stderr.write(`HTTPS on ${running.https.url}${running.https.fingerprint256 ? `, certificate SHA-256 fingerprint ${running.https.fingerprint256}` : ''}${dev}\n`);
    }
    if (running.tftp && !quiet) process.stderr.write(`TFTP on ${running.tftp.host}:${running.tftp.port} (UDP, read-only)\n`);
    if (running.admin && !quiet) process.stderr.write(`admin API on ${running.admin.url}/api/v1 (docs/admin-api.md)\n`);
    // With --workers the primary tells systemd, once every worker listens.
    if (!cluster.isWorker) await tellSystemd(`serving ${running.provisioner.current().profiles.devices.size} devices on port ${running.port}`);
    await stopped;
    // A worker's IPC channel to the primary would keep it alive after its servers closed.
    if (cluster.isWorker) cluster.worker!.disconnect();
    return 0;
  });
}

function banner(snap: Snapshot, root: string, host: string, port: number, base: string): string {
  const lines = [`deskset serving ${root} on http://${host}:${port} (${snap.profiles.devices.size} devices, snapshot ${snap.id})`, 'try:'];
  // One example device per vendor: listing every device's files costs a second at 100,000.
  const devices = [...snap.profiles.devices.values()];
  for (const vendor of VENDORS) {
    const d = devices.find((x) => x.model.vendor === vendor.id);
    if (!d) continue;
    // A vendor whose phones ask by User-Agent says how; otherwise the device's first file.
    const own = vendor.exampleRequest?.({ mac: d.mac, model: d.model.name });
    const path = own?.path ?? deviceTargets(snap, [d.mac])[0]?.path;
    if (path) lines.push(`  curl ${own?.userAgent ? `-A '${own.userAgent}' ` : ''}${base}/${path}`);
  }
  const targets = sharedTargets(snap);
  const shared = targets.find((x) => x.file.scope === 'model') ?? targets.find((x) => x.file.scope === 'shared');
  if (shared) lines.push(`  curl -I ${base}/${shared.path}`);
  return lines.join('\n');
}

/**
 * --workers N: N processes share the listening sockets (node:cluster), so every core serves.
 * Each worker loads, validates, watches and reloads on its own; the primary only restarts a
 * worker that dies and forwards SIGINT/SIGTERM. A worker that refuses to start (bad root)
 * stops the whole server rather than restarting in a loop.
 */
async function supervise(args: string[], workers: number): Promise<number> {
  cluster.setupPrimary({ args: ['serve', ...args] });
  let stopping = false;
  let failed = false;
  const started = new Set<number>();
  return new Promise<number>((resolve) => {
    const fork = () => {
      const w = cluster.fork();
      w.once('listening', () => started.add(w.id));
    };
    let ready = false;
    cluster.on('listening', () => {
      if (ready || started.size < workers) return;
      ready = true;
      void tellSystemd(`serving with ${workers} workers`);
    });
    cluster.on('exit', (w, code) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failed ? 1 : 0);
        return;
      }
      if (!started.has(w.id)) {
        // Never came up: the root is bad (the worker printed why). Do not loop.
        failed = true;
        stopping = true;
        for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(1);
        return;
      }
      process.stderr.write(`deskset serve: worker ${w.process.pid} exited (${code}); starting another\n`);
      setTimeout(fork, 500);
    });
    const stop = () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Each worker reloads on its own; the primary only passes the signal on.
    process.on('SIGHUP', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
    });
    for (let i = 0; i < workers; i++) fork();
  });
}

/** READY=1 for a Type=notify unit; a failure is printed (systemd will time the start out), not fatal. */
async function tellSystemd(status: string): Promise<void> {
  const r = await notifySystemd({ READY: 1, STATUS: status });
  if (!r.sent && process.env.NOTIFY_SOCKET) process.stderr.write(`deskset serve: could not notify systemd: ${r.reason}\n`);
}
