// `deskset check [ROOT]`: load everything, render every file of every device, and report
// every problem as file:line:col. Exit 0 when clean, 1 when there are errors.

import { hasErrors, type Diagnostic } from '../core/diagnostics.js';
import { renderTarget } from '../core/render.js';
import { allTargets } from '../core/request.js';
import { loadRoot } from '../io/load-root.js';
import { guarded, parse, printDiagnostics } from './common.js';

export function run(args: string[]): Promise<number> {
  return guarded('check', async () => {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } });
    const root = positionals[0] ?? '.';
    const snap = await loadRoot(root);
    const problems: Diagnostic[] = [...snap.diagnostics];
    let files = 0;
    for (const t of allTargets(snap)) {
      const { rendered, diagnostics } = renderTarget(snap.render, t);
      problems.push(...diagnostics);
      if (rendered) files++;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ devices: snap.profiles.devices.size, files, diagnostics: problems }, null, 2)}\n`);
    } else {
      const { errors, warnings } = printDiagnostics(problems, process.stdout);
      process.stdout.write(`${snap.profiles.devices.size} devices, ${files} files rendered: ${errors} errors, ${warnings} warnings\n`);
    }
    return hasErrors(problems) ? 1 : 0;
  });
}
