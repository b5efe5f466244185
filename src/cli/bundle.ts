// `deskset bundle [ROOT] --for static|des|ipoffice [--format zip|tar.gz|tar] --out FILE`: the
// root's files packed for another server. Every problem is found before FILE is written;
// the same root gives the same bytes.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { hasErrors, type Diagnostic } from '../check/diagnostics.js';
import { archiveBytes, type ArchiveEntry, type ArchiveFormat } from '../bundle/archive.js';
import { DES_DEFAULT_MAX_BYTES, desProblems, IPOFFICE_MAX_BYTES, ipofficeProblems, sizeProblem } from '../bundle/rules.js';
import { buildSpecials } from '../bundle/specials.js';
import { loadRoot } from '../io/load-root.js';
import { renderTree, type TreeFile } from '../io/render-tree.js';
import { renderTarget } from '../render/render.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

const TARGETS = ['static', 'des', 'ipoffice'] as const;
type Target = (typeof TARGETS)[number];
const FORMATS: Record<Target, readonly ArchiveFormat[]> = { static: ['zip', 'tar.gz'], des: ['zip'], ipoffice: ['tar'] };
export const MANIFEST = 'deskset-manifest.json';

export function run(args: string[]): Promise<number> {
  return guarded('bundle', async () => {
    const { values, positionals } = parse(args, COMMANDS.bundle);
    const target = values.for as Target | undefined;
    if (!target || !TARGETS.includes(target)) throw new UsageError(`--for must be one of ${TARGETS.join(', ')}`);
    const format = (values.format ?? FORMATS[target][0]) as ArchiveFormat;
    if (!FORMATS[target].includes(format)) throw new UsageError(`--for ${target} makes ${FORMATS[target].join(' or ')}, not ${values.format}`);
    if (!values.out) throw new UsageError('--out FILE is required');
    if (values.site !== undefined && target !== 'ipoffice') throw new UsageError('--site is for --for ipoffice');
    let maxBytes = target === 'ipoffice' ? IPOFFICE_MAX_BYTES : DES_DEFAULT_MAX_BYTES;
    if (values['max-bytes'] !== undefined) {
      maxBytes = Number(values['max-bytes']);
      if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new UsageError(`--max-bytes must be a positive whole number, not "${values['max-bytes']}"`);
    }
    const root = positionals[0] ?? '.';
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    const snap = await loadRoot(root);
    if (hasErrors(snap.diagnostics)) {
      printDiagnostics(snap.diagnostics, process.stderr, snap.secrets);
      return 1;
    }
    if (target === 'ipoffice' && values.site !== undefined && !snap.profiles.sites.has(values.site)) throw new UsageError(`no site "${values.site}" in ${root} (profiles/sites/)`);
    const tree = await renderTree(snap, { showSecrets: values['show-secrets'] });
    const problems: Diagnostic[] = [...tree.problems];
    const outName = path.basename(values.out);
    let entries: ArchiveEntry[];
    if (target === 'static') entries = await withManifest(tree.files);
    else if (target === 'des') {
      entries = desFiles(snap, tree.files, !values['show-secrets']);
      const fromResources = (n: string) => (snap.resources.has(n) ? snap.display(`resources/${n}`) : n);
      problems.push(...desProblems(entries.map((e) => e.name), [...snap.resources].filter((r) => !r.includes('{{')), fromResources));
    } else {
      entries = ipofficeFiles(snap, tree.files, values.site, !values['show-secrets']);
      problems.push(...ipofficeProblems(entries.map((e) => e.name)));
    }
    if (hasErrors(problems)) {
      printDiagnostics(problems, process.stderr, snap.secrets);
      process.stderr.write(`deskset bundle: ${values.out} not written\n`);
      return 1;
    }
    const bytes = await archiveBytes(entries, format);
    if (target !== 'static') {
      const sizes = await Promise.all(entries.map(async (e) => ({ name: e.name, size: e.bytes?.length ?? (await fs.stat(e.from!)).size })));
      const tooBig = sizeProblem(outName, bytes.length, maxBytes, sizes, target === 'des' ? 'DES' : 'IP Office');
      if (tooBig) {
        printDiagnostics([tooBig], process.stderr);
        process.stderr.write(`deskset bundle: ${values.out} not written\n`);
        return 1;
      }
    }
    // Written whole or not at all: a half-written bundle uploaded to DES would be worse than none.
    const tmp = `${values.out}.${process.pid}.tmp`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, values.out);
    printDiagnostics(problems, process.stderr, snap.secrets);
    const summary = { out: path.resolve(values.out), for: target, format, files: entries.length, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), secrets: values['show-secrets'] ? 'shown' : 'masked' };
    if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(`bundled ${entries.length} file${entries.length === 1 ? '' : 's'} for ${target} into ${values.out} (${bytes.length} bytes, sha256 ${summary.sha256})${values['show-secrets'] ? ' (with secrets: handle with care)' : ' (secrets shown as ••••; --show-secrets for deployable files)'}\n`);
    return 0;
  });
}

/** The static tree and its manifest: each file's path, size and SHA-256. */
async function withManifest(files: readonly TreeFile[]): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const list: Array<{ path: string; bytes: number; sha256: string }> = [];
  for (const f of files) {
    const bytes = f.bytes ?? (await fs.readFile(f.from!));
    list.push({ path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    entries.push(f.bytes ? { name: f.path, bytes: f.bytes } : { name: f.path, from: f.from });
  }
  if (files.some((f) => f.path === MANIFEST)) throw new UsageError(`the root serves a file named ${MANIFEST}, which the bundle's manifest would replace`);
  list.sort((a, b) => (a.path < b.path ? -1 : 1));
  entries.push({ name: MANIFEST, bytes: Buffer.from(`${JSON.stringify({ files: list }, null, 2)}\n`) });
  return entries;
}

/**
 * What DES serves from a profile's zip: Avaya's rendered files at the top (J100Supgrade.txt, the
 * per-device <mac>.txt) and the resources phones fetch; not firmware (DES offers releases
 * itself) nor the per-device folder forms. DES cannot tell phones apart by User-Agent as deskset
 * does, so its 46xxsettings.txt is the one an unidentified phone gets (global and model layers,
 * no credentials) ending in `GET $MACADDR.txt`: each phone then reads its own settings.
 */
function desFiles(snap: Snapshot, files: readonly TreeFile[], mask: boolean): ArchiveEntry[] {
  const out: ArchiveEntry[] = files
    .filter((f) => (f.rendered ? f.vendor === 'avaya' && !f.path.includes('/') : !f.path.startsWith('firmware/')))
    .map((f) => (f.bytes ? { name: f.path, bytes: f.bytes } : { name: f.path, from: f.from }));
  const spec = snap.catalog.vendor('avaya')?.files.find((f) => f.paths.includes('46xxsettings.txt'));
  if (spec && !out.some((e) => e.name === '46xxsettings.txt')) {
    const r = renderTarget(snap.render, { file: spec, path: '46xxsettings.txt' }, mask ? { redact: { secrets: snap.secrets, extraKeys: snap.secretKeys } } : {});
    if (r.rendered) out.push({ name: '46xxsettings.txt', bytes: Buffer.from(`${r.rendered.text}## Per-device settings: <mac>.txt in this bundle\nGET $MACADDR.txt\n`, 'utf8') });
  }
  return out;
}

/** 46xxspecials.txt from the profiles, and the resources it names (images, screen savers). */
function ipofficeFiles(snap: Snapshot, files: readonly TreeFile[], site: string | undefined, mask: boolean): ArchiveEntry[] {
  const specials = buildSpecials({ profiles: snap.profiles, layers: snap.config.layers, models: snap.catalog.vendor('avaya')?.models ?? [], site, mask: mask ? { extraKeys: snap.secretKeys } : undefined });
  const named = files.filter((f) => !f.rendered && !f.path.startsWith('firmware/') && !f.path.includes('/') && specials.includes(f.path));
  return [{ name: '46xxspecials.txt', bytes: Buffer.from(specials, 'utf8') }, ...named.map((f) => (f.bytes ? { name: f.path, bytes: f.bytes } : { name: f.path, from: f.from }))];
}
