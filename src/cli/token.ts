// `deskset token issue|revoke|list [ROOT] …`: per-device URL tokens (src/security/tokens.ts).
//
// The token is printed once, by `issue`, on stdout, and nowhere else: not on stderr, not in a
// log. deskset keeps only its SHA-256 in `<ROOT>/<state_dir>/tokens.json`. A running server
// picks up changes through TokenStore.refresh().

import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasErrors } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import { parseRootConfig, type RootConfig } from '../config/root-config.js';
import { TokenStore } from '../security/tokens.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

const USAGE = 'usage: deskset token issue [ROOT] MAC [--json] | token revoke [ROOT] MAC [--json] | token list [ROOT] [--json]';

export function run(args: string[]): Promise<number> {
  return guarded('token', async () => {
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
  });
}

async function open(root: string): Promise<{ store: TokenStore; config: RootConfig } | undefined> {
  const configFile = path.join(root, 'deskset.yaml');
  let text: string | undefined;
  try {
    text = await fsp.readFile(configFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw e;
    // No deskset.yaml: every key has its default, but the root itself must exist, or a typo
    // in ROOT would quietly create `<typo>/var/tokens.json`.
    const st = await fsp.stat(root).catch(() => undefined);
    if (!st?.isDirectory()) {
      process.stderr.write(`deskset token: ${root} is not a directory\n`);
      return undefined;
    }
  }
  const { config, diagnostics } = parseRootConfig(text, 'deskset.yaml');
  if (hasErrors(diagnostics)) {
    printDiagnostics(diagnostics);
    return undefined;
  }
  const store = new TokenStore(path.join(path.resolve(root, config.stateDir), 'tokens.json'));
  try {
    await store.load();
  } catch (e) {
    process.stderr.write(`deskset token: ${(e as Error).message}\n`);
    return undefined;
  }
  return { store, config };
}
