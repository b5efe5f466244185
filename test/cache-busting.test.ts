// Phones never fetch a file name again once they have it, so a ringtone or image whose bytes
// change under the same name never reaches them. `deskset check` warns (CACHE_BUSTING): against
// the record the last check left in the state dir, and against git when the root is in git.
// Runs the real CLI: needs dist/ (`npx tsc -p tsconfig.json`).

import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { checkJson, type CheckJson } from './helpers/reload-root.js';
import { runCli } from './helpers/cli.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'qa',
  GIT_AUTHOR_EMAIL: 'qa@example.invalid',
  GIT_COMMITTER_NAME: 'qa',
  GIT_COMMITTER_EMAIL: 'qa@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: os.tmpdir(),
};
async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: GIT_ENV });
  return stdout;
}

const busting = (j: CheckJson) => j.diagnostics.filter((d) => d.code === 'CACHE_BUSTING');
const RING_A = Buffer.from('RIFF....WAVEfmt ring tone version A');
const RING_B = Buffer.from('RIFF....WAVEfmt ring tone version B!');
const PNG_A = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const PNG_B = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9, 9, 9, 9, 9]);

const roots: TmpRoot[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => r.cleanup()));
});
async function root(): Promise<TmpRoot> {
  const r = await makeTmpRoot();
  roots.push(r);
  await fs.mkdir(r.file('resources'), { recursive: true });
  await fs.writeFile(r.file('resources/ring.wav'), RING_A);
  await fs.writeFile(r.file('resources/logo.png'), PNG_A);
  await fs.writeFile(r.file('resources/directory.xml'), '<directory/>\n');
  return r;
}

describe('against the last check (state dir record)', () => {
  it('first check: nothing to compare, no warning; unchanged second check: none either', async () => {
    const r = await root();
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
  });

  it('ring.wav bytes changed between two checks: a CACHE_BUSTING warning naming resources/ring.wav (and only it)', async () => {
    const r = await root();
    const first = await checkJson(r.dir);
    expect(first.code).toBe(0);
    await fs.writeFile(r.file('resources/ring.wav'), RING_B);
    const second = await checkJson(r.dir);
    const w = busting(second.json);
    expect(w).toHaveLength(1);
    expect(w[0]!.severity).toBe('warning');
    expect(w[0]!.loc?.file).toMatch(/(^|\/)resources\/ring\.wav$/);
    expect(w[0]!.message).toContain('resources/ring.wav');
    // A warning, not an error: check still passes.
    expect(second.code).toBe(0);
    // The text output names the file too.
    await fs.writeFile(r.file('resources/ring.wav'), RING_A);
    const text = await runCli(['check', '.'], { cwd: r.dir });
    expect(text.stdout).toMatch(/^resources\/ring\.wav:1:1: warning CACHE_BUSTING: /m);
  });

  it('renaming instead (new bytes under a new name): no warning', async () => {
    const r = await root();
    await checkJson(r.dir);
    await fs.rm(r.file('resources/ring.wav'));
    await fs.writeFile(r.file('resources/ring-v2.wav'), RING_B);
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
  });

  it('a plain rename with the same bytes: no warning', async () => {
    const r = await root();
    await checkJson(r.dir);
    await fs.rename(r.file('resources/logo.png'), r.file('resources/logo-2024.png'));
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
  });

  it('a text resource changed in place is not media: no warning', async () => {
    const r = await root();
    await checkJson(r.dir);
    await fs.writeFile(r.file('resources/directory.xml'), '<directory><entry/></directory>\n');
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
  });

  it('the record goes to the configured state dir', async () => {
    const r = await root();
    await fs.appendFile(r.file('deskset.yaml'), 'state_dir: state\n');
    await checkJson(r.dir);
    await fs.writeFile(r.file('resources/logo.png'), PNG_B);
    const w = busting((await checkJson(r.dir)).json);
    expect(w.map((d) => d.loc?.file.replace(/^.*\/resources\//, 'resources/'))).toEqual(['resources/logo.png']);
    await expect(fs.stat(r.file('state'))).resolves.toBeTruthy();
  });
});

describe('against git', () => {
  it('a committed png modified in the working tree: warning (with no record to compare against)', async () => {
    const r = await root();
    await git(r.dir, 'init', '-q');
    await git(r.dir, 'add', '-A');
    await git(r.dir, 'commit', '-q', '-m', 'initial');
    await fs.writeFile(r.file('resources/logo.png'), PNG_B);
    // No check ran before: the state dir has no record, so only git can tell.
    await expect(fs.stat(r.file('var/resource-hashes.json'))).rejects.toThrow();
    const w = busting((await checkJson(r.dir)).json);
    expect(w).toHaveLength(1);
    expect(w[0]!.loc?.file).toMatch(/(^|\/)resources\/logo\.png$/);
  });

  it('the modification committed: HEAD~1 vs HEAD still warns', async () => {
    const r = await root();
    await git(r.dir, 'init', '-q');
    await git(r.dir, 'add', '-A');
    await git(r.dir, 'commit', '-q', '-m', 'initial');
    await fs.writeFile(r.file('resources/logo.png'), PNG_B);
    await git(r.dir, 'commit', '-q', '-am', 'new logo, same name');
    expect((await git(r.dir, 'status', '--porcelain', '--', 'resources')).trim()).toBe('');
    const w = busting((await checkJson(r.dir)).json);
    expect(w.map((d) => d.loc?.file.replace(/^.*\/resources\//, 'resources/'))).toEqual(['resources/logo.png']);
  });

  it('a rename committed in git (git mv, new bytes under the new name): no warning', async () => {
    const r = await root();
    await git(r.dir, 'init', '-q');
    await git(r.dir, 'add', '-A');
    await git(r.dir, 'commit', '-q', '-m', 'initial');
    await git(r.dir, 'mv', 'resources/logo.png', 'resources/logo-v2.png');
    await fs.writeFile(r.file('resources/logo-v2.png'), PNG_B);
    await git(r.dir, 'commit', '-q', '-am', 'new logo under a new name');
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
  });

  it('a png added in the last commit (not modified) does not warn', async () => {
    const r = await root();
    await git(r.dir, 'init', '-q');
    await git(r.dir, 'add', '-A');
    await git(r.dir, 'commit', '-q', '-m', 'initial');
    await fs.writeFile(r.file('resources/new.png'), PNG_B);
    await git(r.dir, 'add', '-A');
    await git(r.dir, 'commit', '-q', '-m', 'add a picture');
    expect(busting((await checkJson(r.dir)).json)).toEqual([]);
  });

  it('a root in a subdirectory of a repository: the modified png is still found', async () => {
    const repo = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-cb-repo-'));
    roots.push({ dir: repo, file: (x) => path.join(repo, x), cleanup: () => fs.rm(repo, { recursive: true, force: true }) });
    const r = await root();
    const sub = path.join(repo, 'phones');
    await fs.cp(r.dir, sub, { recursive: true });
    await git(repo, 'init', '-q');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'initial');
    await fs.writeFile(path.join(sub, 'resources/logo.png'), PNG_B);
    const w = busting((await checkJson(sub)).json);
    expect(w).toHaveLength(1);
    expect(w[0]!.loc?.file).toMatch(/resources\/logo\.png$/);
  });

  it('one warning per file when git and the record both see the change', async () => {
    const r = await root();
    await git(r.dir, 'init', '-q');
    await git(r.dir, 'add', '-A');
    await git(r.dir, 'commit', '-q', '-m', 'initial');
    await checkJson(r.dir); // record A
    await fs.writeFile(r.file('resources/ring.wav'), RING_B);
    const w = busting((await checkJson(r.dir)).json);
    expect(w).toHaveLength(1);
    expect(w[0]!.loc?.file).toMatch(/resources\/ring\.wav$/);
  });
});
