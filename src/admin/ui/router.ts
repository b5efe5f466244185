// The dashboard's routes on the admin listener: read-only HTML pages at /, behind the admin
// users (HTTP Basic, through the app's own authentication, lockout and audit). Each route
// gathers plain values, asks pages.ts for the view and render.ts for the HTML.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Router } from '@koa/router';
import { explainDevice } from '../../config/explain-device.js';
import { normalizeMac } from '../../config/mac.js';
import { redactSecrets } from '../../config/secret-refs.js';
import { judgeFor } from '../../inventory/judge.js';
import { joinInventory } from '../../inventory/view.js';
import { selectDevices } from '../../inventory/view.js';
import { firmwareReport } from '../../render/firmware-report.js';
import { renderTarget } from '../../render/render.js';
import type { Snapshot } from '../../snapshot/snapshot.js';
import { parseWhere, WhereError, type Where } from '../../store/where.js';
import type { AdminAppState, AdminContext } from '../app.js';
import { allRecords, type AdminApiDeps } from '../routes.js';
import { intParam, type Query } from '../request.js';
import { finding, phoneFiles, snapshotView, type Finding } from '../views.js';
import { DEVICE_PAGE, firmwarePage, fleetPage, layerRows, pageLinks, snapshotPage } from './pages.js';
import { createUiRenderer, readAsset, type PageName } from './render.js';

export type DashboardDeps = Pick<AdminApiDeps, 'snapshot' | 'health' | 'store' | 'phoneOverrides' | 'etagOf' | 'version' | 'now'>;

/** A preview longer than this is cut (a firmware-sized file would make the page unusable). */
const PREVIEW_MAX = 256 * 1024;

const NAV = [
  { href: '/', label: 'Fleet', page: 'fleet' },
  { href: '/devices', label: 'Devices', page: 'devices' },
  { href: '/snapshot', label: 'Snapshot', page: 'snapshot' },
  { href: '/firmware', label: 'Firmware', page: 'firmware' },
] as const;

/** No inline script or style anywhere, so the policy can forbid both: injected markup stays inert. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What every HTML page the admin listener answers is sent with. */
export function pageHeaders(ctx: AdminContext): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}

export function createDashboardRouters(deps: DashboardDeps): { pages: Router<AdminAppState>; assets: Router<AdminAppState> } {
  const render = createUiRenderer();
  const pages = new Router<AdminAppState>();
  const assets = new Router<AdminAppState>();
  const inventory = () => !!deps.store;

  const send = (ctx: AdminContext, page: PageName, title: string, data: Record<string, unknown>, snap: Snapshot, status = 200) => {
    const p = ctx.state.principal;
    ctx.status = status;
    pageHeaders(ctx);
    ctx.body = render(page, {
      ...data,
      title,
      nav: NAV.map((n) => ({ ...n, current: n.page === page })),
      user: p?.name ?? '',
      role: p?.role ?? '',
      inventory: inventory(),
      snapshotId: snap.id,
      version: deps.version,
    });
  };

  const joined = async (snap: Snapshot) => joinInventory(snap, await allRecords(deps.store), judgeFor(snap, deps.etagOf));

  pages.get('/', async (ctx) => {
    const snap = deps.snapshot();
    send(ctx, 'fleet', 'Fleet', { fleet: fleetPage(await joined(snap), inventory()) }, snap);
  });

  pages.get('/devices', async (ctx) => {
    const query = ctx.query as Query;
    const text = typeof query.where === 'string' ? query.where.trim() : '';
    const limit = safeInt(query, 'limit', 1, 500, DEVICE_PAGE);
    const offset = safeInt(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    let where: Where | undefined;
    let whereError: string | undefined;
    if (text) {
      try {
        where = parseWhere(text);
      } catch (e) {
        if (!(e instanceof WhereError)) throw e;
        whereError = e.message.replace(/^--where, /, '');
      }
    }
    const snap = deps.snapshot();
    const rows = whereError ? [] : selectDevices(await joined(snap), { where, now: deps.now() });
    send(ctx, 'devices', 'Devices', { where: text, whereError, rows: rows.slice(offset, offset + limit), page: pageLinks('/devices', { where: text }, offset, limit, rows.length) }, snap, whereError ? 400 : 200);
  });

  pages.get('/devices/:mac', async (ctx) => {
    const snap = deps.snapshot();
    const raw = ctx.params.mac!;
    const mac = raw.length <= 40 ? normalizeMac(raw) : undefined;
    if (!mac) return send(ctx, 'not-found', 'Not found', { message: `Not a MAC address: ${raw.slice(0, 40)}` }, snap, 404);
    ctx.state.auditTarget = mac;
    const seen = (await deps.store?.getDevice(mac)) ?? undefined;
    const configured = snap.profiles.devices.has(mac);
    if (!seen && !configured) return send(ctx, 'not-found', 'Not found', { message: `No device ${mac}: not in the root and never seen.` }, snap, 404);
    const row = joinInventory(snap, seen ? [seen] : [], judgeFor(snap, deps.etagOf)).find((r) => r.mac === mac)!;
    const explanation = configured ? explainDevice(snap, mac, (await deps.phoneOverrides?.(mac)) ?? []) : undefined;
    const redact = { secrets: snap.secrets, extraKeys: snap.secretKeys };
    const files = configured
      ? phoneFiles(snap, mac).map((t) => {
          const { rendered, diagnostics } = renderTarget(snap.render, t, { redact });
          if (!rendered) return { path: t.path, bytes: 0, error: `does not render: ${diagnostics.map((d) => redactSecrets(d.message, snap.secrets)).join('; ').slice(0, 500)}` };
          const text = rendered.text.length > PREVIEW_MAX ? `${rendered.text.slice(0, PREVIEW_MAX)}\n… (cut at ${PREVIEW_MAX} characters)` : rendered.text;
          return { path: t.path, bytes: Buffer.byteLength(rendered.text), text };
        })
      : [];
    send(
      ctx,
      'device',
      `Device ${mac}`,
      {
        mac,
        row,
        configured,
        groups: snap.profiles.devices.get(mac)?.groups ?? [],
        description: explanation ? await describedAs(explanation.layers.find((l) => l.layer === 'device')?.file) : undefined,
        layers: (explanation?.layers ?? []).map((l) => ({ ...l, file: rootRelative(snap, l.file) })),
        values: explanation ? layerRows(explanation, (at) => rootRelative(snap, at)) : { values: [], removed: [] },
        firmware: explanation && { ...explanation.firmware, setAt: explanation.firmware.setAt.map((at) => rootRelative(snap, at)) },
        files,
        seen,
      },
      snap,
    );
  });

  pages.get('/snapshot', (ctx) => {
    const snap = deps.snapshot();
    const h = deps.health();
    const view = snapshotView(snap, deps.now());
    const place = (f: Finding): Finding => ({ ...f, at: f.at === null ? null : rootRelative(snap, f.at) });
    const data = snapshotPage(
      { ...view, errors: view.errors.map(place), warnings: view.warnings.map(place) },
      { ok: h.ok, errors: h.errors.map((d) => place(finding(d, snap.secrets))), warnings: (h.warnings ?? []).map((d) => place(finding(d, snap.secrets))), reloads: h.reloads ?? [] },
    );
    send(ctx, 'snapshot', 'Snapshot', { snap: data }, snap);
  });

  pages.get('/firmware', (ctx) => {
    const snap = deps.snapshot();
    const report = firmwareReport(snap).map((m) => ({ ...m, devices: m.devices.map((d) => ({ ...d, setAt: d.setAt.map((at) => rootRelative(snap, at)) })) }));
    send(ctx, 'firmware', 'Firmware', { models: firmwarePage(report) }, snap);
  });

  const asset = (name: 'style.css' | 'app.js', type: string) => {
    const body = readAsset(name);
    assets.get(`/ui/${name}`, (ctx) => {
      ctx.type = type;
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Cache-Control', 'private, max-age=300');
      ctx.body = body;
    });
  };
  asset('style.css', 'text/css; charset=utf-8');
  asset('app.js', 'text/javascript; charset=utf-8');

  return { pages, assets };
}

/** The device file's `description:` (the snapshot keeps no copy): shown as text, or nothing if unreadable. */
async function describedAs(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  try {
    const doc = YAML.parse(await fs.readFile(file, 'utf8')) as { description?: unknown } | null;
    return typeof doc?.description === 'string' ? doc.description : undefined;
  } catch {
    return undefined;
  }
}

/** Places as the admin knows them (profiles/sites/nyc.yaml:4:5), not the server's own paths. */
function rootRelative(snap: Snapshot, at: string): string {
  const dir = snap.rootDir.endsWith(path.sep) ? snap.rootDir : snap.rootDir + path.sep;
  return at.startsWith(dir) ? at.slice(dir.length) : at;
}

/** A paging number from the query; a bad one falls back to the default (a page never errors on it). */
function safeInt(q: Query, name: string, min: number, max: number, dflt: number): number {
  const v = q[name];
  if (typeof v !== 'string') return dflt;
  try {
    return intParam({ [name]: v }, name, min, max, dflt);
  } catch {
    return dflt;
  }
}
