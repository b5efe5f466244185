// The filesystem edge of snapshot building: read the root and the shipped vendor data,
// then hand plain maps to the pure core. A reload re-reads only what changed.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../check/diagnostics.js';
import type { ParseCache } from '../config/profiles.js';
import { buildSnapshotSteps, type Snapshot } from '../snapshot/snapshot.js';
import { runPaused, runSteps, type Pause } from '../config/steps.js';
import { PACKAGE_ROOT, VERSION } from './package-root.js';
import { Confinement } from './confine.js';
import { listTree, readTextTree } from './read-tree.js';

/** The text parts of a config root; resources/ and firmware/ are listed, not read. */
export const ROOT_ENTRIES = ['deskset.yaml', 'profiles', 'templates'];

export interface RootFiles {
  dir: string;
  files: Map<string, string>;
  resources: Set<string>;
  /** Root-relative paths of every file under firmware/. */
  firmware: string[];
  firmwareSizes: Map<string, number>;
  problems: Diagnostic[];
}

let shippedCache: Promise<Map<string, string>> | undefined;
function shipped(): Promise<Map<string, string>> {
  shippedCache ??= readTextTree(PACKAGE_ROOT, ['templates']).then((r) => r.files);
  return shippedCache;
}

export async function readRoot(rootDir: string): Promise<RootFiles> {
  const dir = path.resolve(rootDir);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`config root ${rootDir} is not a directory`);
  const read = await readTextTree(dir, ROOT_ENTRIES);
  const resources = new Set((await listServed(dir, 'resources', read.diagnostics)).map(underResources));
  const firmware = await listServed(dir, 'firmware', read.diagnostics);
  await readReleaseFiles(dir, firmware, read.files, read.diagnostics);
  read.diagnostics.push(...(await listTree(dir, ['schemas'])).diagnostics);
  return { dir, files: read.files, resources, firmware, firmwareSizes: await sizesOf(dir, firmware), problems: read.diagnostics };
}

/**
 * A new RootFiles with only `changed` (root-relative paths, files or directories) re-read.
 * The input is not modified, so the snapshot built from it stays consistent.
 */
export async function patchRoot(prev: RootFiles, changed: Iterable<string>): Promise<RootFiles> {
  const files = new Map(prev.files);
  const resources = new Set(prev.resources);
  let problems = prev.problems;
  let firmware = prev.firmware;
  let firmwareSizes = prev.firmwareSizes;
  for (const rel of new Set(changed)) {
    if (rel === 'firmware' || rel.startsWith('firmware/')) {
      // Firmware changes are rare and the listing is small: list it again.
      const extra: Diagnostic[] = [];
      firmware = await listServed(prev.dir, 'firmware', extra);
      firmwareSizes = await sizesOf(prev.dir, firmware);
      for (const k of [...files.keys()]) if (k.startsWith('firmware/')) files.delete(k);
      await readReleaseFiles(prev.dir, firmware, files, extra);
      problems = [...problems.filter((p) => !isUnder(p, 'firmware')), ...extra];
      continue;
    }
    if (rel === 'resources' || rel.startsWith('resources/')) {
      const sub = rel === 'resources' ? '' : rel.slice('resources/'.length);
      for (const r of [...resources]) if (sub === '' || r === sub || r.startsWith(`${sub}/`)) resources.delete(r);
      const extra: Diagnostic[] = [];
      for (const f of await listServed(prev.dir, rel, extra)) resources.add(underResources(f));
      problems = [...problems.filter((p) => !isUnder(p, rel)), ...extra];
      continue;
    }
    if (rel === 'schemas' || rel.startsWith('schemas/')) {
      // XSDs are read by the validators; listed here only so loops and links out are reported.
      problems = [...problems.filter((p) => !isUnder(p, rel)), ...(await listTree(prev.dir, [rel])).diagnostics];
      continue;
    }
    if (!ROOT_ENTRIES.some((e) => rel === e || rel.startsWith(`${e}/`))) continue;
    // A file is one key; only a directory needs the scan (10,000 keys on a large root).
    if (!files.delete(rel)) for (const k of [...files.keys()]) if (k.startsWith(`${rel}/`)) files.delete(k);
    const read = await readTextTree(prev.dir, [rel], { stable: true });
    for (const [k, v] of read.files) files.set(k, v);
    problems = [...problems.filter((p) => !isUnder(p, rel)), ...read.diagnostics];
  }
  return { dir: prev.dir, files, resources, firmware, firmwareSizes, problems };
}

/**
 * `pause`: build in slices, waiting whenever it says so (a server answering phones meanwhile).
 * `displayDir`: name files as if the root were there (`diff` builds a git revision in a temp
 * dir, and its messages name the admin's own files). `env`: where ${env:…} references are
 * looked up (default the process environment; a CSV import checks references it is about to
 * write against the values it was given).
 */
export async function buildFromRoot(rf: RootFiles, parseCache?: ParseCache, pause?: Pause, displayDir = rf.dir, env: (name: string) => string | undefined = (name) => process.env[name]): Promise<Snapshot> {
  // Name files as the admin would from here: `samples/profiles/global.yaml`.
  const rel = path.relative(process.cwd(), displayDir);
  const display = (p: string): string => (rel === '' ? p : !rel.startsWith('..') ? `${rel}/${p}` : path.join(displayDir, p));
  const steps = buildSnapshotSteps({
    root: rf.files,
    shipped: await shipped(),
    version: VERSION,
    rootDir: rf.dir,
    display,
    resources: rf.resources,
    firmwareFiles: rf.firmware,
    firmwareSizes: rf.firmwareSizes,
    parseCache,
    secretRefs: { env, readFile: (rel) => readSecretFile(rf.dir, rel) },
  });
  const snap = pause ? await runPaused(steps, pause) : runSteps(steps);
  snap.diagnostics.unshift(...rf.problems.map((d) => (d.loc ? { ...d, loc: { ...d.loc, file: display(d.loc.file) } } : d)));
  return snap;
}

export async function loadRoot(rootDir: string): Promise<Snapshot> {
  return buildFromRoot(await readRoot(rootDir));
}

/**
 * Root-relative paths of the files under `rel` (resources/ or firmware/, or a path in them),
 * sorted; symlink loops and links out of that tree go to `problems` instead.
 */
async function listServed(dir: string, rel: string, problems: Diagnostic[]): Promise<string[]> {
  const top = rel.split('/')[0]!;
  const listed = await listTree(dir, [rel], { sub: top });
  problems.push(...listed.diagnostics);
  return listed.files.filter((f) => f.startsWith(`${top}/`)).sort();
}

/** `resources/a/b.xml` → `a/b.xml`, the name the resource index knows. */
const underResources = (rel: string): string => rel.slice('resources/'.length);

/** A problem found in `rel` or below it: re-reading `rel` replaces it. */
function isUnder(p: Diagnostic, rel: string): boolean {
  return p.loc !== undefined && (p.loc.file === rel || p.loc.file.startsWith(`${rel}/`));
}

/** release.yaml files are the only text read from firmware/ (images are only listed). */
async function readReleaseFiles(dir: string, firmware: readonly string[], into: Map<string, string>, problems: Diagnostic[]): Promise<void> {
  const releases = firmware.filter((f) => f.endsWith('/release.yaml'));
  const read = await readTextTree(dir, releases);
  for (const [k, v] of read.files) into.set(k, v);
  problems.push(...read.diagnostics);
}

/**
 * A `${file:…}` secret: relative to the root, and after resolving symlinks still inside it
 * (config/secret-refs.ts already refused absolute paths and `..`). Small files only.
 */
export function readSecretFile(rootDir: string, rel: string): string | undefined {
  try {
    const confine = new Confinement(rootDir);
    // Decided on the opened file: a symlink swapped in after any earlier look is still caught.
    return confine.readTextSync(confine.at(rel), 64 * 1024);
  } catch {
    return undefined; // the root itself is gone
  }
}

async function sizesOf(dir: string, rels: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of rels) {
    const st = await fs.stat(path.join(dir, r)).catch(() => undefined);
    if (st) out.set(r, st.size);
  }
  return out;
}
