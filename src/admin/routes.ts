// The /api/v1 routes. Each reads the request (request.ts), asks a pure view (views.ts) or a
// port for the answer, and sets the body; errors are thrown as Problems for app.ts to answer.

import { Router } from '@koa/router';
import type { AdminRole } from '../config/root-config.js';
import { normalizeMac } from '../config/mac.js';
import { explainDevice, type PhoneOverride } from '../config/explain-device.js';
import { renderTarget } from '../render/render.js';
import { redactSecrets } from '../config/secret-refs.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Health } from '../service/reloader.js';
import type { AdminAppState, AdminContext } from './app.js';
import { mayAct } from './auth.js';
import { OPENAPI } from './openapi.js';
import { badParam, Problem } from './problem.js';
import { boolParam, enumParam, paging, readBody, strictQuery, timeParam, type Query } from './request.js';
import { MAX_PAGE, type DeviceRecord } from '../store/contract.js';
import { parseWhere, WhereError } from '../store/where.js';
import { judgeFor } from '../inventory/judge.js';
import { joinInventory, parseDuration, selectDevices, type Lifecycles } from '../inventory/view.js';
import type { ImportMode } from '../csv/import-plan.js';
import type { AdminStore } from './store.js';
import { deviceViews, findPhoneFile, phoneFiles, snapshotView, statusView } from './views.js';

/** CSV import and export (src/cli/devices-import.ts, devices-export.ts); absent: 501. */
export interface CsvPort {
  importCsv?(csv: string, opts: { mode: ImportMode; dryRun: boolean }): Promise<{ ok: boolean; [k: string]: unknown }>;
  exportCsv?(): Promise<string>;
}

export interface AdminApiDeps {
  snapshot: () => Snapshot;
  health: () => Health;
  /** The state store: inventory, audit log, API tokens; absent with `state: off`. */
  store?: AdminStore;
  csv?: CsvPort;
  /** Files the phone uploaded that override ours on the phone (explain shows them). */
  phoneOverrides?: (mac: string) => Promise<PhoneOverride[]>;
  maxBodyBytes: () => number;
  /** Enrollment lifecycles for the device rows (undefined: enrollment off, no state column). */
  lifecycles?: () => Promise<Lifecycles | undefined>;
  /** The ETag a phone gets for a path now (the server's render cache): what judges `stale`. */
  etagOf: (path: string) => string | undefined;
  version: string;
  startedAt: Date;
  now: () => number;
}

export const API_PREFIX = '/api/v1';
/** Answered without credentials: the API's own description holds nothing secret. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([`${API_PREFIX}/openapi.json`]);

function need(ctx: AdminContext, role: AdminRole): void {
  const p = ctx.state.principal;
  if (!p || !mayAct(p, role)) throw new Problem('forbidden', `this needs the ${role} role; ${p?.name ?? 'nobody'} has ${p?.role ?? 'none'}`);
}

function macParam(text: string): string {
  const mac = text.length <= 40 ? normalizeMac(text) : undefined;
  if (!mac) throw badParam('mac', `not a MAC address: ${JSON.stringify(text.slice(0, 40))} (12 hex digits, with or without : - or .)`);
  return mac;
}

/** Every record of the inventory, a page at a time (the join with the root needs them all). */
export async function allRecords(store: AdminStore | undefined): Promise<DeviceRecord[]> {
  if (!store) return [];
  const out: DeviceRecord[] = [];
  for (let offset = 0; ; offset += MAX_PAGE) {
    const page = await store.listDevices({ offset, limit: MAX_PAGE });
    for (const d of page.items) out.push(d);
    if (page.items.length < MAX_PAGE) return out;
  }
}

export function createApiRouter(deps: AdminApiDeps): Router<AdminAppState> {
  const r = new Router<AdminAppState>({ prefix: API_PREFIX });
  const q = (ctx: AdminContext, known: readonly string[]) => strictQuery(ctx.query as Query, known);

  r.get('/openapi.json', (ctx) => {
    q(ctx, []);
    ctx.body = OPENAPI;
  });

  r.get('/status', (ctx) => {
    q(ctx, []);
    ctx.body = statusView(deps.health(), deps.snapshot(), { version: deps.version, startedAt: deps.startedAt, nowMs: deps.now(), inventory: !!deps.store });
  });

  r.get('/snapshot', (ctx) => {
    q(ctx, []);
    ctx.body = snapshotView(deps.snapshot(), deps.now());
  });

  /** The inventory joined with the root and judged against the serving snapshot, as `deskset devices` does. */
  const joined = async (snap: Snapshot, records: DeviceRecord[], lifecycles?: Lifecycles) => joinInventory(snap, records, judgeFor(snap, deps.etagOf), lifecycles);

  r.get('/devices', async (ctx) => {
    const query = q(ctx, ['where', 'stale', 'unknown', 'never', 'limit', 'offset']);
    const page = paging(query);
    let where;
    if (query.where !== undefined) {
      try {
        where = parseWhere(query.where);
      } catch (e) {
        if (e instanceof WhereError) throw badParam('where', e.message.replace(/^--where, /, ''));
        throw e;
      }
    }
    const staleMs = query.stale === undefined ? undefined : parseDuration(query.stale);
    if (query.stale !== undefined && staleMs === undefined) throw badParam('stale', `expected a duration such as 90s, 30m, 12h, 3d, 2w or 0, got ${JSON.stringify(query.stale.slice(0, 40))}`);
    const snap = deps.snapshot();
    const records = await allRecords(deps.store);
    const lifecycles = await deps.lifecycles?.();
    const selection = { where, staleMs, unknown: boolParam(query, 'unknown', false), never: boolParam(query, 'never', false), now: deps.now() };
    if (!where && staleMs === undefined && !selection.unknown && !selection.never) {
      // Nothing selects on a result: order and count without judging, then judge only the page
      // (judging renders each phone's boot files: seconds at 10,000 phones, for 100 rows shown).
      const all = joinInventory(snap, records, () => 'never', lifecycles);
      const shown = all.slice(page.offset, page.offset + page.limit);
      const pageMacs = new Set(shown.map((r) => r.mac));
      const judged = new Map((await joined(snap, records.filter((r) => pageMacs.has(r.mac)), lifecycles)).map((r) => [r.mac, r]));
      const items = deviceViews(snap, shown.map((r) => (r.placeholder === undefined ? (judged.get(r.mac) ?? r) : r)));
      ctx.body = { total: all.length, limit: page.limit, offset: page.offset, items };
      return;
    }
    const rows = selectDevices(await joined(snap, records, lifecycles), selection);
    const items = deviceViews(snap, rows.slice(page.offset, page.offset + page.limit));
    ctx.body = { total: rows.length, limit: page.limit, offset: page.offset, items };
  });

  r.get('/devices/export.csv', async (ctx) => {
    q(ctx, []);
    if (!deps.csv?.exportCsv) throw new Problem('not-implemented', 'CSV export is not available in this build');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', 'attachment; filename="devices.csv"');
    ctx.body = await deps.csv.exportCsv();
  });

  r.post('/devices/import', async (ctx) => {
    need(ctx, 'admin');
    const query = q(ctx, ['mode', 'dry_run']);
    // As the CLI: new devices only unless merge (keep keys and comments) or overwrite is asked for.
    const mode = enumParam(query, 'mode', ['create', 'merge', 'overwrite'] as const) ?? 'create';
    const dryRun = boolParam(query, 'dry_run', true);
    if (!ctx.is('text/csv', 'text/plain', 'application/json')) throw new Problem('unsupported-media-type', 'send the CSV as text/csv (or JSON {"csv": "…"})');
    const body = await readBody(ctx.req, deps.maxBodyBytes());
    let csv: string;
    if (ctx.is('application/json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (e) {
        throw badParam('body', `not valid JSON: ${(e as Error).message.slice(0, 200)}`);
      }
      const c = (parsed as { csv?: unknown } | null)?.csv;
      if (typeof c !== 'string' || !parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badParam('body', 'expected a JSON object {"csv": "<the CSV text>"}');
      const extra = Object.keys(parsed).filter((k) => k !== 'csv');
      if (extra.length) throw badParam('body', `unknown key ${JSON.stringify(extra[0])} (known: csv)`);
      csv = c;
    } else {
      csv = new TextDecoder('utf-8', { fatal: false }).decode(body);
    }
    if (csv.trim() === '') throw badParam('body', 'the CSV is empty');
    if (!deps.csv?.importCsv) throw new Problem('not-implemented', 'CSV import is not available in this build');
    const result = await deps.csv.importCsv(csv, { mode, dryRun });
    ctx.state.auditDetail = { import: dryRun ? 'dry run' : mode, accepted: result.ok };
    ctx.status = result.ok ? 200 : 422;
    ctx.body = result;
  });

  r.get('/devices/:mac', async (ctx) => {
    q(ctx, []);
    const mac = macParam(ctx.params.mac!);
    const snap = deps.snapshot();
    ctx.state.auditTarget = mac;
    const seen = (await deps.store?.getDevice(mac)) ?? null;
    const explanation = snap.profiles.devices.has(mac) ? (explainDevice(snap, mac, (await deps.phoneOverrides?.(mac)) ?? []) ?? null) : null;
    if (!seen && !explanation) throw new Problem('not-found', `no device ${mac}: not in the root and never seen`);
    const view = deviceViews(snap, (await joined(snap, seen ? [seen] : [], await deps.lifecycles?.())).filter((x) => x.mac === mac))[0]!;
    ctx.body = { ...view, files: explanation ? phoneFiles(snap, mac).map((t) => t.path) : [], fetched: seen?.files ?? [], explain: explanation };
  });

  r.get('/devices/:mac/files/:name', (ctx) => {
    const query = q(ctx, ['secrets']);
    const mac = macParam(ctx.params.mac!);
    const name = ctx.params.name!;
    const show = enumParam(query, 'secrets', ['masked', 'show'] as const) === 'show';
    if (show) need(ctx, 'admin');
    const snap = deps.snapshot();
    if (!snap.profiles.devices.has(mac)) throw new Problem('not-found', `no device ${mac} in the root`);
    const target = findPhoneFile(snap, mac, name);
    if (!target) throw new Problem('not-found', `${mac} gets no file named ${JSON.stringify(name.slice(0, 100))} (its files: ${phoneFiles(snap, mac).map((t) => t.path).join(', ')})`);
    const { rendered, diagnostics } = renderTarget(snap.render, target, show ? {} : { redact: { secrets: snap.secrets, extraKeys: snap.secretKeys } });
    if (!rendered) throw new Problem('internal', `${target.path} does not render: ${diagnostics.map((d) => redactSecrets(d.message, snap.secrets)).join('; ').slice(0, 500)}`);
    ctx.state.auditTarget = mac;
    ctx.state.auditDetail = { file: target.path, secrets: show ? 'shown' : 'masked' };
    ctx.set('X-Deskset-Secrets', show ? 'shown' : 'masked');
    ctx.set('X-Deskset-Snapshot', snap.id);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = rendered.contentType;
    ctx.body = Buffer.from(rendered.text, 'utf8');
  });

  r.get('/audit', async (ctx) => {
    need(ctx, 'admin');
    const query = q(ctx, ['limit', 'offset', 'actor', 'action', 'action_prefix', 'result', 'since', 'until']);
    const page = paging(query);
    for (const k of ['actor', 'action', 'action_prefix', 'result'] as const) if (query[k] !== undefined && query[k]!.length > 200) throw badParam(k, 'longer than 200 characters');
    if (!deps.store) throw new Problem('not-implemented', 'no state store (state: off in deskset.yaml): audit lines go to the server log');
    const found = await deps.store.listAudit({ ...page, actor: query.actor, action: query.action, actionPrefix: query.action_prefix, result: query.result, since: timeParam(query, 'since'), until: timeParam(query, 'until') });
    ctx.body = { total: found.total, limit: page.limit, offset: page.offset, items: found.items };
  });

  return r;
}
