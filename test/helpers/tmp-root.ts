// Throwaway config roots: a fresh copy of samples/ in the OS temp dir with edits applied.

import { promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './cli.js';

export const SAMPLES = path.join(REPO, 'samples');

/** How many devices the samples hold (they grow as vendors are added). */
export const SAMPLE_DEVICES = readdirSync(path.join(SAMPLES, 'profiles', 'devices')).filter((f) => f.endsWith('.yaml')).length;

/** New file text, `null` to delete the file, or a function of the old text. */
export type Edit = string | null | ((old: string) => string);

export interface TmpRoot {
  dir: string;
  /** Absolute path of a file inside the root. */
  file(rel: string): string;
  cleanup(): Promise<void>;
}

/** Runtime state a server writes into a root (uploads, logs); never copied. */
const STATE_DIRS = new Set(['var']);

/** Copy samples/ (profiles, deskset.yaml, secrets/… — everything but its state dir var/) to a fresh temp dir and apply `edits`. */
export async function makeTmpRoot(edits: Record<string, Edit> = {}, prefix = 'deskset-qa-'): Promise<TmpRoot> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  for (const name of await fs.readdir(SAMPLES)) {
    if (STATE_DIRS.has(name)) continue;
    await fs.cp(path.join(SAMPLES, name), path.join(dir, name), { recursive: true });
  }
  for (const [rel, edit] of Object.entries(edits)) {
    const abs = path.join(dir, rel);
    if (edit === null) {
      await fs.rm(abs, { force: true });
    } else if (typeof edit === 'string') {
      await fs.mkdir(path.dirname(abs), { recursive: true });
      await fs.writeFile(abs, edit);
    } else {
      const old = await fs.readFile(abs, 'utf8');
      const next = edit(old);
      if (next === old) throw new Error(`edit of ${rel} changed nothing: the sample it relies on has changed`);
      await fs.writeFile(abs, next);
    }
  }
  return {
    dir,
    file: (rel) => path.join(dir, rel),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

/**
 * A profile value as deskset resolves it: `${file:rel}` is the file's text (relative to the
 * root, minus one trailing newline), `${env:NAME}` the environment, `$${…}` a literal `${…}`.
 */
export async function resolveSampleValue(value: string, root = SAMPLES): Promise<string> {
  if (value.startsWith('$${')) return value.slice(1);
  const m = /^\$\{(file|env):([^}]*)\}$/.exec(value);
  if (!m) return value;
  if (m[1] === 'env') return process.env[m[2]!] ?? value;
  return (await fs.readFile(path.join(root, m[2]!), 'utf8')).replace(/\r?\n$/, '');
}

/** Every password written in samples/profiles (line passwords and admin_password, or only line passwords), resolved. */
export async function sampleSecrets(kind: 'all' | 'lines' = 'all'): Promise<string[]> {
  const re = kind === 'all' ? /\b(?:password|admin_password):\s*"([^"]+)"/g : /(?<![\w])password:\s*"([^"]+)"/g;
  const out = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else {
        const text = await fs.readFile(path.join(d, e.name), 'utf8');
        for (const m of text.matchAll(re)) out.add(await resolveSampleValue(m[1]!));
      }
    }
  };
  await walk(path.join(SAMPLES, 'profiles'));
  return [...out].filter((s) => s.length >= 4);
}

/** Replace exactly one occurrence of `from` (fails loudly when the sample no longer has it). */
export function replaceOnce(from: string | RegExp, to: string): (old: string) => string {
  return (old) => {
    const count = typeof from === 'string' ? old.split(from).length - 1 : (old.match(new RegExp(from.source, from.flags.includes('g') ? from.flags : `${from.flags}g`)) ?? []).length;
    if (count !== 1) throw new Error(`expected exactly one ${String(from)} in the sample, found ${count}`);
    return old.replace(from, to);
  };
}

/** 1-based line number of the first line matching `re` in `text`. */
export function lineOf(text: string, re: RegExp): number {
  const i = text.split('\n').findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`no line matches ${re}`);
  return i + 1;
}
