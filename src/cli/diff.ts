// `deskset diff [ROOT] [REV_A] [REV_B]`: what changes for which phones between two versions of
// a config root (default: HEAD against the working tree). Exit 0 nothing changes, 1 something
// does, 2 errors (a bad revision, or either version has errors).

import path from 'node:path';
import { checkSnapshot } from '../check/check.js';
import { formatDiagnostic, groupByLocation, type Diagnostic } from '../check/diagnostics.js';
import { redactSecrets } from '../config/secret-refs.js';
import { createValidators } from '../io/validators.js';
import { compareSides, type DiffReport, type Side } from '../diff/compare.js';
import { formatErrors, formatMarkdown, formatStat, formatText, hasChanges } from '../diff/format.js';
import { checkoutRoot, findRepo, parseDiffArgs, resolveRevision, RevisionError, type Repo } from '../diff/revisions.js';
import type { ParseCache } from '../config/profiles.js';
import { buildFromRoot, readRoot } from '../io/load-root.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { startProgress } from './progress.js';

export function run(args: string[]): Promise<number> {
  return guarded('diff', async () => {
    const { values, positionals } = parse(args, COMMANDS.diff);
    const modes = (['json', 'markdown', 'stat'] as const).filter((m) => values[m]);
    if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} cannot be combined`);
    const maxChars = values['max-chars'] === undefined ? 60_000 : Number(values['max-chars']);
    if (!Number.isInteger(maxChars) || maxChars < 1000) throw new UsageError(`--max-chars must be a whole number of at least 1000, not "${values['max-chars']}"`);
    let parsed;
    try {
      parsed = parseDiffArgs(positionals);
    } catch (e) {
      if (e instanceof RevisionError) throw new UsageError(e.message);
      throw e;
    }
    const progress = startProgress('diff', { quiet: values.quiet });
    const disposers: Array<() => Promise<void>> = [];
    try {
      const root = path.resolve(parsed.root);
      const repo = await findRepo(root);
      const side = async (rev: string | undefined): Promise<Side> => {
        progress.say(`loading ${rev ?? 'the working tree'}…`);
        const dir = rev === undefined ? root : await extract(repo, rev, disposers);
        const rf = await readRoot(dir);
        // One parse cache for both: the second build parses only the files that differ.
        const snap = await buildFromRoot(rf, parseCache, undefined, root);
        const listed = new Map<string, number | undefined>([...rf.firmwareSizes]);
        for (const f of rf.firmware) if (!listed.has(f)) listed.set(f, undefined);
        for (const r of rf.resources) listed.set(`resources/${r}`, undefined);
        dirs.set(snap, dir);
        return { label: rev ?? 'working tree', snap, files: rf.files, listed };
      };
      const dirs = new Map<Side['snap'], string>();
      const parseCache: ParseCache = new Map();
      const a = await side(parsed.from);
      const b = await side(parsed.to);
      progress.say('comparing…');
      const report = compareSides(a, b);
      if (values.check) {
        progress.say('validating the files that change…');
        await validateChanged(report, [a, b], dirs);
      }
      progress.end();
      const secrets = new Set([...a.snap.secrets, ...b.snap.secrets]);
      // Every string is masked as it is built; this is the net under it.
      const safe = (s: string) => redactSecrets(s, secrets);
      const errors = formatErrors(report).map(safe);
      if (values.json) process.stdout.write(safe(`${JSON.stringify(jsonReport(report, secrets), null, 2)}\n`));
      else if (values.markdown) process.stdout.write(safe(formatMarkdown(report, errors, maxChars)));
      else if (values.stat) process.stdout.write(safe(formatStat(report)));
      else process.stdout.write(safe(formatText(report)));
      if (!values.json && !values.markdown) for (const e of errors) process.stderr.write(`${e}\n`);
      return report.errors.length ? 2 : hasChanges(report) ? 1 : 0;
    } catch (e) {
      if (e instanceof RevisionError) {
        progress.end();
        process.stderr.write(`deskset diff: ${e.message}\n`);
        return 2;
      }
      throw e;
    } finally {
      for (const d of disposers) await d();
    }
  });
}

/**
 * --check: what `check` finds in the files that change, on both sides (the reload path's
 * incremental check: those devices, plus every shared and model file). Errors only, once each.
 */
async function validateChanged(report: DiffReport, sides: Side[], dirs: ReadonlyMap<Side['snap'], string>): Promise<void> {
  const devices = new Set(report.groups.flatMap((g) => g.devices));
  const seen = new Set(report.errors.map((e) => `${e.side}\0${formatDiagnostic(e)}`));
  for (const side of sides) {
    const validators = createValidators({ root: dirs.get(side.snap)!, resourceNames: side.snap.resources });
    try {
      const mine = new Set([...devices].filter((m) => side.snap.profiles.devices.has(m)));
      const result = await checkSnapshot(side.snap, validators, { devices: mine });
      const found = [...result.diagnostics, ...validators.schemaProblems.map((p): Diagnostic => ({ code: 'XSD_SCHEMA', severity: 'error', message: p }))];
      for (const d of groupByLocation(found)) {
        const key = `${side.label}\0${formatDiagnostic(d)}`;
        if (d.severity === 'error' && !seen.has(key)) {
          seen.add(key);
          report.errors.push({ ...d, side: side.label });
        }
      }
    } finally {
      await validators.close();
    }
  }
}

async function extract(repo: Repo, rev: string, disposers: Array<() => Promise<void>>): Promise<string> {
  const commit = await resolveRevision(repo, rev);
  const { dir, dispose } = await checkoutRoot(repo, commit);
  disposers.push(dispose);
  return dir;
}

/** The report for machines: diagnostics masked field by field (JSON escaping would hide a secret from the net). */
function jsonReport(r: DiffReport, secrets: ReadonlySet<string>): unknown {
  return {
    ...r,
    changes: hasChanges(r),
    errors: r.errors.map((e) => ({ side: e.side, code: e.code, severity: e.severity, message: redactSecrets(e.message, secrets), loc: e.loc, device: e.device, path: e.path })),
  };
}
