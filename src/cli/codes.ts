// `deskset codes issue|list|export|release`: activation codes (Cisco's model: one phone, one
// prepared placeholder) and enrollment codes (Avaya DES's: any number of phones into a site).
// A code is printed once, by `issue`, on stdout; the state store keeps its digest and last
// four digits. Every change is an audit record.

import os from 'node:os';
import { stringify } from 'csv-stringify/sync';
import { hasErrors } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import { codeState, formatCode } from '../enroll/codes.js';
import type { CodeRecord } from '../enroll/contract.js';
import { issueAudit, issueCode } from '../enroll/issue.js';
import { loadRoot } from '../io/load-root.js';
import type { StateStore } from '../store/contract.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { openRootState } from './state.js';

/** `codes issue`: print a new code once, keep its digest. */
export function runIssue(args: string[]): Promise<number> {
  return guarded('codes issue', async () => {
    const { values, positionals } = parse(args, COMMANDS['codes-issue']);
    if (positionals.length > 1) throw new UsageError('usage: deskset codes issue [ROOT] (--placeholder NAME … | --site NAME … | --csv FILE …)');
    const issuedBy = `cli:${os.userInfo().username}`;
    if (values.csv !== undefined) {
      const other = (['placeholder', 'mac', 'site', 'groups', 'digits', 'max-devices', 'expires'] as const).find((k) => values[k] !== undefined);
      if (other) throw new UsageError(`--${other} does not go with --csv: the file names each placeholder, its model and MAC (only --ttl, --overwrite, --out and --json do)`);
      const req = { csvPath: values.csv, overwrite: values.overwrite === true, ttlHours: wholeNumber('ttl', values.ttl), json: values.json === true, out: values.out, issuedBy };
      return withStore(positionals[0], 'codes issue', async (store, rootDir) => (await import('./codes-csv.js')).issueFromCsv({ ...req, store, rootDir }));
    }
    if (values.overwrite || values.out !== undefined) throw new UsageError('--overwrite and --out go with --csv FILE');
    return withStore(positionals[0], 'codes issue', async (store, rootDir) => {
      const snap = await loadRoot(rootDir);
      if (hasErrors(snap.diagnostics)) {
        printDiagnostics(snap.diagnostics, process.stderr, snap.secrets);
        return 1;
      }
      const mac = values.mac === undefined ? undefined : normalizeMac(values.mac);
      if (values.mac !== undefined && !mac) throw new UsageError(`--mac: not a MAC address: ${JSON.stringify(values.mac.slice(0, 40))}`);
      const issued = issueCode(
        snap.profiles,
        {
          placeholder: values.placeholder,
          mac,
          site: values.site,
          groups: values.groups?.split(',').map((g) => g.trim()).filter(Boolean),
          digits: wholeNumber('digits', values.digits),
          maxDevices: wholeNumber('max-devices', values['max-devices']),
          expires: values.expires,
          ttlHours: wholeNumber('ttl', values.ttl),
          issuedBy,
        },
        new Date(),
      );
      if (!issued.ok) {
        process.stderr.write(`deskset codes issue: ${issued.message}\n`);
        return 1;
      }
      const r = issued.record;
      await store.insertCode(r);
      await store.appendAudit(issueAudit(r));
      if (values.json) process.stdout.write(`${JSON.stringify({ code: issued.code, ...describe(r) }, null, 2)}\n`);
      else process.stdout.write(`${formatCode(issued.code)}\n${summary(r)}\nThe code is shown only now: deskset keeps its digest.\n`);
      return 0;
    });
  });
}

export function runList(args: string[]): Promise<number> {
  return guarded('codes list', async () => {
    const { values, positionals } = parse(args, COMMANDS['codes-list']);
    if (positionals.length > 1) throw new UsageError('usage: deskset codes list [ROOT] [--expired] [--json]');
    return withStore(positionals[0], 'codes list', (store) => list(store, 'list', values.json === true, values.expired === true));
  });
}

export function runExport(args: string[]): Promise<number> {
  return guarded('codes export', async () => {
    const { values, positionals } = parse(args, COMMANDS['codes-export']);
    if (positionals.length > 1 || !values.csv) throw new UsageError('usage: deskset codes export [ROOT] --csv');
    return withStore(positionals[0], 'codes export', (store) => list(store, 'export', false, false));
  });
}

export function runRelease(args: string[]): Promise<number> {
  return guarded('codes release', async () => {
    const { positionals } = parse(args, COMMANDS['codes-release']);
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('usage: deskset codes release [ROOT] ID');
    const id = positionals[positionals.length - 1]!;
    return withStore(positionals.length === 2 ? positionals[0] : undefined, 'codes release', (store) => release(store, id));
  });
}

function wholeNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`--${name}: not a whole number: ${JSON.stringify(v.slice(0, 20))}`);
  return Number(v);
}

/** Open ROOT's state store for `body`, and close it after; codes need one. */
async function withStore(root: string | undefined, command: string, body: (store: StateStore, rootDir: string) => Promise<number>): Promise<number> {
  const state = await openRootState(root ?? '.', command);
  if (!state) return 1;
  try {
    if (!state.store) {
      process.stderr.write(`deskset ${command}: codes live in the state store, and it is off (state: off in deskset.yaml)\n`);
      return 1;
    }
    return await body(state.store, state.rootDir);
  } finally {
    await state.store?.close();
  }
}

async function list(store: StateStore, verb: 'list' | 'export', json: boolean, expired: boolean): Promise<number> {
  const now = new Date();
  const codes = (await store.listCodes()).filter((c) => !expired || codeState(c, now) === 'expired');
  const rows = codes.map((c) => ({ ...describe(c), state: codeState(c, now) }));
  if (verb === 'export') {
    // Never the code: only what identifies and describes it.
    process.stdout.write(stringify(rows.map((r) => ({ ...r, groups: r.groups.join('|') })), { header: true, columns: ['id', 'tail', 'kind', 'placeholder', 'mac', 'site', 'groups', 'max_devices', 'used', 'state', 'issued_at', 'expires_at', 'issued_by'] }));
    return 0;
  }
  if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (!rows.length) process.stdout.write('no codes\n');
  else for (const r of rows) process.stdout.write(`${r.id}  …${r.tail}  ${r.state.padEnd(11)}  ${summary(codes.find((c) => c.id === r.id)!)}\n`);
  return 0;
}

async function release(store: StateStore, id: string): Promise<number> {
  const at = new Date().toISOString();
  if (!(await store.releaseCode(id, at))) {
    process.stderr.write(`deskset codes release: no code ${JSON.stringify(id.slice(0, 40))} that is not already released\n`);
    return 1;
  }
  await store.appendAudit({ at, actor: `cli:${os.userInfo().username}`, source: 'local', action: 'code.release', result: 'ok', detail: { code: id } });
  process.stdout.write(`released ${id}: it binds no more phones, and the phones it bound are no longer served as bound\n`);
  return 0;
}

/** A code as lists, exports and the API show it: never the code, only its id and last four digits. */
export function describe(c: CodeRecord) {
  return { id: c.id, tail: c.tail, kind: c.kind, placeholder: c.placeholder ?? null, mac: c.mac ?? null, site: c.site ?? null, groups: c.groups, max_devices: c.maxDevices, used: c.used, issued_at: c.issuedAt, expires_at: c.expiresAt, issued_by: c.issuedBy };
}

function summary(c: CodeRecord): string {
  const until = c.expiresAt ? `until ${c.expiresAt}` : 'never expires';
  if (c.kind === 'activation') return `activation code ${c.id} for placeholder ${c.placeholder}${c.mac ? `, only for ${c.mac}` : ''}, ${until}`;
  return `enrollment code ${c.id} for site ${c.site}${c.groups.length ? `, groups ${c.groups.join(', ')}` : ''}, ${c.maxDevices === null ? 'no cap' : `at most ${c.maxDevices} phones (${c.used} so far)`}, ${until}`;
}
