// CSV import and export through the admin API: wt-csv's functions (src/cli/devices-import.ts,
// devices-export.ts) on the served root, with the answer shaped for JSON and every secret
// masked (a dry run's YAML diff would otherwise echo the passwords a CSV carries).

import { formatLoc } from '../check/diagnostics.js';
import { exportCsv } from '../cli/devices-export.js';
import { importCsv } from '../cli/devices-import.js';
import { isSecretKey, REDACTED } from '../config/redact.js';
import { redactSecrets } from '../config/secret-refs.js';
import type { DeviceRecord } from '../store/contract.js';
import type { ImportMode } from '../csv/import-plan.js';
import type { CsvPort } from './routes.js';

/** `key: value` and `key = value` pairs, in YAML blocks and flow maps, rendered cfg files and diffs. */
const PAIR = /((?:^|[{,\s+\-])["']?([A-Za-z0-9_.\-]+)["']?\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^,}\s][^,}\n]*)/g;

/** Mask the value of every pair whose key names a secret, and every known secret value anywhere. */
export function maskSecrets(text: string, known: ReadonlySet<string>, extraKeys?: RegExp): string {
  const byKey = text.replace(PAIR, (all, head: string, key: string, value: string) => {
    const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
    const inner = q ? value.slice(1, -1) : value;
    // A reference names where the secret is, not the secret: it stays readable.
    return isSecretKey(key, extraKeys) && inner !== REDACTED && !inner.startsWith('${') ? `${head}${q}${REDACTED}${q}` : all;
  });
  return redactSecrets(byKey, known);
}

export function csvPort(o: { rootDir: () => string; secrets: () => ReadonlySet<string>; extraKeys: () => RegExp | undefined; inventory?: () => Promise<DeviceRecord[]> }): Required<CsvPort> {
  const importOnce = async (csv: string, { mode, dryRun }: { mode: ImportMode; dryRun: boolean }) => {
    const r = await importCsv({ csvPath: 'body.csv', csvText: csv, root: o.rootDir(), mode, dryRun });
    const known = new Set([...o.secrets(), ...r.devices.flatMap((d) => d.envRefs.map((e) => e.value))].filter((v) => v.length >= 3));
    const mask = (t: string) => maskSecrets(t, known, o.extraKeys());
    return {
      ok: r.code === 0,
      dryRun,
      mode,
      summary: mask(r.out.trimEnd().split('\n').pop() ?? ''),
      devices: r.devices.map((d) => ({ mac: d.mac, line: d.line, file: d.rel, action: d.action, plaintextSecrets: d.plaintextSecrets, envRefs: d.envRefs.map((e) => e.name) })),
      findings: r.diagnostics.map((d) => ({ code: d.code, severity: d.severity, message: mask(d.message), at: d.loc ? formatLoc(d.loc) : null, device: d.device ?? null })),
      report: mask(r.out),
      warnings: mask(r.err),
    };
  };
  // One import at a time: two applied at once could each pass the check and together not.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    importCsv(csv, opts) {
      const run = queue.then(() => importOnce(csv, opts));
      queue = run.catch(() => undefined);
      return run;
    },
    async exportCsv() {
      const records = new Map((await (o.inventory?.() ?? Promise.resolve([]))).map((d) => [d.mac, d] as const));
      const r = await exportCsv(o.rootDir(), {
        inventory: (mac) => {
          const d = records.get(mac);
          return d && { last_seen: d.lastSeen, firmware: d.firmware, provision_result: d.result };
        },
      });
      if (!r.ok) throw new Error(`the root has errors: ${r.diagnostics.map((d) => `${formatLoc(d.loc)} ${d.message}`).join('; ').slice(0, 300)}`);
      return r.csv;
    },
  };
}
