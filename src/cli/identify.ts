// `deskset identify [ROOT] [--user-agent UA] [--path PATH] [--ip ADDR] [--json]`: what the
// server's own pipeline makes of a request — vendor, model, firmware, MAC, route, device
// profile (or why none), site, and which handler would answer. For a phone that is not
// recognised, this is the first thing to run.

import { hasErrors } from '../check/diagnostics.js';
import { loadRoot } from '../io/load-root.js';
import { servedTrees } from '../io/disk-file.js';
import { describeRequest, type RequestReport } from '../pipeline/describe.js';
import { withRootUploads } from '../service/open-uploads.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

export function run(args: string[]): Promise<number> {
  return guarded('identify', async () => {
    const { values, positionals } = parse(args, COMMANDS.identify);
    if (positionals.length > 1) throw new UsageError('usage: deskset identify [ROOT] [--user-agent UA] [--path PATH] [--ip ADDR]');
    const ua = values['user-agent'];
    if (ua === undefined && values.path === undefined) throw new UsageError('give --user-agent, --path or both');
    const snap = await loadRoot(positionals[0] ?? '.');
    if (hasErrors(snap.diagnostics)) {
      printDiagnostics(snap.diagnostics);
      return 1;
    }
    const report = await withRootUploads(snap.rootDir, snap.config, (uploads) => describeRequest(snap, uploads, servedTrees(snap.rootDir), { url: values.path ?? '/', userAgent: ua, ip: values.ip }));
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, values.path !== undefined));
    return 0;
  });
}

export function formatReport(r: RequestReport, askedPath: boolean): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(12)}${value}`);
  if (r.userAgent) {
    const u = r.userAgent;
    row('User-Agent', u.recognised ? [u.vendor, u.model, u.firmware && `firmware ${u.firmware}`, u.mac && `MAC ${u.mac}`].filter(Boolean).join(', ') : 'not recognised as any vendor’s phone');
  }
  row('Vendor', r.vendor ? `${r.vendor}${r.vendorFrom === 'oui' ? ' (from the MAC’s OUI)' : ''}` : 'unknown');
  row('Model', r.model ?? 'unknown');
  row('MAC', r.mac ? `${r.mac} (from the ${r.macFrom === 'user-agent' ? 'User-Agent' : r.macFrom === 'token' ? 'URL token' : 'path'})` : 'none');
  row('Device', r.device ? `${r.device.file}: ${r.device.vendor} ${r.device.model}${r.device.groups.length ? `, groups ${r.device.groups.join(', ')}` : ''}` : r.noDevice ?? 'none');
  row('Site', r.site ?? 'none');
  if (askedPath) {
    row('Path', `/${r.path} from ${r.ip}`);
    row('Route', r.route ? `${r.route.vendor} ${r.route.file} (${r.route.scope} file)${r.route.servedAs && r.route.servedAs !== r.path ? `, rendered as ${r.route.servedAs}` : ''}` : 'no vendor file has this name');
    row('Answer', `${describeHandler(r)}${r.reason ? ` — ${r.reason}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeHandler(r: RequestReport): string {
  switch (r.handler) {
    case 'rendered':
      return 'rendered from the profiles';
    case 'uploaded':
      return `the phone’s own upload ${r.file}`;
    case 'firmware':
      return `firmware image ${r.file}`;
    case 'resource':
      return `resource ${r.file}`;
    case 'refused':
      return 'refused';
    case 'none':
      return '404';
  }
}
