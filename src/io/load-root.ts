// The filesystem edge of snapshot building: read the root and the shipped vendor data,
// then hand plain maps to the pure core. A reload re-reads only what changed.

import { promises as fs, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';
import type { ParseCache } from '../core/profiles.js';
import { buildSnapshotSteps, type Snapshot } from '../core/snapshot.js';
import { runPaused, runSteps, type Pause } from '../core/steps.js';
import { PACKAGE_ROOT, VERSION } from './package-root.js';
import { readTextTree } from './read-tree.js';

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
  const resources = new Set(await listFiles(path.join(dir, 'resources')));
  const firmware = (await listFiles(path.join(dir, 'firmware'))).map((f) => `firmware/${f}`);
  await readReleaseFiles(dir, firmware, read.files, read.diagnostics);
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
      firmware = (await listFiles(path.join(prev.dir, 'firmware'))).map((f) => `firmware/${f}`);
      firmwareSizes = await sizesOf(prev.dir, firmware);
      for (const k of [...files.keys()]) if (k.startsWith('firmware/')) files.delete(k);
      const extra: Diagnostic[] = [];
      await readReleaseFiles(prev.dir, firmware, files, extra);
      problems = [...problems.filter((p) => !p.loc?.file.startsWith('firmware/')), ...extra];
      continue;
    }
    if (rel === 'resources' || rel.startsWith('resources/')) {
      const sub = rel === 'resources' ? '' : rel.slice('resources/'.length);
      for (const r of [...resources]) if (sub === '' || r === sub || r.startsWith(`${sub}/`)) resources.delete(r);
      const found = await listFiles(path.join(prev.dir, rel));
      const st = await fs.stat(path.join(prev.dir, rel)).catch(() => undefined);
      if (st?.isFile()) resources.add(sub);
      for (const f of found) resources.add(sub ? `${sub}/${f}` : f);
      continue;
    }
    if (!ROOT_ENTRIES.some((e) => rel === e || rel.startsWith(`${e}/`))) continue;
    for (const k of [...files.keys()]) if (k === rel || k.startsWith(`${rel}/`)) files.delete(k);
    const read = await readTextTree(prev.dir, [rel], { stable: true });
    for (const [k, v] of read.files) files.set(k, v);
    // A directory re-read replaces the problems of every file below it too.
    problems = [...problems.filter((p) => p.loc?.file !== rel && !p.loc?.file.startsWith(`${rel}/`)), ...read.diagnostics];
  }
  return { dir: prev.dir, files, resources, firmware, firmwareSizes, problems };
}

/** `pause`: build in slices, waiting whenever it says so (a server answering phones meanwhile). */
export async function buildFromRoot(rf: RootFiles, parseCache?: ParseCache, pause?: Pause): Promise<Snapshot> {
  // Name files as the admin would from here: `samples/profiles/global.yaml`.
  const rel = path.relative(process.cwd(), rf.dir);
  const display = (p: string): string => (rel === '' ? p : !rel.startsWith('..') ? `${rel}/${p}` : path.join(rf.dir, p));
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
    secretRefs: { env: (name) => process.env[name], readFile: (rel) => readSecretFile(rf.dir, rel) },
  });
  const snap = pause ? await runPaused(steps, pause) : runSteps(steps);
  snap.diagnostics.unshift(...rf.problems.map((d) => (d.loc ? { ...d, loc: { ...d.loc, file: display(d.loc.file) } } : d)));
  return snap;
}

export async function loadRoot(rootDir: string): Promise<Snapshot> {
  return buildFromRoot(await readRoot(rootDir));
}

/** Relative paths of every regular file below `dir` (absent dir: none). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
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
 * (core/secret-refs.ts already refused absolute paths and `..`). Small files only.
 */
export function readSecretFile(rootDir: string, rel: string): string | undefined {
  try {
    const realRoot = realpathSync(rootDir);
    const real = realpathSync(path.join(realRoot, rel));
    if (!real.startsWith(realRoot + path.sep)) return undefined;
    if (statSync(real).size > 64 * 1024) return undefined;
    return readFileSync(real, 'utf8');
  } catch {
    return undefined;
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
