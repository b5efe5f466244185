// `deskset devices adopt [ROOT] [--write] [--json]`: the phones bound by codes become device
// files the admin commits. Without --write it prints what it would do; with it, each file is
// written atomically (a placeholder's file is renamed to the MAC), and the binding is marked
// adopted. A device file in git then decides what the phone gets.

import fs from 'node:fs/promises';
import path from 'node:path';
import { planAdoption, type AdoptStep } from '../enroll/adopt.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { withStoreAndRoot } from './state.js';

export function run(args: string[]): Promise<number> {
  return guarded('devices adopt', async () => {
    const { values, positionals } = parse(args, COMMANDS['devices-adopt']);
    if (positionals.length > 1) throw new UsageError('usage: deskset devices adopt [ROOT] [--write] [--json]');
    return withStoreAndRoot(positionals[0] ?? '.', 'devices adopt', 'bindings live in the state store, and it is off', async ({ rootDir, store, snap }) => {
      const rel = (shown: string) => path.relative(rootDir, path.resolve(shown));
      const steps = planAdoption(snap.profiles, await store.listBindings(), rel);
      if (values.write) {
        const at = new Date().toISOString();
        for (const s of steps) {
          if (s.kind === 'skip') continue;
          if (s.kind === 'rename') await renameInto(rootDir, s.from, s.to);
          if (s.kind === 'create') await writeFileAtomic(path.join(rootDir, s.to), s.text);
          await store.setBindingState(s.mac, 'adopted', at);
          await store.appendAudit({ at, actor: 'cli', source: 'local', action: 'device.adopt', result: 'ok', target: s.mac, detail: { code: s.binding.codeId, file: s.kind === 'mark' ? s.file : s.to } });
        }
      }
      process.stdout.write(values.json ? `${JSON.stringify(steps.map(({ binding, ...s }) => ({ ...s, code: binding.codeId })), null, 2)}\n` : report(steps, values.write === true));
      return 0;
    });
  });
}

function report(steps: AdoptStep[], written: boolean): string {
  if (!steps.length) return 'no bindings to adopt\n';
  const out: string[] = [];
  for (const s of steps) {
    if (s.kind === 'rename') out.push(`rename ${s.from} → ${s.to}`);
    if (s.kind === 'create') out.push(`--- /dev/null\n+++ ${s.to}\n${s.text.replace(/\n$/, '').split('\n').map((l) => `+${l}`).join('\n')}`);
    if (s.kind === 'mark') out.push(`${s.mac}: ${s.file} exists and wins; the binding is only marked adopted`);
    if (s.kind === 'skip') out.push(`${s.mac}: not adopted: ${s.reason}`);
  }
  const adoptable = steps.filter((s) => s.kind !== 'skip').length;
  out.push(written ? `adopted ${adoptable} binding${adoptable === 1 ? '' : 's'}: commit the files` : `run again with --write to adopt ${adoptable} binding${adoptable === 1 ? '' : 's'}`);
  return `${out.join('\n')}\n`;
}

/** A placeholder's file becomes the device's, unless a file is already there. */
async function renameInto(root: string, from: string, to: string): Promise<void> {
  const target = path.join(root, to);
  await fs.link(path.join(root, from), target); // fails if `to` exists: never overwrite
  await fs.unlink(path.join(root, from));
}
