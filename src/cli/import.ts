// `deskset import DIR|FILE… --into ROOT`: the filesystem edge around src/import/. Reads the
// input files, plans the import (pure), proves it by rendering (pure), prints the report,
// and writes the root unless --dry-run or a device renders differently.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { formatLoc } from '../check/diagnostics.js';
import { ModelCatalog, parseVendorManifest, type VendorManifest } from '../vendors/manifest.js';
import { planImport, verifyRoundTrip, VENDORS, type InputFile, type Vendor } from '../import/index.js';
import { PACKAGE_ROOT, VERSION } from '../io/package-root.js';
import { readTextTree } from '../io/read-tree.js';
import { readRoot } from '../io/load-root.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

const MAX_INPUT = 64 * 1024 * 1024;

export function run(args: string[]): Promise<number> {
  return guarded('import', async () => {
    const { values, positionals } = parse(args, COMMANDS.import);
    if (!values.into) throw new UsageError('--into ROOT is required');
    if (positionals.length === 0) throw new UsageError('name at least one folder or file to import');
    const minShare = values['min-share'] === undefined ? 0.8 : Number(values['min-share']);
    if (!(minShare >= 0.5 && minShare <= 1)) throw new UsageError('--min-share must be a number from 0.5 to 1');
    const minGroup = values['min-group'] === undefined ? 5 : Number(values['min-group']);
    if (!Number.isInteger(minGroup) || minGroup < 2) throw new UsageError('--min-group must be a whole number of at least 2');
    const vendor = values.vendor as Vendor | undefined;
    if (vendor !== undefined && !VENDORS.includes(vendor)) throw new UsageError(`--vendor must be one of ${VENDORS.join(', ')}`);

    const { files, explicit, skipped } = await readInputs(positionals);
    const models: Array<{ mac: string; model: string; from: string }> = [];
    for (const m of values.model ?? []) {
      const eq = m.indexOf('=');
      if (eq < 1) throw new UsageError(`--model ${m}: expected MAC=MODEL`);
      models.push({ mac: m.slice(0, eq).trim(), model: m.slice(eq + 1).trim(), from: `--model ${m}` });
    }
    if (values.models) models.push(...(await readModelsCsv(values.models)));

    const shipped = (await readTextTree(PACKAGE_ROOT, ['templates'])).files;
    const manifests: VendorManifest[] = [];
    for (const [rel, text] of shipped) {
      if (!/^templates\/[^/]+\/vendor\.yaml$/.test(rel)) continue;
      const { manifest } = parseVendorManifest(text, rel);
      if (manifest) manifests.push(manifest);
    }
    // ROOT as it is: the import adds to it and is proven against the combined root.
    const into = path.resolve(values.into);
    const before = (await fs.stat(into).catch(() => undefined))?.isDirectory() ? await readRoot(into) : undefined;
    const existing = new Map(before?.files ?? []);
    const envList = await fs.readFile(path.join(into, '.env.example'), 'utf8').catch(() => undefined);
    if (envList !== undefined) existing.set('.env.example', envList);
    const plan = planImport({ files, explicit, catalog: new ModelCatalog(manifests), models, vendor, minShare, minGroup, inlineSecrets: values['inline-secrets'], existing, skipExisting: values['skip-existing'] });
    plan.findings.push(...skipped);

    const root = new Map([...(before?.files ?? []), ...plan.files]);
    for (const c of plan.copies) if (c.path.endsWith('/release.yaml')) root.set(c.path, new TextDecoder().decode(c.bytes));
    const verified = verifyRoundTrip({
      root,
      shipped,
      version: VERSION,
      subjects: plan.subjects,
      env: new Map(plan.secrets.map((s) => [s.name, s.value])),
      firmwareFiles: [...new Set([...(before?.firmware ?? []), ...plan.copies.filter((c) => c.path.startsWith('firmware/')).map((c) => c.path)])],
      resources: new Set([...(before?.resources ?? []), ...plan.copies.filter((c) => c.path.startsWith('resources/')).map((c) => c.path.slice('resources/'.length))]),
    });
    const secretValues = new Set(plan.secrets.map((s) => s.value).filter((v) => v.length >= 3));

    // Conflicts: device files by MAC (from the plan), then copies: the same bytes are no conflict (not written again).
    const clashes = [...plan.conflicts];
    const copies: typeof plan.copies = [];
    for (const c of plan.copies) {
      const there = await fs.readFile(path.join(into, c.path)).catch(() => undefined);
      if (!there) copies.push(c);
      else if (!Buffer.from(c.bytes).equals(there)) clashes.push(c.path);
    }
    for (const k of plan.kept) process.stderr.write(`${k}: kept as it is (--skip-existing): that phone is not imported\n`);

    const differs = verified.results.filter((r) => r.status === 'differs');
    const equal = verified.results.filter((r) => r.status === 'equal');
    const unchecked = verified.results.filter((r) => r.status === 'unchecked');
    // Errors in the root's own files were there before the import: reported, not blocking.
    const coreErrors = verified.diagnostics.filter((d) => d.severity === 'error' && !/model is missing|missing required key "model"/.test(d.message) && !(d.loc && existing.has(d.loc.file) && !plan.files.has(d.loc.file)));
    const blocked = clashes.length > 0 || ((differs.length > 0 || coreErrors.length > 0) && !values['accept-differences']);
    const write = !values['dry-run'] && !blocked;

    // Findings and dropped parameters: stderr, file:line:col first.
    printDiagnostics(plan.findings, process.stderr, secretValues);
    printDiagnostics(verified.diagnostics, process.stderr, secretValues);
    for (const d of plan.dropped) process.stderr.write(`${formatLoc(d.loc)}: not imported ${d.key}: ${d.reason}\n`);

    if (values.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            into,
            written: write,
            vendors: plan.vendors,
            linesIn: plan.linesIn,
            linesOut: plan.linesOut,
            files: [...plan.files].map(([p, t]) => ({ path: p, lines: t.split('\n').length - 1 })).concat(plan.copies.map((c) => ({ path: c.path, lines: 0 }))),
            devices: verified.results.map((r) => ({ id: r.subject.id, vendor: r.subject.vendor, model: r.subject.model ?? null, modelFrom: r.subject.modelFrom ?? null, probe: r.subject.probe, status: r.status, compared: r.compared, notes: r.notes })),
            secrets: plan.secrets.map((s) => ({ name: s.name, where: s.where })),
            dropped: plan.dropped.map((d) => ({ file: d.loc.file, line: d.loc.line, key: d.key, reason: d.reason })),
            clashes,
            kept: plan.kept,
            adding: plan.adding,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      const out: string[] = [];
      out.push(`round trip (rendered back with deskset ${VERSION} and compared per phone):`);
      for (const r of verified.results) {
        const who = `${r.subject.id}${r.subject.model && !r.subject.probe ? ` (${r.subject.model}${r.subject.modelFrom ? ` from ${r.subject.modelFrom}` : ''})` : ''}`;
        out.push(`  ${r.status.padEnd(9)} ${r.subject.vendor.padEnd(7)} ${who}: ${r.compared} parameters`);
        for (const n of r.notes) out.push(`      ${n}`);
      }
      out.push(`${equal.length} equal, ${differs.length} differ, ${unchecked.length} not checked`);
      out.push(`lines in ${plan.linesIn} -> lines out ${plan.linesOut} (${plan.files.size} files: ${plan.layers.models.size} model, ${plan.layers.groups.size} group, ${plan.layers.devices.size} device profiles)`);
      if (plan.secrets.length) out.push(`${plan.secrets.length} secret(s) written as \${env:…} references, listed in .env.example: ${plan.secrets.slice(0, 4).map((s) => s.name).join(', ')}${plan.secrets.length > 4 ? ', …' : ''}`);
      out.push(`${plan.dropped.length} input parameter(s) not imported (listed on stderr with the reason)`);
      if (values['dry-run']) {
        out.push(`would write under ${into}:`);
        for (const [p, t] of plan.files) out.push(`  ${p} (${t.split('\n').length - 1} lines)`);
        for (const c of plan.copies) out.push(`  ${c.path} (${c.bytes.length} bytes, copied)`);
      }
      process.stdout.write(`${out.join('\n')}\n`);
    }
    for (const c of clashes) process.stderr.write(`${c}: conflict: ${into} already has this file; the import would write it${c.startsWith('profiles/devices/') ? ' (the same phone)' : ''}\n`);
    if (clashes.length) process.stderr.write(`deskset import: ${clashes.length} file(s) conflict with what ${into} already has; nothing written (--skip-existing leaves those phones as they are and imports the rest)\n`);
    else if (blocked) process.stderr.write(`deskset import: ${differs.length ? `${differs.length} device(s) would render differently` : 'the imported root has errors'}; nothing written (--accept-differences writes it anyway)\n`);
    if (write) {
      for (const [p, t] of plan.files) {
        await fs.mkdir(path.dirname(path.join(into, p)), { recursive: true });
        await fs.writeFile(path.join(into, p), t);
      }
      for (const c of copies) {
        await fs.mkdir(path.dirname(path.join(into, c.path)), { recursive: true });
        await fs.writeFile(path.join(into, c.path), c.bytes);
      }
      if (!values.json) process.stdout.write(`wrote ${plan.files.size + copies.length} files under ${into}${plan.adding ? ' (added to the existing root: its global.yaml and models/ are unchanged)' : ''}\n`);
    }
    return blocked ? 1 : 0;
  });
}

/** Folders are read recursively (dot files skipped); files named one by one are "explicit". */
async function readInputs(args: string[]) {
  const files: InputFile[] = [];
  const explicit = new Set<string>();
  const skipped: Array<{ code: string; severity: 'warning'; message: string; loc: { file: string; line: number; col: number } }> = [];
  const add = async (p: string, name: string, isExplicit: boolean) => {
    const st = await fs.stat(p);
    if (st.size > MAX_INPUT) {
      skipped.push({ code: 'IMPORT_SKIPPED', severity: 'warning', message: `skipped: ${st.size} bytes, over ${MAX_INPUT}`, loc: { file: name, line: 1, col: 1 } });
      return;
    }
    files.push({ name, bytes: await fs.readFile(p) });
    if (isExplicit) explicit.add(name);
  };
  const walk = async (dir: string, shown: string, depth: number): Promise<void> => {
    if (depth > 16) return;
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      const name = `${shown}/${e.name}`;
      if (e.isDirectory()) await walk(p, name, depth + 1);
      else if (e.isFile()) await add(p, name, false);
    }
  };
  for (const a of args) {
    const st = await fs.stat(a).catch(() => undefined);
    if (!st) throw new UsageError(`${a}: no such file or folder`);
    if (st.isDirectory()) await walk(a, a.replace(/\/+$/, '') || '/', 0);
    else await add(a, a, true);
  }
  return { files, explicit, skipped };
}

async function readModelsCsv(file: string): Promise<Array<{ mac: string; model: string; from: string }>> {
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new UsageError(`--models ${file}: cannot be read`);
  });
  const out: Array<{ mac: string; model: string; from: string }> = [];
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    const cells = line.split(/[,;\t]/).map((c) => c.trim().replace(/^"|"$/g, ''));
    if (cells.length < 2 || cells[0] === '' || (i === 0 && /mac/i.test(cells[0]!))) return;
    out.push({ mac: cells[0]!, model: cells[1]!, from: `${file}:${i + 1}` });
  });
  return out;
}
