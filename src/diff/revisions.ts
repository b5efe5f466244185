// The git edge of `deskset diff`: which two versions of a root to compare, and a read-only copy
// of a revision in a temp dir (`git archive`), so the admin's checkout, index and HEAD are
// never touched.

import { spawn } from 'node:child_process';
import { existsSync, promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DiffArgs {
  root: string;
  /** A git revision, or undefined for the working tree. */
  from?: string;
  to?: string;
}

export class RevisionError extends Error {}

/**
 * `[ROOT] [REV_A] [REV_B]`, or `[ROOT] A..B`. ROOT is taken only when it names a directory,
 * so `deskset diff HEAD~1` compares the current directory. Defaults: HEAD against the working tree.
 * Pure but for the one directory test, given as `isDir`.
 */
export function parseDiffArgs(positionals: readonly string[], isDir: (p: string) => boolean = isDirectory): DiffArgs {
  const rest = [...positionals];
  const root = rest.length > 0 && isDir(rest[0]!) ? rest.shift()! : '.';
  if (rest.length > 2) throw new RevisionError(`too many arguments: ${rest.slice(2).join(' ')}`);
  if (rest.length === 1 && rest[0]!.includes('..')) {
    // `A..B`, `A..` (A against HEAD) and `..B` (HEAD against B), as git reads them. `A...B` is not supported.
    if (rest[0]!.includes('...')) throw new RevisionError(`"${rest[0]}": A...B (the merge base) is not supported; give A..B`);
    const [a, b] = rest[0]!.split('..');
    return { root, from: a || 'HEAD', to: b || 'HEAD' };
  }
  if (rest.length === 0) return { root, from: 'HEAD' };
  return { root, from: rest[0], to: rest[1] };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, pipeTo?: { cmd: string; args: string[] }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    if (pipeTo) {
      // git archive | tar -x: the archive streams straight into the temp dir.
      const sink = spawn(pipeTo.cmd, pipeTo.args, { cwd, stdio: ['pipe', 'ignore', 'pipe'] });
      sink.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      sink.on('error', reject);
      child.stdout.pipe(sink.stdin);
      let codes = 0;
      let worst = 0;
      const done = (c: number | null) => {
        worst = Math.max(worst, c ?? 1);
        if (++codes === 2) resolve({ code: worst, stdout: Buffer.alloc(0), stderr: err });
      };
      child.on('close', done);
      sink.on('close', done);
    } else {
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    }
  });
}

export interface Repo {
  /** The repository's top-level directory. */
  top: string;
  /** The root's path inside it, '' or ending in '/'. */
  prefix: string;
}

export async function findRepo(root: string): Promise<Repo> {
  if (!existsSync(root)) throw new RevisionError(`config root ${root} does not exist`);
  const r = await run('git', ['rev-parse', '--show-toplevel', '--show-prefix'], root).catch((e: Error) => {
    throw new RevisionError(`git is needed to compare revisions: ${e.message}`);
  });
  if (r.code !== 0) throw new RevisionError(`${root} is not in a git repository (${r.stderr.trim()})`);
  const [top, prefix = ''] = r.stdout.toString('utf8').split('\n');
  return { top: top!, prefix };
}

/** The commit a revision names, or a RevisionError that says which revision is unknown. */
export async function resolveRevision(repo: Repo, rev: string): Promise<string> {
  if (rev.startsWith('-')) throw new RevisionError(`"${rev}" is not a revision`);
  const r = await run('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], repo.top);
  if (r.code !== 0) throw new RevisionError(`unknown revision "${rev}"`);
  return r.stdout.toString('utf8').trim();
}

/**
 * The root as it is at `commit`, extracted to a new temp dir; returns the root's path in it.
 * `dispose` removes the temp dir.
 */
export async function checkoutRoot(repo: Repo, commit: string): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-diff-'));
  const dispose = () => fs.rm(tmp, { recursive: true, force: true });
  try {
    const tree = repo.prefix ? `${commit}:${repo.prefix.replace(/\/$/, '')}` : commit;
    const r = await run('git', ['archive', '--format=tar', tree], repo.top, { cmd: 'tar', args: ['-x', '-C', tmp] });
    if (r.code !== 0) throw new RevisionError(`git archive ${tree} failed: ${r.stderr.trim()}`);
    return { dir: tmp, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
