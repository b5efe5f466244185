// `deskset devices import FILE.csv [ROOT] [--merge | --overwrite] [--dry-run]
// [--secrets-as-env PREFIX]`: write profiles/devices/<mac>.yaml from a PDMS-E style CSV.
// All or nothing: every row is planned, and the resulting root is built and checked for the
// imported devices, before one file is written.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hasErrors, type Diagnostic } from '../check/diagnostics.js';
import { checkSnapshot } from '../check/check.js';
import { normalizeMac } from '../config/mac.js';
import { redactSecrets } from '../config/secret-refs.js';
import type { ParseCache } from '../config/profiles.js';
import { planImport, type DevicePlan, type ExistingDevice, type ImportMode, type RowContext } from '../csv/import-plan.js';
import { unifiedDiff } from '../csv/line-diff.js';
import { readCsv } from '../csv/read.js';
import { writeFilesAtomic } from '../io/atomic-write.js';
import { buildFromRoot, readRoot } from '../io/load-root.js';
import { decodeUtf8 } from '../io/read-tree.js';
import { createValidators } from '../io/validators.js';
import { deviceTargets } from '../pipeline/request.js';
import { renderTarget } from '../render/render.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

/** Bigger than any fleet's CSV (10,000 rows of 40 columns is ~4 MB). */
const MAX_CSV_BYTES = 64 * 1024 * 1024;

export function runDevicesImport(args: string[]): Promise<number> {
  return guarded('devices import', async () => {
    const { values, positionals } = parse(args, COMMANDS['devices-import']);
    const [csvPath, root = '.', ...extra] = positionals;
    if (csvPath === undefined) throw new UsageError('usage: deskset devices import FILE.csv [ROOT] [--merge | --overwrite] [--dry-run]');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (values.merge && values.overwrite) throw new UsageError('--merge and --overwrite exclude each other');
    const mode: ImportMode = values.merge ? 'merge' : values.overwrite ? 'overwrite' : 'create';
    const result = await importCsv({ csvPath, root, mode, dryRun: !!values['dry-run'], secretsAsEnv: values['secrets-as-env'], defaultModel: values.model });
    process.stdout.write(result.out);
    process.stderr.write(result.err);
    return result.code;
  });
}

export const run = runDevicesImport;

export interface ImportRequest {
  csvPath: string;
  /** The CSV's text, when it does not come from csvPath (an admin API body). */
  csvText?: string;
  root: string;
  mode: ImportMode;
  dryRun: boolean;
  secretsAsEnv?: string;
  defaultModel?: string;
}

export interface ImportResult {
  code: 0 | 1;
  /** The report: per device the diffs (dry run), then a summary. */
  out: string;
  /** Findings and warnings. */
  err: string;
  devices: DevicePlan[];
  diagnostics: Diagnostic[];
}

/** The whole import, with its output as strings (the CLI prints them; an API can return them). */
export async function importCsv(req: ImportRequest): Promise<ImportResult> {
  const errLines: string[] = [];
  const outLines: string[] = [];
  const fail = (diagnostics: Diagnostic[], snap?: Snapshot): ImportResult => {
    const sink = collector();
    printDiagnostics(diagnostics, sink, snap?.secrets);
    sink.lines.push(`deskset devices import: nothing written (${diagnostics.filter((d) => d.severity === 'error').length} errors)\n`);
    return { code: 1, out: '', err: sink.lines.join(''), devices: [], diagnostics };
  };
  const csvName = req.csvPath;
  let text = req.csvText;
  if (text === undefined) {
    const fromFile = await readCsvFile(req.csvPath);
    if (typeof fromFile !== 'string') return fail([fromFile]);
    text = fromFile;
  }
  const read = readCsv(text, csvName);
  if (!read.table) return fail(read.diagnostics);

  const rf = await readRoot(req.root);
  // The second build (the root with the rows written) re-parses only the files that changed.
  const parseCache: ParseCache = new Map();
  const before = await buildFromRoot(rf, parseCache);
  if (hasErrors(before.diagnostics)) return fail(rootErrors(before, req.root), before);

  if (req.defaultModel !== undefined && !before.catalog.find(req.defaultModel)) throw new UsageError(`--model: unknown model "${req.defaultModel}"`);
  const existing = new Map<string, ExistingDevice>();
  for (const [rel, t] of rf.files) {
    if (!rel.startsWith('profiles/devices/') || rel.slice('profiles/devices/'.length).includes('/')) continue;
    const mac = normalizeMac(rel.replace(/^.*\//, '').replace(/\.ya?ml$/i, ''));
    if (mac) existing.set(mac, { rel, text: t, model: before.profiles.devices.get(mac)?.model.name });
  }
  const plan = planImport(read.table, { ...rowContext(before), file: csvName, mode: req.mode, existing, secretsAsEnv: req.secretsAsEnv, defaultModel: req.defaultModel });
  if (hasErrors(plan.diagnostics)) return fail(plan.diagnostics, before);

  const writes = plan.devices.filter((d) => d.action === 'create' || d.action === 'update');
  // The root as it would be, checked as `deskset check` would check those devices.
  const files = new Map(rf.files);
  for (const d of writes) files.set(d.rel, d.after!);
  const envValues = new Map(writes.flatMap((d) => d.envRefs.map((r) => [r.name, r.value] as const)));
  const after = await buildFromRoot({ ...rf, files }, parseCache, undefined, undefined, (name) => envValues.get(name) ?? process.env[name]);
  const problems = after.diagnostics.filter((d) => d.severity === 'error');
  // Rows whose files loaded are rendered and validated even when others failed: every bad row is told at once.
  const loaded = new Set(writes.map((d) => d.mac).filter((mac) => after.profiles.devices.has(mac)));
  if (loaded.size) {
    const validators = createValidators({ root: rf.dir, resourceNames: after.resources });
    try {
      const checked = await checkSnapshot(after, validators, { devices: loaded, devicesOnly: true });
      for (const d of checked.diagnostics) if (d.severity === 'error') problems.push(d);
    } finally {
      await validators.close();
    }
  }
  if (problems.length) {
    const rows = writes.map((w) => ({ ...w, label: `device ${w.mac}` }));
    return fail(problems.map((d) => toRow(d, rows, csvName)), after);
  }

  // The report: per device what changes (dry run: YAML and rendered diffs).
  const counts = { create: 0, update: 0, unchanged: 0, skip: 0 };
  for (const d of plan.devices) counts[d.action]++;
  if (req.dryRun) {
    // A preview never shows a secret: the values at secret-looking keys, old and new, are masked.
    const secrets = new Set([...before.secrets, ...after.secrets, ...writes.flatMap((d) => d.envRefs.map((r) => r.value))]);
    for (const d of writes) {
      outLines.push(`# ${d.mac} (${csvName}:${d.line}): ${d.action === 'create' ? 'new device' : 'updated'}\n`);
      outLines.push(redactSecrets(unifiedDiff(d.before ?? '', d.after!, d.before === undefined ? '/dev/null' : `a/${d.rel}`, `b/${d.rel}`), secrets));
      outLines.push(...renderedDiffs(before, after, d.mac));
    }
  }
  for (const { column, why } of plan.ignored) errLines.push(`deskset devices import: column "${column}" not imported: ${why}\n`);
  const skipped = plan.devices.filter((d) => d.action === 'skip');
  if (skipped.length) errLines.push(`deskset devices import: ${skipped.length} devices exist and were left as they are (--merge or --overwrite updates them): ${list(skipped.map((d) => d.mac))}\n`);
  const plaintext = writes.filter((d) => d.plaintextSecrets.length);
  if (plaintext.length) {
    errLines.push(`warning: ${plaintext.length} device files ${req.dryRun ? 'would' : 'now'} hold plaintext secrets (${[...new Set(plaintext.flatMap((d) => d.plaintextSecrets))].join(', ')}): ${list(plaintext.map((d) => d.rel))}\n`);
    errLines.push('  keep them out of git, or import with --secrets-as-env PREFIX to write ${env:…} references instead\n');
  }
  const refs = writes.flatMap((d) => d.envRefs);
  if (refs.length) {
    errLines.push(`deskset devices import: ${refs.length} secrets ${req.dryRun ? 'would be' : 'were'} written as \${env:…} references; deskset serve needs these environment variables set (values from the CSV, not printed):\n`);
    for (const r of refs.slice(0, 50)) errLines.push(`  ${r.name}\n`);
    if (refs.length > 50) errLines.push(`  … and ${refs.length - 50} more (${req.secretsAsEnv}_<MAC>_<COLUMN>)\n`);
  }
  if (!req.dryRun && writes.length) await writeFilesAtomic(writes.map((d) => ({ file: path.join(rf.dir, d.rel), text: d.after! })));
  const verb = req.dryRun ? 'would create' : 'created';
  outLines.push(`${req.dryRun ? 'dry run, nothing written: ' : ''}${verb} ${counts.create}, ${req.dryRun ? 'would update' : 'updated'} ${counts.update}, unchanged ${counts.unchanged}, skipped ${counts.skip} (${plan.devices.length} rows)\n`);
  return { code: 0, out: outLines.join(''), err: errLines.join(''), devices: plan.devices, diagnostics: [] };
}

/** What a CSV's rows are checked against: the root's models, groups, sites and secret keys. */
export function rowContext(snap: Snapshot): RowContext {
  return {
    findModel: (name) => {
      const m = snap.catalog.find(name);
      return m && { name: m.name, vendor: m.vendor };
    },
    modelNames: snap.catalog.names(),
    groups: new Set(snap.profiles.groups.keys()),
    sites: new Set(snap.profiles.sites.keys()),
    extraSecretKeys: snap.secretKeys,
  };
}

/** A root that has errors before the CSV is read: they, and why nothing is judged. */
export function rootErrors(snap: Snapshot, root: string): Diagnostic[] {
  return [...snap.diagnostics.filter((d) => d.severity === 'error'), { code: 'ROOT_HAS_ERRORS', severity: 'error', message: `${root} has errors already: fix them first (deskset check), so the CSV is judged on its own rows` }];
}

/** A CSV file's text, or why it cannot be read (too big, not UTF-8). A missing file is a usage error. */
export async function readCsvFile(csvPath: string): Promise<string | Diagnostic> {
  const st = await fs.stat(csvPath).catch(() => undefined);
  if (!st?.isFile()) throw new UsageError(`${csvPath}: no such file`);
  if (st.size > MAX_CSV_BYTES) return { code: 'CSV_TOO_BIG', severity: 'error', message: `${st.size} bytes; at most ${MAX_CSV_BYTES}`, loc: { file: csvPath, line: 1, col: 1 } };
  const decoded = decodeUtf8(await fs.readFile(csvPath));
  if (typeof decoded !== 'string') return { code: 'CSV_NOT_UTF8', severity: 'error', message: 'not valid UTF-8: save the file as "CSV UTF-8" (Excel) or UTF-8', loc: { file: csvPath, line: decoded.line, col: decoded.col } };
  return decoded;
}

/** A file a CSV row writes, as findings about it are told: `label` (`device <mac>`), the MAC its findings carry, and the row. */
export interface RowFile {
  label: string;
  mac: string;
  rel: string;
  line: number;
}

/** A finding about a written file, told at the CSV row that wrote it. */
export function toRow(d: Diagnostic, writes: readonly RowFile[], csvName: string): Diagnostic {
  const byDevice = d.device !== undefined ? writes.find((w) => w.mac === d.device) : undefined;
  const byFile = d.loc ? writes.find((w) => d.loc!.file === w.rel || d.loc!.file.endsWith(`/${w.rel}`)) : undefined;
  const w = byDevice ?? byFile;
  if (!w) return d;
  const where = d.loc ? ` (in the file it would write, ${w.rel}:${d.loc.line}:${d.loc.col})` : '';
  return { ...d, message: `${w.label}: ${d.message}${where}`, loc: { file: csvName, line: w.line, col: 1 } };
}

/** What each of the device's files would become, secrets masked. */
function renderedDiffs(before: Snapshot, after: Snapshot, mac: string): string[] {
  const out: string[] = [];
  const render = (snap: Snapshot) => {
    const m = new Map<string, string>();
    for (const t of deviceTargets(snap, [mac])) {
      const r = renderTarget(snap.render, t, { redact: { secrets: new Set([...before.secrets, ...after.secrets]), extraKeys: snap.secretKeys } }).rendered;
      if (r) m.set(r.path, r.text);
    }
    return m;
  };
  const a = render(before);
  const b = render(after);
  for (const p of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const diff = unifiedDiff(a.get(p) ?? '', b.get(p) ?? '', a.has(p) ? `a/${p}` : '/dev/null', b.has(p) ? `b/${p}` : '/dev/null');
    if (diff) out.push(diff);
  }
  return out;
}

function list(items: string[]): string {
  return items.length <= 10 ? items.join(', ') : `${items.slice(0, 10).join(', ')} … and ${items.length - 10} more`;
}

function collector(): NodeJS.WritableStream & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign({ write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream, { lines });
}
