// The HTTP edge: a Koa app that turns a phone's request into bytes. Everything it decides
// comes from the pure core through the Provisioner; this file only wires and responds.

import Koa from 'koa';
import type { Logger } from 'pino';
import type { Provisioner } from '../service/provisioner.js';
import { formatLoc, type Diagnostic } from '../check/diagnostics.js';
import { redactSecrets } from '../config/secret-refs.js';
import { parseUserAgent } from '../pipeline/user-agent.js';
import { PASSED, logPath, round } from './listener.js';
import { replyRendered, route } from './provision.js';
import { writeReply, type Reply } from './reply.js';
import type { Gate } from './gate.js';
import { subjectOf } from '../config/resolve.js';
import { ZERO_MAC } from '../config/mac.js';
import { allTargets } from '../pipeline/request.js';
import { logAccess } from './access-log.js';
import { serveDiskFile } from './files.js';
import { servedTrees } from '../io/disk-file.js';
import { createUploadHandler, serveUploaded } from './uploads.js';
import type { UploadStore } from '../service/upload-store.js';
import type { Health } from '../service/reloader.js';
import type { Metrics } from '../metrics/index.js';

export interface AppOptions {
  provisioner: Provisioner;
  /** The config root on disk, for firmware/ and resources/. */
  rootDir: string;
  log: Logger;
  gate: Gate;
  /** Where phones' uploads go (PUT) and are served back from. */
  uploads: UploadStore;
  /** Whether the last reload was accepted, and the errors if not (for /healthz). */
  health?: () => Health;
  /** Counts each answered request where its access line is written, and each upload. */
  metrics?: Metrics;
}

interface State {
  mac?: string;
  model?: string;
  reason?: string;
  /** Bytes written by a reply that bypassed Koa's own response. */
  bytes?: number;
  /** Labels of the request metrics: the vendor and what kind of file was asked for. */
  vendor?: string;
  kind?: string;
}

export function createApp(opts: AppOptions): Koa<State> {
  const app = new Koa<State>();
  // Files are checked on the descriptor they are read from; each refused one is logged once.
  const trees = servedTrees(opts.rootDir, (sub, rel) => opts.log.warn({ event: 'outside_root', file: `${sub}/${rel}` }, `refused a file that leads outside ${sub}/ (answered 404)`));
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
      opts.metrics?.recordRequest(ctx.state.vendor, ctx.state.kind, ctx.status, ms);
      logAccess(opts.log, {
        ip: opts.gate.clientIp(ctx.req.socket.remoteAddress, ctx.headers),
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
  // leading "-/" no vendor uses). The details name devices and paths, so only operators
  // (security.operators, loopback by default) get them; everyone else the status alone.
  app.use(async (ctx, next) => {
    if (ctx.path !== '/healthz' && ctx.path !== '/-/status') return next();
    ctx.state.kind = 'operator';
    const h: Health = opts.health?.() ?? { ok: true, errors: [] };
    const operator = opts.gate.isOperator(opts.gate.clientIp(ctx.req.socket.remoteAddress, ctx.headers));
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz') {
      ctx.status = h.ok ? 200 : 503;
      const shown = (list: Diagnostic[]) => list.map((d) => ({ code: d.code, message: redactSecrets(d.message, opts.provisioner.current().secrets), at: d.loc ? formatLoc(d.loc) : undefined, device: d.device, path: d.path }));
      const warnings = h.warnings?.length ? shown(h.warnings) : undefined;
      if (!operator || (h.ok && !warnings)) {
        ctx.type = 'text/plain';
        ctx.body = h.ok ? 'ok\n' : 'unhealthy\n';
      } else if (h.ok) {
        // Serving, and healthy for a load balancer; the body says what to look at.
        ctx.body = { ok: true, warnings, lastReload: h.lastReload };
      } else {
        ctx.body = { ok: false, errors: shown(h.errors), warnings, lastReload: h.lastReload };
      }
      return;
    }
    if (!operator) {
      ctx.body = { healthy: h.ok };
      return;
    }
    const snap = opts.provisioner.current();
    ctx.body = {
      snapshot: snap.id,
      loadedAt: snap.loadedAt.toISOString(),
      devices: snap.profiles.devices.size,
      files: allTargets(snap).length,
      cachedFiles: opts.provisioner.cachedFiles(),
      healthy: h.ok,
      validating: h.validating,
      lastReload: h.lastReload,
    };
  });

  const deps = { provisioner: opts.provisioner, gate: opts.gate, log: opts.log };
  const respond = (ctx: Koa.ParameterizedContext<State>, reply: Reply): void => {
    ctx.state.mac = reply.log.mac;
    ctx.state.model = reply.log.model;
    ctx.state.reason = reply.log.reason;
    ctx.state.vendor = reply.log.vendor ?? ctx.state.vendor;
    ctx.state.kind = reply.log.kind ?? ctx.state.kind;
    ctx.status = reply.status;
    ctx.respond = false;
    ctx.state.bytes = writeReply(ctx.res, ctx.method, reply);
  };
  // Uploads pass the gate like the device's own files (so no credentials get the same 401
  // challenge as a GET), and then must be proven to come from that device: its certificate,
  // URL token or own credentials. Shared credentials write only where deskset.yaml allows it.
  const uploadHandler = createUploadHandler({
    store: opts.uploads,
    log: (rec) => {
      opts.metrics?.recordUpload(Number(rec.status), typeof rec.bytes === 'number' ? rec.bytes : undefined);
      opts.log.info(rec);
    },
    authorize: async (ctx, mac, tokenMac) => {
      const snap = opts.provisioner.current();
      const device = snap.profiles.devices.get(mac);
      const ip = opts.gate.clientIp(ctx.req.socket.remoteAddress, ctx.headers);
      // Refused exactly as a known device without proof is (same count, same work).
      if (!device) return opts.gate.unknownDevice(snap, { ip, headers: ctx.headers }, mac, { mac, reason: 'unknown device' });
      const admitted = await opts.gate.admit(snap, { ip, headers: ctx.headers, socket: ctx.req.socket, subject: subjectOf(device), tokenMac });
      if (!admitted.ok) return admitted.reply;
      if (admitted.proof !== 'shared') return true;
      const may = snap.config.uploads.sharedCredentialsMayWrite;
      if (may === true || (device.site !== undefined && may.has(device.site))) return true;
      opts.log.warn({ event: 'upload_shared_credentials', ip, mac }, 'shared credentials may not write a device file (uploads.shared_credentials_may_write)');
      return false;
    },
  });

  app.use(async (ctx) => {
    const info = { method: ctx.method, url: ctx.originalUrl, headers: ctx.headers, remote: ctx.req.socket.remoteAddress, socket: ctx.req.socket };
    if (ctx.method === 'PUT') {
      ctx.state.kind = 'upload';
      // Cool-down, path decoding and /p/<token>/ exactly as for GET.
      const routed = route(info, opts.gate);
      if ('status' in routed) return respond(ctx, routed);
      return uploadHandler(ctx, { path: routed.path, tokenMac: routed.tokenMac });
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD, PUT');
      return empty(ctx, 405);
    }
    // Rendered files: the same function the fast path uses, written the same way.
    if (!(ctx.req as { [PASSED]?: boolean })[PASSED]) {
      const reply = await replyRendered(info, deps);
      if (reply) return respond(ctx, reply);
    }
    const routed = route(info, opts.gate);
    if ('status' in routed) return respond(ctx, routed);
    const snap = opts.provisioner.current();
    // Who is asking: a MAC at the front of the name (<mac>-directory.xml), a URL token, the User-Agent.
    const named = /^([0-9a-fA-F]{12})-/.exec(routed.path)?.[1]?.toLowerCase();
    const ua = parseUserAgent(ctx.get('User-Agent') || undefined, snap.vendors);
    const mac = named && named !== ZERO_MAC ? named : (routed.tokenMac ?? ua?.mac);
    const device = mac ? snap.profiles.devices.get(mac) : undefined;
    ctx.state.mac = mac;
    ctx.state.model = device?.model.name ?? ua?.model;
    ctx.state.vendor = device?.model.vendor ?? ua?.vendor;
    // A per-device name for an unknown MAC is a guess: refused like a rendered file. Its shared
    // fallback (000000000000-directory.xml) too, once a known MAC's would be refused.
    const subject = device ? subjectOf(device) : undefined;
    if (named && named !== ZERO_MAC && !device && (await opts.uploads.get(routed.path)) === undefined && (opts.gate.guardsUnknown(snap) || !snap.resourceIndex.match(routed.path, {}))) {
      return respond(ctx, await opts.gate.unknownDevice(snap, { ip: routed.ip, headers: ctx.headers }, named, { mac: named, reason: 'unknown device' }));
    }
    const admitted = await opts.gate.admit(snap, { ip: routed.ip, headers: ctx.headers, socket: ctx.req.socket, subject: named ? subject : undefined, tokenMac: routed.tokenMac });
    if (!admitted.ok) return respond(ctx, admitted.reply);
    // A phone's own uploaded override (<mac>-phone.cfg, <mac>-directory.xml, …) is served back.
    if (await serveUploaded(ctx, opts.uploads, routed.path)) {
      ctx.state.kind = 'uploaded';
      return;
    }
    const hit = await serveDiskFile(ctx, snap, trees, routed.path, {
      mac,
      model: device?.model.name ?? ua?.model,
      vendor: device?.model.vendor ?? ua?.vendor,
      site: device?.site,
    });
    if (hit) {
      ctx.state.kind = hit.kind;
      return;
    }
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
