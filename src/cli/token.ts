// `deskset token issue|revoke|list [ROOT] …`: per-device URL tokens (src/security/tokens.ts).
//
// The token is printed once, by `issue`, on stdout, and nowhere else: not on stderr, not in a
// log. deskset keeps only its SHA-256, in the state store (or `<ROOT>/<state_dir>/tokens.json`
// with `state: off`). A running server picks up changes through TokenStore.refresh().

import path from 'node:path';
import { normalizeMac } from '../config/mac.js';
import type { RootConfig } from '../config/root-config.js';
import type { StateStore } from '../store/contract.js';
import { TokenStore } from '../security/tokens.js';
import { guarded, parse, UsageError } from './common.js';
import { openRootState } from './state.js';
import { COMMANDS } from './commands.js';

const USAGE = 'usage: deskset token issue [ROOT] MAC [--json] | token revoke [ROOT] MAC [--json] | token list [ROOT] [--json]';

/** The state store this run opened, closed when the command ends. */
let opened: StateStore | undefined;

export function run(args: string[]): Promise<number> {
  return guarded('token', async () => {
    try {
      return await body(args);
    } finally {
      await opened?.close();
      opened = undefined;
    }
  });
}

async function body(args: string[]): Promise<number> {
  {
    const { values, positionals } = parse(args, COMMANDS.token);
    const [verb, ...rest] = positionals;
    if (verb === 'list') {
      if (rest.length > 1) throw new UsageError(USAGE);
      const ctx = await open(rest[0] ?? '.');
      if (!ctx) return 1;
      const entries = ctx.store.list();
      if (values.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else if (entries.length === 0) process.stdout.write(`no tokens in ${ctx.store.file}\n`);
      else for (const e of entries) process.stdout.write(`${e.mac}  issued ${e.issuedAt}\n`);
      return 0;
    }
    if (verb !== 'issue' && verb !== 'revoke') throw new UsageError(USAGE);
    // ROOT is optional: `token issue MAC` means the current directory.
    if (rest.length < 1 || rest.length > 2) throw new UsageError(USAGE);
    const [root, macText] = rest.length === 2 ? [rest[0]!, rest[1]!] : ['.', rest[0]!];
    const mac = normalizeMac(macText);
    if (!mac || /^0{12}$/.test(mac)) throw new UsageError(`not a device MAC address: ${JSON.stringify(macText.slice(0, 40))}`);
    const ctx = await open(root);
    if (!ctx) return 1;
    if (verb === 'revoke') {
      if (await ctx.store.revoke(mac)) {
        process.stdout.write(values.json ? `${JSON.stringify({ mac, revoked: true })}\n` : `revoked the token of ${mac}\n`);
        return 0;
      }
      process.stderr.write(`deskset token: ${mac} has no token\n`);
      return 1;
    }
    const replaced = ctx.store.list().some((e) => e.mac === mac);
    const token = await ctx.store.issue(mac);
    const urlPath = `/p/${token}/`;
    const url = ctx.config.publicUrl ? `${ctx.config.publicUrl.replace(/\/+$/, '')}${urlPath}` : undefined;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ mac, token, path: urlPath, ...(url ? { url } : {}), replaced })}\n`);
      return 0;
    }
    process.stdout.write(
      [
        `token for ${mac} (shown once; deskset stores only its SHA-256):`,
        `  ${token}`,
        `provisioning URL path: ${urlPath}`,
        ...(url ? [`provisioning URL: ${url}`] : []),
        ...(replaced ? ['the previous token of this device no longer works'] : []),
        '',
      ].join('\n'),
    );
    return 0;
  }
}

async function open(root: string): Promise<{ store: TokenStore; config: RootConfig } | undefined> {
  const ctx = await openRootState(root, 'token');
  if (!ctx) return undefined;
  opened = ctx.store;
  const store = ctx.store ? TokenStore.onStore(ctx.store) : new TokenStore(path.join(path.resolve(root, ctx.config.stateDir), 'tokens.json'));
  try {
    await store.load();
  } catch (e) {
    process.stderr.write(`deskset token: ${(e as Error).message}\n`);
    return undefined;
  }
  return { store, config: ctx.config };
}
