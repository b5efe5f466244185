// `deskset serve [ROOT] [--host H] [--port N]`: refuse to start on an invalid root, else
// serve it and print a few curl lines to try.

import type { AddressInfo } from 'node:net';
import { hasErrors } from '../core/diagnostics.js';
import { allTargets } from '../core/request.js';
import { createLogger } from '../http/access-log.js';
import { createApp } from '../http/app.js';
import { loadRoot } from '../io/load-root.js';
import { Provisioner } from '../service/provisioner.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';

export function run(args: string[]): Promise<number> {
  return guarded('serve', async () => {
    const { values, positionals } = parse(args, { host: { type: 'string' }, port: { type: 'string' } });
    const root = positionals[0] ?? '.';
    const snap = await loadRoot(root);
    printDiagnostics(snap.diagnostics);
    if (hasErrors(snap.diagnostics)) {
      process.stderr.write(`deskset serve: not starting: ${root} has errors (run "deskset check ${root}")\n`);
      return 1;
    }
    const host = values.host ?? snap.config.listen.host;
    const port = values.port === undefined ? snap.config.listen.port : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`bad --port ${values.port}`);
    const provisioner = new Provisioner(snap);
    const app = createApp({ provisioner, log: createLogger() });
    const server = app.listen(port, host);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const addr = server.address() as AddressInfo;
    const base = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${addr.port}`;
    process.stderr.write(`${banner(snap, root, host, addr.port, base)}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  });
}

function banner(snap: Awaited<ReturnType<typeof loadRoot>>, root: string, host: string, port: number, base: string): string {
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
