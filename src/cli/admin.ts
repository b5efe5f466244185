// `deskset admin token issue|list|revoke [ROOT]`: API tokens for the admin API (CI jobs,
// scripts). The token is printed once, by `issue`, on stdout; the state store keeps only its
// SHA-256 (src/store/). Each change is written to the audit log as the CLI's.

import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasErrors } from '../check/diagnostics.js';
import { parseRootConfig } from '../config/root-config.js';
import { readSecretFile } from '../io/load-root.js';
import { openStateStore } from '../store/open.js';
import { API_ROLES, type ApiRole, type StateStore } from '../store/contract.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

const USAGE = 'usage: deskset admin token issue [ROOT] --role admin|viewer [--label TEXT] | admin token list [ROOT] | admin token revoke [ROOT] ID';

export function run(args: string[]): Promise<number> {
  return guarded('admin', async () => {
    const { values, positionals } = parse(args, COMMANDS.admin);
    const [noun, verb, ...rest] = positionals;
    if (noun !== 'token' || !['issue', 'list', 'revoke'].includes(verb ?? '')) throw new UsageError(USAGE);
    const wantsId = verb === 'revoke';
    if (rest.length > (wantsId ? 2 : 1) || (wantsId && rest.length === 0)) throw new UsageError(USAGE);
    const root = (wantsId ? (rest.length === 2 ? rest[0] : undefined) : rest[0]) ?? '.';
    const id = wantsId ? rest[rest.length - 1]! : undefined;
    let role: ApiRole | undefined;
    if (verb === 'issue') {
      if (!values.role) throw new UsageError('--role admin|viewer is required');
      if (!(API_ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role: expected admin or viewer, got ${JSON.stringify(values.role.slice(0, 40))}`);
      role = values.role as ApiRole;
    } else if (values.role !== undefined || values.label !== undefined) throw new UsageError(`--role and --label go with "admin token issue"`);
    const label = values.label ?? '';
    if (label.length > 200 || /[\u0000-\u001f]/.test(label)) throw new UsageError('--label: at most 200 printable characters');

    const store = await open(root);
    if (!store) return 1;
    try {
      const audit = (action: string, target: string, detail?: Record<string, unknown>) => store.appendAudit({ at: new Date().toISOString(), actor: 'cli', source: 'local', action, result: 'ok', target, ...(detail ? { detail } : {}) });
      if (verb === 'list') {
        const tokens = await store.listApiTokens();
        if (values.json) process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
        else if (tokens.length === 0) process.stdout.write(`no API tokens in ${store.where}\n`);
        else for (const t of tokens) process.stdout.write(`${t.id}  ${t.role.padEnd(6)}  created ${t.createdAt}${t.lastUsedAt ? `, last used ${t.lastUsedAt}` : ''}${t.label ? `  ${t.label}` : ''}\n`);
        return 0;
      }
      if (verb === 'revoke') {
        if (!(await store.revokeApiToken(id!))) {
          process.stderr.write(`deskset admin: no API token ${JSON.stringify(id!.slice(0, 40))} (deskset admin token list shows them)\n`);
          return 1;
        }
        await audit('token.revoke', id!);
        process.stdout.write(values.json ? `${JSON.stringify({ id, revoked: true })}\n` : `revoked API token ${id}\n`);
        return 0;
      }
      const { token, info } = await store.issueApiToken(role!, label);
      await audit('token.issue', info.id, { role: info.role, label: info.label });
      if (values.json) process.stdout.write(`${JSON.stringify({ ...info, token })}\n`);
      else process.stdout.write(`API token ${info.id} (${info.role}; shown once, deskset stores only its SHA-256):\n  ${token}\nuse it as: curl -H 'Authorization: Bearer ${token.slice(0, 8)}…' …/api/v1/status\n`);
      return 0;
    } finally {
      await store.close();
    }
  });
}

/** The state store deskset.yaml names, with its ${env:…} references resolved as the server does. */
async function open(root: string): Promise<StateStore | undefined> {
  const st = await fsp.stat(root).catch(() => undefined);
  if (!st?.isDirectory()) {
    process.stderr.write(`deskset admin: ${root} is not a directory\n`);
    return undefined;
  }
  const text = await fsp.readFile(path.join(root, 'deskset.yaml'), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const { config, diagnostics } = parseRootConfig(text, 'deskset.yaml', { env: (n) => process.env[n], readFile: (rel) => readSecretFile(path.resolve(root), rel) });
  if (hasErrors(diagnostics)) {
    printDiagnostics(diagnostics);
    return undefined;
  }
  const store = await openStateStore(path.resolve(root), config);
  if (!store) process.stderr.write('deskset admin: no state store (state: off in deskset.yaml); API tokens live in the state store\n');
  return store;
}
