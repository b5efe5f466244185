// `deskset codes issue [ROOT] --csv FILE [--overwrite] [--ttl H] [--out FILE] [--json]`: Cisco
// BAT style bulk activation codes. All or nothing: every row is planned, the root with the
// placeholder files is built and each new placeholder checked as `check` checks it, and codes
// are made, before one file is written or one code stored. The codes are printed once (or
// written to --out, a new file of mode 0600); the state store and the audit log keep ids.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { checkSnapshot } from '../check/check.js';
import { hasErrors, type Diagnostic } from '../check/diagnostics.js';
import { placeholderMac, PLACEHOLDERS_DIR, type ParseCache } from '../config/profiles.js';
import { planPlaceholders, type PlaceholderPlan } from '../csv/placeholder-plan.js';
import { readCsv } from '../csv/read.js';
import { formatCode } from '../enroll/codes.js';
import type { CodeRecord } from '../enroll/contract.js';
import { issueAudit, issueCode } from '../enroll/issue.js';
import { writeFileAtomic, writeFilesAtomic } from '../io/atomic-write.js';
import { buildFromRoot, readRoot } from '../io/load-root.js';
import { createValidators } from '../io/validators.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { StateStore } from '../store/contract.js';
import { describe } from './codes.js';
import { printDiagnostics, UsageError } from './common.js';
import { readCsvFile, rootErrors, rowContext, toRow } from './devices-import.js';

export interface CsvIssueRequest {
  csvPath: string;
  rootDir: string;
  store: StateStore;
  overwrite: boolean;
  ttlHours?: number;
  json: boolean;
  /** Write name,model,code here (a new file, 0600) rather than print the codes. */
  out?: string;
  issuedBy: string;
}

interface Issued {
  plan: PlaceholderPlan;
  model: string;
  code: string;
  record: CodeRecord;
}

export async function issueFromCsv(req: CsvIssueRequest): Promise<number> {
  // Codes go to a new file only: overwriting would lose codes printed nowhere else.
  if (req.out !== undefined && (await fs.lstat(req.out).catch(() => undefined))) throw new UsageError(`--out ${req.out} exists: codes are written to a new file only`);
  const fail = (diagnostics: readonly Diagnostic[], snap?: Snapshot): number => {
    const { errors } = printDiagnostics(diagnostics, process.stderr, snap?.secrets);
    process.stderr.write(`deskset codes issue: nothing written, no code issued (${errors} errors)\n`);
    return 1;
  };
  const text = await readCsvFile(req.csvPath);
  if (typeof text !== 'string') return fail([text]);
  const read = readCsv(text, req.csvPath, 'name and model');
  if (!read.table) return fail(read.diagnostics);

  const rf = await readRoot(req.rootDir);
  const parseCache: ParseCache = new Map();
  const before = await buildFromRoot(rf, parseCache);
  if (hasErrors(before.diagnostics)) return fail(rootErrors(before, req.rootDir), before);
  const existing = new Map<string, { rel: string; text: string }>();
  for (const [rel, t] of rf.files) {
    const name = rel.startsWith(PLACEHOLDERS_DIR) ? rel.slice(PLACEHOLDERS_DIR.length) : '';
    if (/^[^/]+\.ya?ml$/i.test(name)) existing.set(name.replace(/\.ya?ml$/i, '').toLowerCase(), { rel, text: t });
  }
  const plan = planPlaceholders(read.table, { ...rowContext(before), file: req.csvPath, existing, overwrite: req.overwrite, devices: new Set(before.profiles.devices.keys()) });
  if (hasErrors(plan.diagnostics)) return fail(plan.diagnostics, before);

  const after = await placeholdersChecked(rf, parseCache, plan.placeholders);
  const rows = plan.placeholders.map((p) => ({ label: `placeholder ${p.name}`, mac: placeholderMac(p.name), rel: p.rel, line: p.line }));
  if (after.problems.length) return fail(after.problems.map((d) => toRow(d, rows, req.csvPath)), after.snap);

  // Every code is made before anything is written, so a refusal (a bad --ttl) leaves no trace.
  const now = new Date();
  const issued: Issued[] = [];
  for (const p of plan.placeholders) {
    const r = issueCode(after.snap.profiles, { placeholder: p.name, mac: p.mac, ttlHours: req.ttlHours, issuedBy: req.issuedBy }, now);
    if (!r.ok) return fail([{ code: 'CODE_ISSUE', severity: 'error', message: r.message, loc: { file: req.csvPath, line: p.line, col: 1 } }], after.snap);
    issued.push({ plan: p, model: after.snap.profiles.placeholders.get(p.name)!.model.name, code: r.code, record: r.record });
  }

  // The codes file first: a code stored but written nowhere could never be handed out.
  if (req.out !== undefined) await writeCodesFile(req.out, issued);
  try {
    await writeAndStore(req.store, issued, rf.dir, now);
  } catch (e) {
    if (req.out !== undefined) await fs.rm(req.out, { force: true });
    throw e;
  }

  for (const { column, why } of plan.ignored) process.stderr.write(`deskset codes issue: column "${column}" not read: ${why}\n`);
  const plaintext = plan.placeholders.filter((p) => p.plaintextSecrets.length);
  if (plaintext.length) process.stderr.write(`warning: ${plaintext.length} placeholder files now hold plaintext secrets (${[...new Set(plaintext.flatMap((p) => p.plaintextSecrets))].join(', ')}): keep them out of git, or write \${env:…} or \${file:…} references in the CSV\n`);
  const shown = req.out === undefined;
  if (req.json) {
    process.stdout.write(`${JSON.stringify(issued.map((i) => ({ name: i.plan.name, model: i.model, ...(shown ? { code: i.code } : {}), ...describe(i.record), file: i.plan.rel })), null, 2)}\n`);
  } else {
    process.stdout.write(table(['NAME', 'MODEL', shown ? 'CODE' : 'ID'], issued.map((i) => [i.plan.name, i.model, shown ? formatCode(i.code) : i.record.id])));
    const until = issued[0] ? `, until ${issued[0].record.expiresAt}` : '';
    process.stdout.write(`${issued.length} placeholders written and ${issued.length} activation codes issued${until}. `);
    process.stdout.write(shown ? 'The codes are shown only now: deskset keeps their digests.\n' : `The codes are in ${req.out} (mode 0600), and nowhere else: deskset keeps their digests.\n`);
  }
  return 0;
}

/** The root with the placeholder files written, built and each new placeholder checked; the errors that would make `check` fail. */
async function placeholdersChecked(rf: Awaited<ReturnType<typeof readRoot>>, parseCache: ParseCache, plans: readonly PlaceholderPlan[]): Promise<{ snap: Snapshot; problems: Diagnostic[] }> {
  const files = new Map(rf.files);
  for (const p of plans) files.set(p.rel, p.after);
  const snap = await buildFromRoot({ ...rf, files }, parseCache);
  const problems = snap.diagnostics.filter((d) => d.severity === 'error');
  const fresh = new Map(plans.flatMap((p) => {
    const entry = snap.profiles.placeholders.get(p.name);
    return entry ? [[p.name, entry] as const] : [];
  }));
  if (!fresh.size) return { snap, problems };
  // Only the new placeholders' files (and the shared ones, which check always renders).
  const validators = createValidators({ root: rf.dir, resourceNames: snap.resources });
  try {
    const checked = await checkSnapshot({ ...snap, profiles: { ...snap.profiles, placeholders: fresh } }, validators, { devices: new Set() });
    for (const d of checked.diagnostics) if (d.severity === 'error') problems.push(d);
  } finally {
    await validators.close();
  }
  return { snap, problems };
}

/**
 * Write the placeholder files, then store each code and its audit record (its id, never the
 * code). Should either fail midway, the files go back to what they were and the codes stored
 * are released: nothing is left half done for a second run to trip on.
 */
async function writeAndStore(store: StateStore, issued: readonly Issued[], rootDir: string, now: Date): Promise<void> {
  const stored: string[] = [];
  try {
    await writeFilesAtomic(issued.map(({ plan: p }) => ({ file: path.join(rootDir, p.rel), text: p.after })));
    for (const i of issued) {
      await store.insertCode(i.record);
      stored.push(i.record.id);
      await store.appendAudit(issueAudit(i.record));
    }
  } catch (e) {
    await Promise.all(issued.map(({ plan: p }) => (p.before === undefined ? fs.rm(path.join(rootDir, p.rel), { force: true }) : writeFileAtomic(path.join(rootDir, p.rel), p.before))));
    for (const id of stored) await store.releaseCode(id, now.toISOString()).catch(() => false);
    throw e;
  }
}

/** name,model,code for the installers: a new file only this user can read. */
async function writeCodesFile(file: string, issued: readonly Issued[]): Promise<void> {
  const csv = stringify(issued.map((i) => [i.plan.name, i.model, formatCode(i.code)]), { header: true, columns: ['name', 'model', 'code'] });
  await fs.writeFile(file, csv, { flag: 'wx', mode: 0o600 });
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}
