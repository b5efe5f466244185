// `deskset devices export [ROOT] --csv [--out FILE] [--show-secrets]`: every device file as a
// row of the CSV `devices import` reads (export → import --merge is a no-op).

import { promises as fs } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { hasErrors } from '../check/diagnostics.js';
import { normalizeMac } from '../config/mac.js';
import { exportDevices, type ExportDevice, type InventoryLookup } from '../csv/export.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { buildFromRoot, readRoot } from '../io/load-root.js';
import { guarded, parse, printDiagnostics, UsageError } from './common.js';
import { COMMANDS } from './commands.js';

export function runDevicesExport(args: string[], inventory?: InventoryLookup): Promise<number> {
  return guarded('devices export', async () => {
    const { values, positionals } = parse(args, COMMANDS['devices-export']);
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const result = await exportCsv(positionals[0] ?? '.', { showSecrets: values['show-secrets'], inventory });
    if (!result.ok) {
      printDiagnostics(result.diagnostics);
      return 1;
    }
    for (const s of result.skipped.slice(0, 20)) process.stderr.write(`deskset devices export: ${s.mac}: ${s.key} has no CSV column form; not exported (import --merge keeps it)\n`);
    if (values.out) await writeFileAtomic(values.out, result.csv);
    else process.stdout.write(result.csv);
    return 0;
  });
}

export const run = runDevicesExport;

/** The CSV of a root's devices, or the root's errors. */
export async function exportCsv(root: string, opts: { showSecrets?: boolean; inventory?: InventoryLookup } = {}) {
  const rf = await readRoot(root);
  const snap = await buildFromRoot(rf);
  if (hasErrors(snap.diagnostics)) return { ok: false as const, diagnostics: snap.diagnostics };
  const devices: ExportDevice[] = [];
  for (const [rel, text] of rf.files) {
    if (!rel.startsWith('profiles/devices/') || rel.slice('profiles/devices/'.length).includes('/')) continue;
    const mac = normalizeMac(rel.replace(/^.*\//, '').replace(/\.ya?ml$/i, ''));
    if (mac) devices.push({ mac, text, vendor: snap.profiles.devices.get(mac)?.model.vendor });
  }
  devices.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  const table = exportDevices(devices, { showSecrets: opts.showSecrets, extraSecretKeys: snap.secretKeys, inventory: opts.inventory });
  // Leading or trailing spaces are quoted: import trims unquoted fields, as PDMS-E's examples need.
  const csv = stringify([table.header, ...table.rows], { quoted_match: /^\s|\s$/ });
  return { ok: true as const, csv, skipped: table.skipped, devices: devices.length };
}
