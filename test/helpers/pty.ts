// Run the real CLI with chosen streams on a pseudo-terminal (python3's pty module, see
// run_on_pty.py), typing answers when prompts appear. What a user at a terminal sees, for tests of
// prompts and progress lines. Needs python3; tests skip with a visible reason without it.

import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { BIN, REPO } from './cli.js';

export type Stream = 'stdin' | 'stdout' | 'stderr';

export interface PtyResult {
  code: number;
  /** Everything written to the terminal (the streams listed in `tty`), as the user saw it. */
  tty: string;
  /** The streams that were pipes. */
  stdout: string;
  stderr: string;
  /** Prompts that never appeared. */
  unsent: Array<[string, string]>;
}

export const HAVE_PTY = (() => {
  try {
    execFileSync('python3', ['-c', 'import pty'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export function runCliOnPty(args: string[], opts: { tty: Stream[]; script?: Array<[waitFor: string, send: string]>; cwd?: string; env?: Record<string, string> }): PtyResult {
  const spec = { argv: [process.execPath, BIN, ...args], tty: opts.tty, script: opts.script ?? [], cwd: opts.cwd ?? REPO, env: opts.env ?? {}, timeout: 60 };
  const r = spawnSync('python3', [path.join(REPO, 'test', 'helpers', 'run_on_pty.py'), JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`run_on_pty.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}
