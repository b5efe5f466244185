// A git repository in a temp dir whose history is the samples root under a series of edits
// (issue 18's review scenario): global change, site change, new device, removed device, changed
// password, firmware pin. The config root is the subdirectory `phones/`, as in a repo that
// keeps more than deskset's files. Each commit is tagged with its step name.

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAMPLES } from './tmp-root.js';

export const ROOT_IN_REPO = 'phones';
export const NEW_DEVICE = 'c81fea000001';
export const REMOVED_DEVICE = '805ec0123456';
export const FW_OLD = '4.1.3.0.6';
export const FW_NEW = '4.1.13.0.1';
/** The line password that the `password` step changes (secrets/line-1010 is Ann Lee's, a J189 in nyc). */
export const PASSWORD_FILE = 'secrets/line-1010';
export const NEW_PASSWORD = 'Rotated-9f3k2-secret';

export interface GitHistory {
  repo: string;
  root: string;
  git(...args: string[]): string;
  cleanup(): Promise<void>;
}

type Edits = Record<string, string | null | ((old: string) => string)>;

export const STEPS: Array<{ tag: string; message: string; edits: Edits }> = [
  {
    tag: 'base',
    message: 'samples, with two J189 releases on disk and J189 pinned to the older',
    edits: {
      [`firmware/avaya/${FW_OLD}/FW_S_J189_R4_1_3_0_6.bin`]: 'old J189 image\n',
      [`firmware/avaya/${FW_NEW}/FW_S_J189_R4_1_13_0_1.bin`]: 'new J189 image\n',
      'profiles/models/J189.yaml': (old) => `${old}firmware:\n  policy: pinned\n  version: ${FW_OLD}\n`,
    },
  },
  { tag: 'global', message: 'global: French everywhere', edits: { 'profiles/global.yaml': (old) => replaceOnce(old, 'language: en', 'language: fr') } },
  { tag: 'site', message: 'nyc: new PBX', edits: { 'profiles/sites/nyc.yaml': (old) => replaceOnce(old, 'server: pbx-nyc.northwind.example', 'server: pbx2-nyc.northwind.example') } },
  {
    tag: 'new-device',
    message: 'a new J189 in nyc',
    edits: { [`profiles/devices/${NEW_DEVICE}.yaml`]: 'model: J189\nsite: nyc\ngroups: [sales]\nsettings:\n  lines:\n    - {extension: "1099", password: "${file:secrets/line-1010}", display_name: "New Hire"}\n' },
  },
  { tag: 'removed-device', message: `retire ${REMOVED_DEVICE}`, edits: { [`profiles/devices/${REMOVED_DEVICE}.yaml`]: null } },
  { tag: 'password', message: 'rotate line 1010', edits: { [PASSWORD_FILE]: `${NEW_PASSWORD}\n` } },
  { tag: 'firmware', message: 'J189 to the new release', edits: { 'profiles/models/J189.yaml': (old) => replaceOnce(old, `version: ${FW_OLD}`, `version: ${FW_NEW}`) } },
];

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the samples no longer contain "${from}"`);
  return text.replace(from, to);
}

export async function applyEdits(root: string, edits: Edits): Promise<void> {
  for (const [rel, e] of Object.entries(edits)) {
    const abs = path.join(root, rel);
    if (e === null) await fs.rm(abs);
    else {
      await fs.mkdir(path.dirname(abs), { recursive: true });
      await fs.writeFile(abs, typeof e === 'string' ? e : e(await fs.readFile(abs, 'utf8')));
    }
  }
}

export async function makeGitHistory(steps = STEPS): Promise<GitHistory> {
  const repo = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-history-'));
  const root = path.join(repo, ROOT_IN_REPO);
  await fs.mkdir(root);
  for (const name of await fs.readdir(SAMPLES)) if (name !== 'var') await fs.cp(path.join(SAMPLES, name), path.join(root, name), { recursive: true });
  await fs.writeFile(path.join(repo, 'README.md'), 'phones config\n');
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
  git('init', '-q', '-b', 'main');
  for (const s of steps) {
    await applyEdits(root, s.edits);
    git('add', '-A');
    git('commit', '-q', '-m', s.message);
    git('tag', s.tag);
  }
  return { repo, root, git, cleanup: () => fs.rm(repo, { recursive: true, force: true }) };
}
