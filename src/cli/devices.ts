// `deskset devices [ROOT] [--json] [--csv] [--where EXPR] [--stale DURATION] [--unknown] [--never]`:
// the inventory (the state store) joined with the root (configured devices never seen,
// devices seen but not configured). `devices import|export …` are subcommands that plug in
// through SUBCOMMANDS.

import { stringify } from 'csv-stringify/sync';
import { judgeFor } from '../inventory/judge.js';
import { formatTable, joinInventory, parseDuration, selectDevices, VIEW_COLUMNS, type DeviceView } from '../inventory/view.js';
import { Provisioner } from '../service/provisioner.js';
import { boundDevices } from '../enroll/bindings.js';
import { readLifecycles } from '../enroll/read-lifecycles.js';
import { withDevices } from '../snapshot/with-devices.js';
import { MAX_PAGE, type DeviceRecord, type StateStore } from '../store/contract.js';
import { parseWhere, WhereError, type Where } from '../store/where.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { withStoreAndRoot } from './state.js';

/** `deskset devices <word> …`: subcommands by their first word (import, export). */
export const SUBCOMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {};

export async function run(args: string[]): Promise<number> {
  const sub = args[0] !== undefined ? SUBCOMMANDS[args[0]] : undefined;
  if (sub) return (await sub())(args.slice(1));
  return guarded('devices', async () => {
    const { values, positionals } = parse(args, COMMANDS.devices);
    if (positionals.length > 1) throw new UsageError(`usage: deskset devices [ROOT] [options] (unknown subcommand or extra argument ${JSON.stringify(positionals[1])})`);
    if (values.json && values.csv) throw new UsageError('--json and --csv: choose one');
    let where: Where | undefined;
    if (values.where !== undefined) {
      try {
        where = parseWhere(values.where);
      } catch (e) {
        if (e instanceof WhereError) throw new UsageError(e.message);
        throw e;
      }
    }
    const staleMs = values.stale === undefined ? undefined : parseDuration(values.stale);
    if (values.stale !== undefined && staleMs === undefined) throw new UsageError(`--stale ${JSON.stringify(values.stale)}: a duration such as 90s, 30m, 12h, 3d, 2w (or 0)`);

    const root = positionals[0] ?? '.';
    return withStoreAndRoot(root, 'devices', 'the inventory is off', async ({ store, snap }) => {
      // Phones bound by codes are configured as the server sees them.
      const bindings = snap.config.enrollment.enabled ? await store.listBindings() : [];
      const served = withDevices(snap, boundDevices(snap.profiles, snap.catalog, bindings).devices);
      // The same renders a phone would get, for the ETags its fetches are compared with.
      const provisioner = new Provisioner(served);
      const lifecycles = await readLifecycles(store, snap, new Date(), { bindings });
      const rows = joinInventory(served, await allDevices(store), judgeFor(served, (p) => provisioner.serve({ path: p }).rendered?.etag), lifecycles);
      const picked = selectDevices(rows, { where, staleMs, unknown: values.unknown, never: values.never, now: Date.now() });
      process.stdout.write(values.json ? `${JSON.stringify(picked, null, 2)}\n` : values.csv ? toCsv(picked) : picked.length ? formatTable(picked) : 'no devices match\n');
      return 0;
    });
  });
}

async function allDevices(store: StateStore): Promise<DeviceRecord[]> {
  const out: DeviceRecord[] = [];
  for (let offset = 0; ; offset += MAX_PAGE) {
    const page = await store.listDevices({ offset, limit: MAX_PAGE });
    out.push(...page.items);
    if (page.items.length < MAX_PAGE) return out;
  }
}

function toCsv(rows: readonly DeviceView[]): string {
  return stringify(
    rows.map((r) => [...VIEW_COLUMNS.map((c) => r[c]), r.configured ? 'yes' : 'no', r.placeholder ?? '']),
    { header: true, columns: [...VIEW_COLUMNS, 'configured', 'placeholder'] },
  );
}
