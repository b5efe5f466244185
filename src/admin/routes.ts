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
import type { AdminState } from './state.js';
import { DEVICE_COLUMNS, deviceRows, findPhoneFile, phoneFiles, snapshotView, statusView, type InventoryRecord } from './views.js';
import { compileWhere } from './where.js';

/** The inventory of the state store, as far as the API reads it. */
export interface InventoryPort {
  list(): Promise<InventoryRecord[]>;
  get(mac: string): Promise<InventoryRecord | undefined>;
}

/** CSV import and export (src/cli/devices-import.ts, devices-export.ts); absent: 501. */
export interface CsvPort {
  importCsv?(csv: string, opts: { mode: 'merge' | 'overwrite'; dryRun: boolean }): Promise<{ ok: boolean; [k: string]: unknown }>;
  exportCsv?(): Promise<string>;
}

export interface AdminApiDeps {
  snapshot: () => Snapshot;
  health: () => Health;
  state: AdminState;
  inventory?: InventoryPort;
  csv?: CsvPort;
  /** Files the phone uploaded that override ours on the phone (explain shows them). */
  phoneOverrides?: (mac: string) => Promise<PhoneOverride[]>;
  maxBodyBytes: () => number;
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

export function createApiRouter(deps: AdminApiDeps): Router<AdminAppState> {
  const r = new Router<AdminAppState>({ prefix: API_PREFIX });
  const q = (ctx: AdminContext, known: readonly string[]) => strictQuery(ctx.query as Query, known);

  r.get('/openapi.json', (ctx) => {
    q(ctx, []);
    ctx.body = OPENAPI;
  });

  r.get('/status', (ctx) => {
    q(ctx, []);
    ctx.body = statusView(deps.health(), deps.snapshot(), { version: deps.version, startedAt: deps.startedAt, nowMs: deps.now(), inventory: !!deps.inventory });
  });

  r.get('/snapshot', (ctx) => {
    q(ctx, []);
    ctx.body = snapshotView(deps.snapshot(), deps.now());
  });

  r.get('/devices', async (ctx) => {
    const query = q(ctx, ['where', 'limit', 'offset']);
    const page = paging(query);
    const snap = deps.snapshot();
    let rows = deviceRows(snap, deps.inventory ? await deps.inventory.list() : []);
    if (query.where !== undefined) {
      const w = compileWhere(query.where, DEVICE_COLUMNS);
      if (!w.ok) throw badParam('where', `${w.error} (at character ${w.at + 1})`);
      rows = rows.filter(w.test);
    }
    ctx.body = { total: rows.length, limit: page.limit, offset: page.offset, items: rows.slice(page.offset, page.offset + page.limit) };
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
    const mode = enumParam(query, 'mode', ['merge', 'overwrite'] as const) ?? 'merge';
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
    ctx.state.auditDetail = `import ${dryRun ? 'dry run' : `applied (${mode})`}: ${result.ok ? 'ok' : 'refused'}`;
    ctx.status = result.ok ? 200 : 422;
    ctx.body = result;
  });

  r.get('/devices/:mac', async (ctx) => {
    q(ctx, []);
    const mac = macParam(ctx.params.mac!);
    const snap = deps.snapshot();
    const seen = (await deps.inventory?.get(mac)) ?? null;
    const explanation = snap.profiles.devices.has(mac) ? explainDevice(snap, mac, (await deps.phoneOverrides?.(mac)) ?? []) ?? null : null;
    if (!seen && !explanation) throw new Problem('not-found', `no device ${mac}: not in the root and never seen`);
    const row = deviceRows(snap, seen ? [seen] : []).find((x) => x.mac === mac)!;
    ctx.body = { ...row, files: explanation ? phoneFiles(snap, mac).map((t) => t.path) : [], explain: explanation };
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
    if (show) ctx.state.auditDetail = `secrets shown: ${mac} ${target.path}`;
    ctx.set('X-Deskset-Secrets', show ? 'shown' : 'masked');
    ctx.set('X-Deskset-Snapshot', snap.id);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = rendered.contentType;
    ctx.body = Buffer.from(rendered.text, 'utf8');
  });

  r.get('/audit', async (ctx) => {
    need(ctx, 'admin');
    const query = q(ctx, ['limit', 'offset', 'who', 'ip', 'result', 'since', 'until']);
    const page = paging(query);
    for (const k of ['who', 'ip'] as const) if (query[k] !== undefined && query[k]!.length > 200) throw badParam(k, 'longer than 200 characters');
    const found = await deps.state.listAudit({ ...page, who: query.who, ip: query.ip, result: enumParam(query, 'result', ['ok', 'denied', 'error'] as const), since: timeParam(query, 'since'), until: timeParam(query, 'until') });
    ctx.body = { total: found.total, limit: page.limit, offset: page.offset, items: found.entries };
  });

  return r;
}
