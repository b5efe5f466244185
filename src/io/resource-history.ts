// Phones never fetch a file name again once they have it (Avaya and Poly both cache by
// name), so an image or ringtone edited in place never reaches them. `check` warns when a
// media file's bytes changed but its name did not, compared with the hashes recorded by the
// last check of this root (state dir), and with git history when the root is in git.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Diagnostic } from '../check/diagnostics.js';
import { extensionOf } from '../render/resources.js';
import { Confinement, isInside, reallyInside } from './confine.js';

const run = promisify(execFile);
export const MEDIA_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'bmp', 'mp3', 'wav', 'ogg']);
const RECORD = 'resource-hashes.json';

/** The file's SHA-256, read through a descriptor checked to lie inside the root (undefined otherwise). */
async function hashFile(root: Confinement, p: string): Promise<string | undefined> {
  const opened = await root.open(p);
  if (opened === undefined || opened === 'outside') return undefined;
  const h = createHash('sha256');
  for await (const chunk of opened.handle.createReadStream()) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function mediaHashes(rootDir: string, resources: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const tree = new Confinement(rootDir, { sub: 'resources' });
  for (const r of resources) {
    if (!MEDIA_EXTENSIONS.has(extensionOf(r))) continue;
    const hash = await hashFile(tree, tree.at(r));
    if (hash !== undefined) out.set(r, hash);
  }
  return out;
}

/** Compare with the state dir's record, then write the new record. */
export async function checkAgainstRecord(rootDir: string, stateDir: string, current: Map<string, string>, display: (rel: string) => string): Promise<Diagnostic[]> {
  const file = path.join(rootDir, stateDir, RECORD);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // A state directory inside the root that is a symlink out of it is neither read nor written.
  if (isInside(path.resolve(rootDir), path.resolve(path.dirname(file))) && !(await reallyInside(rootDir, path.dirname(file)))) return [];
  let before: Record<string, string> = {};
  try {
    before = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, string>;
  } catch {
    /* first run: nothing to compare */
  }
  const out: Diagnostic[] = [];
  for (const [name, hash] of current) {
    if (before[name] && before[name] !== hash) out.push(warning(name, 'since the last check', display));
  }
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(Object.fromEntries(current), null, 1));
  await fs.rename(tmp, file);
  return out;
}

/** Media files modified (not renamed) in the working tree or in the last commit. */
export async function checkAgainstGit(rootDir: string, current: Map<string, string>, display: (rel: string) => string): Promise<Diagnostic[]> {
  const git = async (...args: string[]): Promise<string[]> => {
    try {
      const { stdout } = await run('git', ['-C', rootDir, ...args], { timeout: 10_000 });
      return stdout.split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const prefix = (await git('rev-parse', '--show-prefix'))[0] ?? '';
  const changed = new Set([
    ...(await git('diff', '--name-only', '--diff-filter=M', 'HEAD', '--', 'resources')),
    ...(await git('diff', '--name-only', '--diff-filter=M', 'HEAD~1', 'HEAD', '--', 'resources')),
  ]);
  const out: Diagnostic[] = [];
  for (const name of current.keys()) {
    if (changed.has(`${prefix}resources/${name}`)) out.push(warning(name, 'in git', display));
  }
  return out;
}

function warning(name: string, when: string, display: (rel: string) => string): Diagnostic {
  return {
    code: 'CACHE_BUSTING',
    severity: 'warning',
    message: `resources/${name} changed ${when} but kept its name: phones that already have it will never fetch it again; give the new version a new name`,
    loc: { file: display(`resources/${name}`), line: 1, col: 1 },
  };
}
