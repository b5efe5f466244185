// `deskset migrate [ROOT]`: bring the root's state store to this deskset's schema (the server
// does the same on start). Prints the version before and after; refuses a newer database.

import { LATEST_VERSION } from '../store/migrations/index.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { openRootState } from './state.js';

export function run(args: string[]): Promise<number> {
  return guarded('migrate', async () => {
    const { values, positionals } = parse(args, COMMANDS.migrate);
    if (positionals.length > 1) throw new UsageError('usage: deskset migrate [ROOT]');
    const state = await openRootState(positionals[0] ?? '.', 'migrate');
    if (!state) return 1;
    if (!state.store) {
      process.stderr.write('deskset migrate: there is no state store (state: off in deskset.yaml)\n');
      return 1;
    }
    try {
      const version = await state.store.schemaVersion();
      const report = { store: state.store.kind, where: state.store.where, version, latest: LATEST_VERSION };
      process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${state.store.kind} state store ${state.store.where}: schema version ${version} (this deskset's latest: ${LATEST_VERSION})\n`);
      return 0;
    } finally {
      await state.store.close();
    }
  });
}
