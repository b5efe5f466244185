// Answer a request for a rendered file, framework-free: request in, Reply out. The raw
// node:http fast path and the Koa app both call this, so identification, access control,
// caching, conditional requests and log fields are one code path. `undefined` means "not a
// rendered file": the caller goes on to firmware, resources and uploads.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { formatDiagnostic } from '../check/diagnostics.js';
import type { Provisioner } from '../service/provisioner.js';
import { parseTokenPath } from '../security/tokens.js';
import { planResponse } from './conditional.js';
import type { Gate } from './gate.js';
import { emptyReply, type Reply } from './reply.js';
import { decodeRequestPath } from './request-path.js';

export interface RequestInfo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The direct peer's address. */
  remote?: string;
  /** The connection (a TLSSocket on HTTPS), for the client certificate. */
  socket?: unknown;
}

export interface ProvisionDeps {
  provisioner: Provisioner;
  gate: Gate;
  log: Logger;
}

/** Where a request is headed once any /p/<token>/ prefix is taken off. */
export interface Routed {
  path: string;
  ip: string;
  tokenMac?: string;
}

/**
 * Decode the path, find the client address, apply the cool-down, and unwrap a URL token.
 * A Reply means the request is already answered (400, 404 for an unknown token, 429).
 */
export function route(req: RequestInfo, gate: Gate): Routed | Reply {
  const ip = gate.clientIp(req.remote, req.headers);
  const cooling = gate.coolingDown(ip);
  if (cooling) return cooling;
  const decoded = decodeRequestPath(req.url);
  if (!decoded.ok) return emptyReply(decoded.status, { reason: 'bad path' });
  const tokenPath = parseTokenPath(decoded.path);
  if (!tokenPath) return { path: decoded.path, ip };
  const mac = gate.tokens?.lookup(tokenPath.token);
  if (!mac) {
    // A wrong token is a guess like a wrong MAC.
    gate.miss(ip, `token:${tokenPath.token.slice(0, 8)}`);
    return emptyReply(404, { reason: 'unknown token' });
  }
  return { path: tokenPath.rest, ip, tokenMac: mac };
}

/** Devices already warned about, per logger (one per server): a misconfigured phone retries forever. */
const warned = new WeakMap<Logger, Set<string>>();

function warnOnce(log: Logger, key: string, fields: Record<string, unknown>, msg: string): void {
  let seen = warned.get(log);
  if (!seen) warned.set(log, (seen = new Set()));
  if (seen.has(key)) return;
  seen.add(key);
  log.warn(fields, msg);
}

export async function replyRendered(req: RequestInfo, deps: ProvisionDeps): Promise<Reply | undefined> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const routed = route(req, deps.gate);
  if ('status' in routed) return routed;
  const ua = req.headers['user-agent'];
  const resolved = deps.provisioner.resolve({ path: routed.path, userAgent: typeof ua === 'string' ? ua : undefined });
  const r = resolved.resolution;
  const log = { mac: r.mac, model: r.model, ip: routed.ip, vendor: r.kind === 'render' ? r.target.file.vendor : r.ua?.vendor, kind: r.kind === 'render' ? r.target.file.scope : undefined };
  if (r.kind === 'not-found') {
    if (r.reason === 'no route') return undefined;
    if (r.reason === 'model mismatch' && r.mac) warnOnce(deps.log, r.mac, { event: 'des_model_mismatch', mac: r.mac, model: r.model, pathModel: r.pathModel, path: `/${routed.path}` }, `a DES path names ${r.pathModel} for ${r.mac}, a ${r.model}: refused (logged once per device)`);
    // A wrong model is refused as an unknown MAC is: another answer would confirm the MAC exists.
    if (r.reason === 'unknown device' || r.reason === 'model mismatch') return deps.gate.unknownDevice(resolved.snapshot, { ip: routed.ip, headers: req.headers }, r.mac, { ...log, reason: r.reason });
    deps.gate.miss(routed.ip, r.mac);
    return emptyReply(404, { ...log, reason: r.reason });
  }
  // The shared fallback for a MAC we do not know would tell it from a known one, which is challenged.
  if (r.unknownMac !== undefined && deps.gate.guardsUnknown(resolved.snapshot)) {
    return deps.gate.unknownDevice(resolved.snapshot, { ip: routed.ip, headers: req.headers }, r.unknownMac, { ...log, mac: r.unknownMac, reason: 'unknown device' });
  }
  const admitted = await deps.gate.admit(resolved.snapshot, { ip: routed.ip, headers: req.headers, socket: req.socket, subject: r.target.subject, tokenMac: routed.tokenMac });
  if (!admitted.ok) {
    // The gate's reply is fresh for this request; the metrics want to know which file it refused.
    admitted.reply.log.vendor ??= log.vendor;
    admitted.reply.log.kind ??= log.kind;
    return admitted.reply;
  }
  const served = deps.provisioner.render(resolved);
  if (!served.rendered) {
    deps.log.error({ event: 'render_failed', path: `/${routed.path}`, problems: (served.diagnostics ?? []).map(formatDiagnostic) }, 'render failed');
    return emptyReply(500, { ...log, reason: 'render failed' });
  }
  const rendered = served.rendered;
  const plan = planResponse({ method: req.method, headers: req.headers }, { size: rendered.size, etag: rendered.etag, contentType: rendered.contentType });
  // Ranges are byte offsets, so they cut the bytes; a whole file goes out as its text.
  const body = plan.body.kind === 'full' ? rendered.text : plan.body.kind === 'range' ? rendered.bytes.subarray(plan.body.start, plan.body.end + 1) : undefined;
  // Per-device files carry credentials: no shared cache may keep them. The plan's headers are
  // its own fresh object, so the header is added in place (a spread copy is V8's slow path).
  plan.headers['Cache-Control'] = r.target.subject?.known ? 'private, no-cache' : 'no-cache';
  return { status: plan.status, headers: plan.headers, body, log };
}
