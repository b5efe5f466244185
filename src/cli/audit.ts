// `deskset audit [ROOT] [--json] [--since DURATION|ISO] [--action PREFIX] [--actor NAME]
// [--limit N]`: the state store's audit log, the records /api/v1/audit pages through, newest
// first, one line each. Codes never appear in it (records carry a code's id), so neither here.

import { parseDuration } from '../inventory/view.js';
import { MAX_PAGE, type AuditEntry, type AuditQuery, type StateStore } from '../store/contract.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { openRootState } from './state.js';

/** Records shown unless --limit says otherwise; the most --limit takes. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 100_000;

export function run(args: string[]): Promise<number> {
  return guarded('audit', async () => {
    const { values, positionals } = parse(args, COMMANDS.audit);
    if (positionals.length > 1) throw new UsageError(`usage: deskset audit [ROOT] [options] (extra argument ${JSON.stringify(positionals[1]!.slice(0, 40))})`);
    const limit = values.limit === undefined ? DEFAULT_LIMIT : /^\d{1,6}$/.test(values.limit) ? Number(values.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new UsageError(`--limit ${JSON.stringify(values.limit?.slice(0, 20))}: a whole number from 1 to ${MAX_LIMIT}`);
    const since = values.since === undefined ? undefined : sinceTime(values.since, Date.now());
    if (since === null) throw new UsageError(`--since ${JSON.stringify(values.since!.slice(0, 40))}: a duration back from now (90s, 30m, 12h, 3d, 2w) or an ISO 8601 time such as 2026-12-01T09:00:00Z`);
    for (const k of ['action', 'actor'] as const) if ((values[k]?.length ?? 0) > 200) throw new UsageError(`--${k}: longer than 200 characters`);

    const state = await openRootState(positionals[0] ?? '.', 'audit');
    if (!state) return 1;
    try {
      if (!state.store) {
        process.stderr.write('deskset audit: the audit log lives in the state store, and it is off (state: off in deskset.yaml); audit lines went to the server log\n');
        return 1;
      }
      const entries = await newest(state.store, { actionPrefix: values.action, actor: values.actor, since }, limit);
      process.stdout.write(values.json ? `${JSON.stringify(entries, null, 2)}\n` : entries.length ? formatAudit(entries) : 'no audit records match\n');
      return 0;
    } finally {
      await state.store?.close();
    }
  });
}

/**
 * `--since`: a duration back from `now` (`12h`, `3d`) or an ISO 8601 time, as the ISO time
 * the store compares with; null when it is neither.
 */
export function sinceTime(text: string, now: number): string | null {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now - ms).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text.trim())) return null;
  const t = Date.parse(text.trim());
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The `limit` newest records matching `q`, a store page at a time. */
async function newest(store: StateStore, q: AuditQuery, limit: number): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  while (out.length < limit) {
    const page = await store.listAudit({ ...q, offset: out.length, limit: Math.min(MAX_PAGE, limit - out.length) });
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) break;
  }
  return out;
}

/** One line per record: time, actor, source, action, target, result, then the details as key=value. */
export function formatAudit(entries: readonly AuditEntry[]): string {
  const rows = entries.map((e) => [e.at, e.actor, e.source, e.action, e.target ?? '-', e.result, details(e.detail)].map(safe));
  const widths = [0, 1, 2, 3, 4, 5].map((c) => Math.min(40, Math.max(...rows.map((r) => r[c]!.length))));
  return rows.map((r) => r.map((v, c) => (c < widths.length ? v.padEnd(widths[c]!) : v)).join('  ').trimEnd()).join('\n') + '\n';
}

function details(detail: AuditEntry['detail']): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[^\s"=]*$/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
}

/**
 * Actors, targets and details can come from the network (a user name typed at a login, a
 * phone's path): control characters are shown escaped, never sent to the terminal.
 */
function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
