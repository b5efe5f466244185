// Run the real CLI (`node bin/deskset.js …`) as a child process. bin/deskset.js runs dist/,
// so build first: `npx tsc -p tsconfig.json`.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin', 'deskset.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Safety net only (never asserted on): kill a process that hangs. */
  killAfterMs?: number;
}

function assertBuilt(): void {
  if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` before the CLI tests');
  }
}

export function spawnCli(args: string[], opts: CliOptions = {}): ChildProcess {
  assertBuilt();
  // `serve` starts the admin API on 127.0.0.1:9090 by default: test files run in parallel, so
  // each server a test starts takes a free admin port unless the test chose one.
  if (args[0] === 'serve' && !args.includes('--admin-port') && !args.includes('--no-admin')) args = [...args, '--admin-port', '0'];
  return spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Run to completion and collect the output. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, opts);
  return collect(child, opts.killAfterMs ?? 50_000);
}

export function collect(child: ChildProcess, killAfterMs = 50_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface ServeAttempt extends CliResult {
  /** True when the server printed its banner, i.e. it started (it is then stopped again). */
  started: boolean;
}

/**
 * Run `deskset serve ROOT --port 0 --host 127.0.0.1` on a root that should be refused.
 * If the server starts anyway, it is stopped with SIGTERM and `started` is true.
 */
export function tryServe(root: string, opts: CliOptions = {}): Promise<ServeAttempt> {
  const child = spawnCli(['serve', root, '--port', '0', '--host', '127.0.0.1'], opts);
  let started = false;
  child.stderr!.on('data', (d: Buffer) => {
    if (!started && d.toString('utf8').includes('deskset serving')) {
      started = true;
      child.kill('SIGTERM');
    }
  });
  return collect(child, opts.killAfterMs ?? 50_000).then((r) => ({ ...r, started }));
}
