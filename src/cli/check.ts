// `deskset check [ROOT] [--strict-xsd] [--json] [--quiet]`: load everything, render every file of every
// device, validate each (XSD, or the vendor's own checker) and report every problem as
// file:line:col. Exit 0 when clean, 1 when there are errors.

import { countSummary, groupByLocation, hasErrors, type Diagnostic } from '../check/diagnostics.js';
import { checkSnapshot } from '../check/check.js';
import { loadRoot } from '../io/load-root.js';
import { createValidators } from '../io/validators.js';
import { checkAgainstGit, checkAgainstRecord, mediaHashes } from '../io/resource-history.js';
import { guarded, parse, printDiagnostics } from './common.js';
import { COMMANDS } from './commands.js';
import { redactSecrets } from '../config/secret-refs.js';
import { securityChecks } from '../io/security-check.js';
import { checkResourceFiles } from '../io/resource-checks.js';
import { startProgress } from './progress.js';
import { bindingFindings } from './binding-of.js';

export function run(args: string[]): Promise<number> {
  return guarded('check', async () => {
    const { values, positionals } = parse(args, COMMANDS.check);
    const root = positionals[0] ?? '.';
    const progress = startProgress('checking', { quiet: values.quiet });
    progress.say(`loading ${root}…`);
    const snap = await loadRoot(root).finally(() => progress.end());
    const validators = createValidators({ root, strictXsd: values['strict-xsd'], resourceNames: snap.resources });
    const problems: Diagnostic[] = [...snap.diagnostics];
    const result = await checkSnapshot(snap, validators, { onProgress: progress.update });
    progress.end();
    await validators.close();
    for (const d of result.diagnostics) problems.push(d);
    for (const p of validators.schemaProblems) problems.push({ code: 'XSD_SCHEMA', severity: 'error', message: p });
    problems.push(...(await securityChecks(snap)));
    problems.push(...(await bindingFindings(snap)));
    problems.push(...(await checkResourceFiles(snap, validators.catalogs)));
    // Media edited in place: compared with git and with the last run's record.
    const hashes = await mediaHashes(snap.rootDir, snap.resources);
    const busted = [...(await checkAgainstGit(snap.rootDir, hashes, snap.display)), ...(await checkAgainstRecord(snap.rootDir, snap.config.stateDir, hashes, snap.display))];
    const seen = new Set<string>();
    for (const d of busted) if (!seen.has(d.loc!.file) && seen.add(d.loc!.file)) problems.push(d);
    if (values.json) {
      // Mask before serialising: JSON escaping (\\, \") would hide a secret from the matcher.
      const masked = groupByLocation(problems).map((d) => ({ ...d, message: redactSecrets(d.message, snap.secrets), related: d.related?.map((r) => ({ ...r, message: redactSecrets(r.message, snap.secrets) })), excerpt: d.excerpt?.map((l) => redactSecrets(l, snap.secrets)) }));
      process.stdout.write(`${JSON.stringify({ devices: snap.profiles.devices.size, placeholders: snap.profiles.placeholders.size, files: result.files, diagnostics: masked }, null, 2)}\n`);
    } else {
      printDiagnostics(problems, process.stdout, snap.secrets);
      const placeholders = snap.profiles.placeholders.size;
      process.stdout.write(`${snap.profiles.devices.size} devices${placeholders ? `, ${placeholders} placeholder${placeholders === 1 ? '' : 's'}` : ''}, ${result.files} files rendered and validated${values['strict-xsd'] ? ' (XSD by Java Xerces)' : ''}: ${countSummary(groupByLocation(problems))}\n`);
    }
    return hasErrors(problems) ? 1 : 0;
  });
}
