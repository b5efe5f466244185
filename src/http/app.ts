// The HTTP edge: a Koa app that turns a phone's request into bytes. Everything it decides
// comes from the pure core through the Provisioner; this file only wires and responds.

import Koa from 'koa';
import type { Logger } from 'pino';
import type { Provisioner } from '../service/provisioner.js';
import { formatLoc } from '../core/diagnostics.js';
import { parseUserAgent } from '../core/user-agent.js';
import { PASSED, logPath, round } from './listener.js';
import { replyRendered } from './provision.js';
import { writeReply } from './reply.js';
import { allTargets } from '../core/request.js';
import { logAccess } from './access-log.js';
import { decodeRequestPath } from './request-path.js';
import { serveDiskFile } from './files.js';
import { createUploadHandler, serveUploaded } from './uploads.js';
import type { UploadStore } from '../service/upload-store.js';
import type { Health } from '../service/reloader.js';

export interface AppOptions {
  provisioner: Provisioner;
  /** The config root on disk, for firmware/ and resources/. */
  rootDir: string;
  log: Logger;
  /** Where phones' uploads go (PUT) and are served back from. */
  uploads: UploadStore;
  /** Whether the last reload was accepted, and the errors if not (for /healthz). */
  health?: () => Health;
}

interface State {
  mac?: string;
  model?: string;
  reason?: string;
  /** Bytes written by a reply that bypassed Koa's own response. */
  bytes?: number;
}

export function createApp(opts: AppOptions): Koa<State> {
  const app = new Koa<State>();
  app.proxy = false;
  // Koa would print errors with stacks to stderr; we log them ourselves, once, as JSON.
  app.silent = true;

  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      // Nothing internal reaches a phone: no message, no stack, no path.
      opts.log.error({ err: (err as Error).message, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = '';
    } finally {
      const ms = round(performance.now() - started);
      logAccess(opts.log, {
        ip: ctx.ip,
        method: ctx.method,
        path: logPath(ctx.originalUrl),
        status: ctx.status,
        bytes: ctx.state.bytes ?? (ctx.method === 'HEAD' ? 0 : Number(ctx.response.length ?? 0) || 0),
        ms,
        mac: ctx.state.mac,
        model: ctx.state.model,
        reason: ctx.state.reason,
      });
    }
  });

  // Operator endpoints. Their names cannot collide with phone files (no extension, a
  // leading "-/" no vendor uses).
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      const h = opts.health?.() ?? { ok: true, errors: [] };
      ctx.set('Cache-Control', 'no-store');
      if (h.ok) {
        ctx.type = 'text/plain';
        ctx.body = 'ok\n';
      } else {
        ctx.status = 503;
        ctx.body = { ok: false, errors: h.errors.map((d) => ({ code: d.code, message: d.message, at: d.loc ? formatLoc(d.loc) : undefined, device: d.device, path: d.path })), lastReload: h.lastReload };
      }
      return;
    }
    if (ctx.path === '/-/status') {
      const snap = opts.provisioner.current();
      const h = opts.health?.();
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        snapshot: snap.id,
        loadedAt: snap.loadedAt.toISOString(),
        devices: snap.profiles.devices.size,
        files: allTargets(snap).length,
        healthy: h?.ok ?? true,
        lastReload: h?.lastReload,
      };
      return;
    }
    await next();
  });

  const uploadHandler = createUploadHandler({ store: opts.uploads, log: (rec) => opts.log.info(rec) });

  app.use(async (ctx) => {
    if (ctx.method === 'PUT') return uploadHandler(ctx);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD, PUT');
      return empty(ctx, 405);
    }
    // Rendered files: the same function the fast path uses, written the same way.
    if (!(ctx.req as { [PASSED]?: boolean })[PASSED]) {
      const reply = replyRendered({ method: ctx.method, url: ctx.originalUrl, headers: ctx.headers }, { provisioner: opts.provisioner, log: opts.log });
      if (reply) {
        ctx.state.mac = reply.log.mac;
        ctx.state.model = reply.log.model;
        ctx.state.reason = reply.log.reason;
        ctx.status = reply.status;
        ctx.respond = false;
        ctx.state.bytes = writeReply(ctx.res, ctx.method, reply);
        return;
      }
    }
    const decoded = decodeRequestPath(ctx.originalUrl);
    if (!decoded.ok) return empty(ctx, decoded.status);
    // A phone's own uploaded override (<mac>-phone.cfg, <mac>-directory.xml, …) is served back.
    if (await serveUploaded(ctx, opts.uploads, decoded.path)) return;
    const snap = opts.provisioner.current();
    const ua = parseUserAgent(ctx.get('User-Agent') || undefined, snap.vendors);
    const device = ua?.mac ? snap.profiles.devices.get(ua.mac) : undefined;
    ctx.state.mac = ua?.mac;
    ctx.state.model = device?.model.name ?? ua?.model;
    const hit = await serveDiskFile(ctx, snap, opts.rootDir, decoded.path, {
      mac: ua?.mac,
      model: device?.model.name ?? ua?.model,
      vendor: device?.model.vendor ?? ua?.vendor,
      site: device?.site,
    });
    if (hit) return;
    ctx.state.reason = 'no route';
    return empty(ctx, 404);
  });
  return app;
}

/** Every refusal is an empty body: phones never read error pages, attackers learn nothing. */
function empty(ctx: Koa.Context, status: number): void {
  ctx.status = status;
  ctx.body = '';
}
