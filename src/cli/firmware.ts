// `deskset firmware [ROOT] [--json]`: per model, the releases on disk, and which devices get
// which version and why (the policy keys and the file:line that set them).

import { hasErrors } from '../check/diagnostics.js';
import { firmwareReport } from '../render/firmware-report.js';
import { loadRoot } from '../io/load-root.js';
import { guarded, parse, printDiagnostics } from './common.js';
import { COMMANDS } from './commands.js';

export function run(args: string[]): Promise<number> {
  return guarded('firmware', async () => {
    const { values, positionals } = parse(args, COMMANDS.firmware);
    const root = positionals[0] ?? '.';
    const snap = await loadRoot(root);
    if (hasErrors(snap.diagnostics)) {
      printDiagnostics(snap.diagnostics);
      return 1;
    }
    const report = firmwareReport(snap);
    const failing = report.some((m) => m.devices.some((d) => d.problem));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return failing ? 1 : 0;
    }
    const out: string[] = [];
    let problems = 0;
    for (const m of report) {
      out.push(`${m.vendor} ${m.model}`);
      out.push(`  on disk: ${m.releases.map((r) => r.version).join(', ') || 'none'}`);
      for (const d of m.devices) {
        if (d.problem) problems++;
        out.push(`  ${d.mac}  ${(d.version ?? (d.problem ? 'ERROR' : 'no upgrade')).padEnd(14)} ${d.problem ?? d.why}${d.setAt.length ? `  (${d.setAt.join(', ')})` : ''}`);
      }
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return problems ? 1 : 0;
  });
}
