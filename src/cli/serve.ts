// `deskset serve [ROOT] [--host H] [--port N]`: refuse to start on an invalid root, else
// serve it and print a few curl lines to try.

import { DiagnosticsError } from '../core/diagnostics.js';
import { allTargets } from '../core/request.js';
import type { Snapshot } from '../core/snapshot.js';
import { startServer } from '../server.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';

export function run(args: string[]): Promise<number> {
  return guarded('serve', async () => {
    const { values, positionals } = parse(args, { host: { type: 'string' }, port: { type: 'string' }, 'no-watch': { type: 'boolean' }, 'dev-tls': { type: 'boolean' }, 'https-port': { type: 'string' } });
    const root = positionals[0] ?? '.';
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`bad --port ${values.port}`);
    let running;
    try {
      const httpsPort = values['https-port'] === undefined ? undefined : Number(values['https-port']);
      running = await startServer({ root, host: values.host, port, httpsPort, watch: !values['no-watch'], devTls: values['dev-tls'] });
    } catch (e) {
      if (!(e instanceof DiagnosticsError)) throw e;
      printDiagnostics(e.diagnostics);
      process.stderr.write(`deskset serve: not starting: ${root} has errors (run "deskset check ${root}")\n`);
      return 1;
    }
    printDiagnostics(running.warnings);
    process.stderr.write(`${banner(running.provisioner.current(), root, running.host, running.port, running.url)}\n`);
    if (running.https) {
      process.stderr.write(`HTTPS on ${running.https.url}${running.https.fingerprint256 ? `, certificate SHA-256 fingerprint ${running.https.fingerprint256}` : ''}\n`);
      if (running.https.devCertPath) process.stderr.write(`  self-signed development certificate: ${running.https.devCertPath} (curl --cacert it)\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = () => void running.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  });
}

function banner(snap: Snapshot, root: string, host: string, port: number, base: string): string {
  const lines = [`deskset serving ${root} on http://${host}:${port} (${snap.profiles.devices.size} devices, snapshot ${snap.id})`, 'try:'];
  const targets = allTargets(snap);
  const avaya = [...snap.profiles.devices.values()].find((d) => d.model.vendor === 'avaya');
  if (avaya) lines.push(`  curl -A 'Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/${avaya.model.name}-4.1.3.0.6 (MAC:${avaya.mac})' ${base}/46xxsettings.txt`);
  for (const vendor of ['polycom', 'yealink']) {
    const t = targets.find((x) => x.file.vendor === vendor && x.file.scope === 'device');
    if (t) lines.push(`  curl ${base}/${t.path}`);
  }
  const shared = targets.find((x) => x.file.scope === 'model') ?? targets.find((x) => x.file.scope === 'shared');
  if (shared) lines.push(`  curl -I ${base}/${shared.path}`);
  return lines.join('\n');
}
