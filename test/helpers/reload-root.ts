// Pieces the validation and live-reload tests share that test/helpers/cli.ts (the real CLI)
// and test/helpers/tmp-root.ts (throwaway copies of samples/) do not have: the root as an
// in-memory FileMap for the pure core, `check --json` parsed, and a bounded poll.

import path from 'node:path';
import { readTextTree } from '../../src/io/read-tree.js';
import { REPO, runCli } from './cli.js';
import { SAMPLES } from './tmp-root.js';

export const PACKAGE_DIR = REPO;

/** The package's shipped vendor data (templates/**) as the core's `shipped` FileMap. */
export async function shippedFiles(): Promise<Map<string, string>> {
  return (await readTextTree(PACKAGE_DIR, ['templates'])).files;
}

/** samples/ as the core's `root` FileMap (deskset.yaml, profiles/**, templates/**). */
export async function sampleFiles(): Promise<Map<string, string>> {
  return (await readTextTree(SAMPLES, ['deskset.yaml', 'profiles', 'templates'])).files;
}

/** `deskset check ROOT --json …` parsed. */
export interface CheckJson {
  devices: number;
  files: number;
  diagnostics: Array<{
    code: string;
    severity: 'error' | 'warning' | 'info';
    message: string;
    device?: string;
    path?: string;
    loc?: { file: string; line: number; col: number };
    related?: Array<{ message: string; loc: { file: string; line: number; col: number } }>;
  }>;
}

export async function checkJson(root: string, extra: string[] = []): Promise<{ code: number | null; json: CheckJson; stderr: string }> {
  const r = await runCli(['check', root, '--json', ...extra]);
  let json: CheckJson;
  try {
    json = JSON.parse(r.stdout) as CheckJson;
  } catch {
    throw new Error(`check --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

/** Poll `probe` until it returns something other than undefined/false; bounded, never a fixed sleep. */
export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 5000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Path of a samples/ file (read-only source for expected texts). */
export const sampleFile = (rel: string): string => path.join(SAMPLES, rel);
