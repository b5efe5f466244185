// URL tokens used to live in <state_dir>/tokens.json. This migration copies an existing file
// into url_tokens once, then renames it tokens.json.imported (kept: it is the only backup a
// careful admin has of the old state). A corrupt file fails the migration: nothing is applied
// and the message says which file.

import fs from 'node:fs';
import path from 'node:path';
import type { MigrationContext, MigrationTx } from './types.js';
import { readTokensFile } from '../../security/tokens-file.js';

export const m0002 = {
  version: 2,
  name: 'import tokens.json',
  sqlite: '',
  postgres: '',
  async after(tx: MigrationTx, ctx: MigrationContext): Promise<void> {
    if (!ctx.stateDir) return;
    const file = path.join(ctx.stateDir, 'tokens.json');
    const entries = readTokensFile(file);
    if (!entries) return;
    for (const e of entries) await tx.run('INSERT INTO url_tokens (hash, mac, issued_at) VALUES (?, ?, ?)', [e.hash, e.mac, e.issuedAt]);
    ctx.onCommitted?.(() => fs.renameSync(file, `${file}.imported`));
  },
};
