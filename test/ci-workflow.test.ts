// docs/ci.md's GitHub Actions workflow, run here: its shell steps are taken from the YAML in the
// doc (not copied), its `if:` conditions evaluated, its `${{ }}` expressions filled in, against
// a real git repository with a commit per review scenario. Each pull request (one commit to the
// next) is checked by what the job leaves: the comment, the job summary, the JSON artifact and
// the failed steps. `gh` is a stand-in script that records the comment (GitHub's API is not
// here); deskset is the one under test (needs dist/).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { BIN, REPO } from './helpers/cli.js';
import { FW_NEW, FW_OLD, makeGitHistory, NEW_DEVICE, NEW_PASSWORD, PASSWORD_FILE, REMOVED_DEVICE, ROOT_IN_REPO, STEPS, type GitHistory } from './helpers/git-history.js';
import { SAMPLES } from './helpers/tmp-root.js';

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; env?: Record<string, string> }>;
}

/** The first ```yaml block under "## GitHub Actions" in docs/ci.md. */
function workflowFromDoc(): Workflow {
  const doc = readFileSync(path.join(REPO, 'docs/ci.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## GitHub Actions'));
  const m = /```yaml\n([\s\S]*?)\n```/.exec(section);
  if (!m) throw new Error('docs/ci.md: no ```yaml block under "## GitHub Actions"');
  return YAML.parse(m[1]!) as Workflow;
}

/** `${{ … }}` in an env value: the pull request's facts; anything else is a test that no longer matches the doc. */
function expand(value: string, ctx: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_m, expr: string) => {
    if (!(expr in ctx)) throw new Error(`docs/ci.md uses \${{ ${expr} }}, which this test does not know`);
    return ctx[expr]!;
  });
}

/**
 * An `if:` as GitHub evaluates it, for the subset the workflow uses: cancelled(), always(),
 * success(), failure(), steps.<id>.outputs.<name>, string literals, ==, !=, &&, ||, !, parens.
 */
function condition(expr: string | undefined, state: { failed: boolean; outputs: Record<string, Record<string, string>> }): boolean {
  if (expr === undefined) return !state.failed;
  let e = expr.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const usesStatus = /\b(always|cancelled|success|failure)\(\)/.test(e);
  e = e
    .replace(/\bcancelled\(\)/g, 'false')
    .replace(/\balways\(\)/g, 'true')
    .replace(/\bsuccess\(\)/g, String(!state.failed))
    .replace(/\bfailure\(\)/g, String(state.failed))
    .replace(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g, (_m, id: string, name: string) => JSON.stringify(state.outputs[id]?.[name] ?? ''))
    .replace(/'([^']*)'/g, (_m, s: string) => JSON.stringify(s));
  const rest = e.replace(/"[^"]*"/g, '').replace(/==|!=|&&|\|\||!|\(|\)|true|false|\s/g, '');
  if (rest !== '') throw new Error(`an if: this test cannot evaluate: ${expr} (left: ${rest})`);
  const value = Boolean(new Function(`return (${e});`)());
  // Without a status function GitHub adds success().
  return usesStatus ? value : value && !state.failed;
}

interface JobRun {
  failed: string[];
  skipped: string[];
  comment?: string;
  ghCalls: string[];
  summary: string;
  json?: { changes: boolean; devices: { added: string[]; removed: string[]; changed: string[] }; firmware: unknown[] };
  logs: string;
}

let h: GitHistory;
let shims: string;
const wf = workflowFromDoc();
const [jobName, job] = Object.entries(wf.jobs)[0]!;

beforeAll(async () => {
  h = await makeGitHistory([
    ...STEPS,
    { tag: 'comment', message: 'a comment only', edits: { 'profiles/global.yaml': (old) => `${old}# reviewed by the network team\n` } },
    { tag: 'broken', message: 'a typo', edits: { 'profiles/sites/nyc.yaml': (old) => `${old}  bad: [unclosed\n` } },
  ]);
  shims = mkdtempSync(path.join(os.tmpdir(), 'deskset-ci-shims-'));
  await fs.writeFile(path.join(shims, 'deskset'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  // gh pr comment PR [--edit-last] --body-file FILE: --edit-last fails until a comment exists, as gh does.
  await fs.writeFile(
    path.join(shims, 'gh'),
    `#!/bin/bash\necho "$*" >> "$GH_LOG/calls"\nedit=0; body=''\nwhile [ $# -gt 0 ]; do case "$1" in --edit-last) edit=1;; --body-file) body="$2"; shift;; esac; shift; done\nif [ "$edit" = 1 ] && [ ! -e "$GH_LOG/comment" ]; then echo "no comments found" >&2; exit 1; fi\ncp "$body" "$GH_LOG/comment"\n`,
    { mode: 0o755 },
  );
});
afterAll(async () => {
  await h?.cleanup();
  if (shims) await fs.rm(shims, { recursive: true, force: true });
});

/** Run the job's steps for a pull request from tag `base` to tag `head`, in a clone at head. */
async function runJob(base: string, head: string): Promise<JobRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'deskset-ci-run-'));
  const checkout = path.join(work, 'checkout');
  // actions/checkout with fetch-depth: 0 — a full clone at the head commit.
  execFileSync('git', ['clone', '-q', h.repo, checkout]);
  execFileSync('git', ['checkout', '-q', '--detach', head], { cwd: checkout });
  const ghLog = path.join(work, 'gh');
  await fs.mkdir(ghLog);
  const files = { output: path.join(work, 'output'), summary: path.join(work, 'summary') };
  const sha = (tag: string) => execFileSync('git', ['rev-parse', tag], { cwd: h.repo, encoding: 'utf8' }).trim();
  const ctx = { 'github.event.pull_request.base.sha': sha(base), 'github.event.pull_request.head.sha': sha(head), 'github.event.pull_request.number': '42', 'github.token': 'test-token' };
  const state = { failed: false, outputs: {} as Record<string, Record<string, string>> };
  const run: JobRun = { failed: [], skipped: [], ghCalls: [], summary: '', logs: '' };
  for (const step of job.steps) {
    const name = step.name ?? step.uses ?? '?';
    if (!step.run || step.name === 'Install deskset') continue; // GitHub's actions and npm's install: the deskset under test is on PATH
    if (!condition(step.if, state)) {
      run.skipped.push(name);
      continue;
    }
    await fs.writeFile(files.output, '');
    const env: NodeJS.ProcessEnv = {
      PATH: `${shims}:${process.env.PATH}`,
      HOME: work,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GH_LOG: ghLog,
      ...Object.fromEntries(Object.entries({ ...wf.env, ...job.env }).map(([k, v]) => [k, expand(String(v), ctx)])),
      // The root lives in a subdirectory of this repository, as the doc says to set.
      DESKSET_ROOT: ROOT_IN_REPO,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v), ctx)])),
    };
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], { cwd: checkout, env, encoding: 'utf8', timeout: 240_000 });
    run.logs += `## ${name} (exit ${r.status})\n${r.stdout}${r.stderr}`;
    if (r.status !== 0) {
      run.failed.push(name);
      state.failed = true;
    }
    if (step.id) state.outputs[step.id] = Object.fromEntries(readFileSync(files.output, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  }
  run.summary = existsSync(files.summary) ? readFileSync(files.summary, 'utf8') : '';
  if (existsSync(path.join(ghLog, 'comment'))) run.comment = readFileSync(path.join(ghLog, 'comment'), 'utf8');
  if (existsSync(path.join(ghLog, 'calls'))) run.ghCalls = readFileSync(path.join(ghLog, 'calls'), 'utf8').trim().split('\n');
  const json = path.join(checkout, 'diff.json');
  if (existsSync(json)) run.json = JSON.parse(readFileSync(json, 'utf8'));
  await fs.rm(work, { recursive: true, force: true });
  return run;
}

const T = { timeout: 240_000 };

describe(`docs/ci.md GitHub workflow, job "${jobName}", per pull request`, () => {
  it('the workflow has the steps the doc describes', () => {
    expect(job.steps.filter((s) => s.run).map((s) => s.name)).toEqual(['Install deskset', 'Check', 'Diff', 'Comment', 'Errors fail the job']);
  });

  it('global change: a comment naming global.yaml:12; summary and JSON agree', T, async () => {
    const r = await runJob('base', 'global');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.comment).toContain(`${ROOT_IN_REPO}/profiles/global.yaml:12`);
    expect(r.comment).toContain('+   language: fr');
    expect(r.ghCalls).toEqual(['pr comment 42 --edit-last --body-file diff.md', 'pr comment 42 --body-file diff.md']);
    expect(r.summary).toMatch(/: 4 devices change \(4 changed, 0 added, 0 removed\)/);
    expect(r.json?.devices.changed).toEqual(['0002fd796001', '0004f2a1b2c3', '805ec0abcdef', 'a44c11a08845']);
  });

  it('site change', T, async () => {
    const r = await runJob('global', 'site');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.comment).toContain(`${ROOT_IN_REPO}/profiles/sites/nyc.yaml:4`);
    expect(r.comment).toContain('pbx2-nyc.northwind.example');
  });

  it('new device', T, async () => {
    const r = await runJob('site', 'new-device');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.comment).toContain(`**New devices:** \`${NEW_DEVICE}\``);
    expect(r.json?.devices.added).toEqual([NEW_DEVICE]);
  });

  it('removed device', T, async () => {
    const r = await runJob('new-device', 'removed-device');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.comment).toContain(`**Removed devices:** \`${REMOVED_DEVICE}\``);
    expect(r.comment).toContain('+++ /dev/null');
  });

  it('changed password: •••• (changed), the value nowhere', T, async () => {
    const old = readFileSync(path.join(SAMPLES, PASSWORD_FILE), 'utf8').trim();
    const r = await runJob('removed-device', 'password');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.comment).toContain('•••• (changed)');
    for (const out of [r.comment!, r.summary, JSON.stringify(r.json), r.logs]) {
      expect(out).not.toContain(NEW_PASSWORD);
      expect(out).not.toContain(old);
    }
  });

  it('firmware pin: the upgrade called out', T, async () => {
    const r = await runJob('password', 'firmware');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.comment).toContain(`- 2 J189 will upgrade to ${FW_NEW} (from ${FW_OLD})`);
    expect(r.json?.firmware).toHaveLength(1);
  });

  it('a change no phone sees: no comment, the job passes', T, async () => {
    const r = await runJob('firmware', 'comment');
    expect(r.failed, r.logs).toEqual([]);
    expect(r.skipped).toContain('Comment');
    expect(r.comment).toBeUndefined();
    expect(r.summary).toContain('no phone');
    expect(r.json?.changes).toBe(false);
  });

  it('a broken profile: check fails, the comment shows the error, the job fails', T, async () => {
    const r = await runJob('comment', 'broken');
    expect(r.failed).toEqual(['Check', 'Errors fail the job']);
    expect(r.comment).toContain('**✖');
    expect(r.comment).toContain(`${ROOT_IN_REPO}/profiles/sites/nyc.yaml:`);
  });
});
