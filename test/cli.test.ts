// The CLI explains itself and keeps its streams apart (issue 15, items 9 and 10), driven as a
// user would: the real bin/deskset.js in a child process. Help, usage and the parser come from
// one table (src/cli/commands.ts); these tests read that table only to know what to expect.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, REPO, runCli, spawnCli } from './helpers/cli.js';
import { makeTmpRoot, type TmpRoot } from './helpers/tmp-root.js';
import { COMMANDS } from '../src/cli/commands.js';
import { spoken, synopsis } from '../src/cli/help.js';

const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const NAMES = Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>;
const POLY = '64167f0a8800';

describe('--help, -h, -V, --version', () => {
  it.each(NAMES.flatMap((n) => [[n, '--help'], [n, '-h']]))('deskset %s %s: usage, options, an example and exit codes on stdout, exit 0', async (name, flag) => {
    const r = await runCli([name, flag]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: deskset ${spoken(name)}\\b`));
    for (const [opt, o] of Object.entries(COMMANDS[name].options)) {
      expect(r.stdout, `--${opt}`).toContain(`--${opt}`);
      if (o.short) expect(r.stdout).toContain(`-${o.short}, --${opt}`);
    }
    expect(r.stdout).toContain('-h, --help');
    expect(r.stdout).toMatch(/\nexamples:\n {2}deskset /);
    expect(r.stdout).toMatch(/\nexit codes:\n {2}0 {2}\S[^]* {2}2 {2}\S/);
  });

  it('deskset help check is deskset check --help', async () => {
    const [a, b] = await Promise.all([runCli(['help', 'check']), runCli(['check', '--help'])]);
    expect(a).toEqual(b);
  });

  it('help wins wherever it stands, even with arguments that would fail', async () => {
    const r = await runCli(['render', '/no/such/root', '--device', 'nonsense', '--help']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^usage: deskset render /);
  });

  it('the top-level usage lists every option of every command', async () => {
    const r = await runCli(['--help']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    for (const name of NAMES) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(`  deskset ${spoken(name)} `) || l === `  deskset ${spoken(name)}`);
      expect(line, name).toBeDefined();
      for (const opt of Object.keys(COMMANDS[name].options)) expect(line, `${name} --${opt}`).toContain(`--${opt}`);
    }
    // The ones the issue found missing, by name, so a table that lost them fails here too.
    for (const s of ['--https-port N', '--show-secrets', '--strict-xsd', '--catalog FILE', '--resources DIR', 'token list [ROOT] [--json]']) expect(r.stdout).toContain(s);
  });

  it.each(NAMES)('docs/cli.md and README.md show the synopsis of %s exactly as the parser takes it', (name) => {
    const docs = readFileSync(path.join(REPO, 'docs', 'cli.md'), 'utf8');
    // README's table escapes the | of -q|--quiet.
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8').replaceAll('\\|', '|');
    for (const line of synopsis(name, COMMANDS[name])) {
      expect(docs, 'docs/cli.md').toContain(`\`${line}\``);
      expect(readme, 'README.md').toContain(`\`${line}\``);
    }
  });

  it.each([['-V'], ['--version'], ['version']])('%s prints the version', async (flag) => {
    const r = await runCli([flag]);
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('no command at all: the usage on stderr, exit 2', async () => {
    const r = await runCli([]);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toContain('usage: deskset <command>');
  });
});

describe('names that do not exist get a suggestion', () => {
  it.each([
    ['check', '--jsn', '--json'],
    ['serve', '--https-prot', '--https-port'],
    ['render', '--show-secret', '--show-secrets'],
    ['lint', '--catalogue', '--catalog'],
    ['check', '--strict-xds', '--strict-xsd'],
  ])('deskset %s %s → did you mean %s?', async (cmd, typed, meant) => {
    const r = await runCli([cmd, typed]);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(`deskset ${cmd}: unknown option ${typed} (did you mean ${meant}?); --help lists the options\n`);
  });

  it('an option nothing is close to gets no guess, only the pointer to --help', async () => {
    const r = await runCli(['firmware', '--zzzzzzzz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('deskset firmware: unknown option --zzzzzzzz; --help lists the options\n');
  });

  it('an unknown command suggests the close one', async () => {
    const r = await runCli(['chekc']);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toContain('unknown command "chekc" (did you mean check?)');
  });
});

// One rule: what was asked for on stdout, incidental warnings and progress on stderr.
describe('streams: the result on stdout, the rest on stderr', () => {
  let root: TmpRoot;
  let out: string;
  beforeAll(async () => {
    // One warning that check reports (the result) and render does not (render's files are).
    root = await makeTmpRoot({ 'profiles/models/J189.yaml': (t) => t.replace('      PHNNUMOFSA: 4\n', '      PHNNUMOFSA: 4\n      PHNNUMOFSAX: 4\n') });
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'deskset-cli-out-'));
  });
  afterAll(async () => {
    await root.cleanup();
    await fs.rm(out, { recursive: true, force: true });
  });

  it('check: the findings are the result, on stdout; --json is one JSON document', async () => {
    const text = await runCli(['check', root.dir]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/warning UNKNOWN_PARAMETER: PHNNUMOFSAX/);
    const json = await runCli(['check', root.dir, '--json']);
    expect(json.stderr).toBe('');
    const report = JSON.parse(json.stdout) as { diagnostics: Array<{ code: string }> };
    expect(report.diagnostics.map((d) => d.code)).toContain('UNKNOWN_PARAMETER');
  });

  it('render --json: every file written, with its size and SHA-256, and nothing else on stdout', async () => {
    const r = await runCli(['render', root.dir, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { out: string; secrets: string; files: Array<{ path: string; bytes: number; sha256: string }> };
    expect(report.secrets).toBe('masked');
    expect(report.files.length).toBeGreaterThan(10);
    expect(report.files.map((f) => f.path)).toContain(`${POLY}.cfg`);
    for (const f of report.files) {
      const bytes = await fs.readFile(path.join(report.out, f.path));
      expect({ path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual(f);
    }
    const written = (await fs.readdir(out, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
    expect(report.files).toHaveLength(written);
  });

  it('render --show-secrets --json: no hash of a file that holds a secret', async () => {
    const real = path.join(out, 'real');
    const r = await runCli(['render', root.dir, '--out', real, '--show-secrets', '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const report = JSON.parse(r.stdout) as { secrets: string; files: Array<{ path: string; sha256: string | null; secrets?: true }> };
    expect(report.secrets).toBe('shown');
    const secretDir = root.file('secrets');
    const secrets = await Promise.all((await fs.readdir(secretDir)).filter((n) => n !== 'README').map(async (n) => (await fs.readFile(path.join(secretDir, n), 'utf8')).trim()));
    let withSecrets = 0;
    for (const f of report.files) {
      const bytes = await fs.readFile(path.join(real, f.path));
      const hash = createHash('sha256').update(bytes).digest('hex');
      const holdsSecret = secrets.some((x) => bytes.includes(x));
      if (holdsSecret) withSecrets++;
      expect(f, f.path).toEqual(holdsSecret ? { path: f.path, bytes: bytes.length, sha256: null, secrets: true } : { path: f.path, bytes: bytes.length, sha256: hash });
      if (holdsSecret) expect(r.stdout).not.toContain(hash);
    }
    // Line passwords are in every device's file: the check above is not vacuous.
    expect(withSecrets).toBeGreaterThanOrEqual(7);
  });

  it('render without --json: one summary line on stdout', async () => {
    const r = await runCli(['render', root.dir, '--out', out]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^rendered \d+ files to .*\n$/);
  });

  it('explain --json > file is pure JSON; explain of an unknown device says so on stderr only', async () => {
    const r = await runCli(['explain', root.dir, POLY, '--json']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect((JSON.parse(r.stdout) as { device: { mac: string } }).device.mac).toBe(POLY);
    const missing = await runCli(['explain', root.dir, '001122334455']);
    expect([missing.code, missing.stdout]).toEqual([1, '']);
    expect(missing.stderr).toContain('no device 001122334455');
  });

  it('firmware --json is pure JSON', async () => {
    const r = await runCli(['firmware', root.dir, '--json']);
    expect(r.stderr).toBe('');
    expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
  });

  it('token: issue, list and revoke --json are pure JSON; revoking a missing token is an error on stderr', async () => {
    const issued = await runCli(['token', 'issue', root.dir, POLY, '--json']);
    expect([issued.code, issued.stderr]).toEqual([0, '']);
    expect(JSON.parse(issued.stdout)).toMatchObject({ mac: POLY, path: expect.stringMatching(/^\/p\/.+\/$/) });
    const listed = await runCli(['token', 'list', root.dir, '--json']);
    expect((JSON.parse(listed.stdout) as Array<{ mac: string }>).map((e) => e.mac)).toEqual([POLY]);
    const gone = await runCli(['token', 'revoke', root.dir, POLY, '--json']);
    expect([gone.code, gone.stderr]).toEqual([0, '']);
    expect(JSON.parse(gone.stdout)).toEqual({ mac: POLY, revoked: true });
    const revoked = await runCli(['token', 'revoke', root.dir, '805ec0123456']);
    expect([revoked.code, revoked.stdout]).toEqual([1, '']);
    expect(revoked.stderr).toContain('has no token');
  });

  it('lint: the findings on stdout, --json is pure JSON', async () => {
    const file = path.join(out, 'lint-me.txt');
    await fs.writeFile(file, 'SET FOO 1\nGOTO NOWHERE\n');
    const r = await runCli(['lint', file, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { errors: number }).errors).toBeGreaterThan(0);
  });

  it('usage errors: on stderr, nothing on stdout, exit 2', async () => {
    for (const args of [['render', root.dir], ['explain', root.dir], ['token', 'frob'], ['hash-password', 'pw']]) {
      const r = await runCli(args);
      expect([args, r.code, r.stdout]).toEqual([args, 2, '']);
      expect(r.stderr).toMatch(/^deskset \S+: /);
    }
  });

  it('serve: stdout is the access log, one JSON line per request; the banner is on stderr', async () => {
    const child = spawnCli(['serve', root.dir, '--host', '127.0.0.1', '--port', '0', '--no-watch', '--warm-up', '0']);
    let stderr = '';
    const url = await new Promise<string>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
    });
    const done = collect(child);
    let stdout = '';
    child.stdout!.on('data', (d: string) => (stdout += d));
    expect((await fetch(`${url}/${POLY}.cfg`)).status).toBe(200);
    expect((await fetch(`${url}/no-such-file.cfg`)).status).toBe(404);
    // The log is written asynchronously: wait for both lines before stopping.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => stdout.split('\n').filter(Boolean).length >= 2 && (clearInterval(poll), resolve()), 20);
    });
    child.kill('SIGTERM');
    await done;
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: number });
    expect(lines.map((l) => [l.path, l.status])).toEqual([[`/${POLY}.cfg`, 200], ['/no-such-file.cfg', 404]]);
    expect(stderr).toContain('deskset serving');
  });
});
