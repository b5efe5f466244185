// The first handler: a file rendered from the profiles. Access control for it is decided here
// because what a refusal looks like depends on what was asked for (a known device, an unknown
// MAC, a shared file).

import type { Logger } from 'pino';
import { formatDiagnostic } from '../check/diagnostics.js';
import type { Gate } from '../security/gate.js';
import type { Provisioner, Served } from '../service/provisioner.js';
import { planResponse } from './conditional.js';
import type { Routed } from './route.js';
import type { Identified } from './identify.js';
import { emptyReply, type Reply } from './reply.js';
import type { IncomingHttpHeaders } from 'node:http';
import { parseBasic } from '../security/basic.js';
import type { UserAgentInfo } from './user-agent.js';
import type { RedeemResult } from '../enroll/service.js';

/** Devices already warned about, per logger (one per server): a misconfigured phone retries forever. */
const warned = new WeakMap<Logger, Set<string>>();

function warnOnce(log: Logger, key: string, fields: Record<string, unknown>, msg: string): void {
  let seen = warned.get(log);
  if (!seen) warned.set(log, (seen = new Set()));
  if (seen.has(key)) return;
  seen.add(key);
  log.warn(fields, msg);
}

export interface RenderedDeps {
  provisioner: Provisioner;
  gate: Gate;
  log: Logger;
}

/** The request bound its phone with a code: ask again, and it is a known device. */
export const BOUND = Symbol('bound');

interface Asked {
  method: string;
  headers: IncomingHttpHeaders;
  socket?: unknown;
}

/**
 * An unknown phone's user typed a code at its credentials prompt: redeem it. A locked pair of
 * client and MAC is not asked; a wrong code is then refused like any other unknown MAC, and so
 * counts toward the lockout and the enumeration limit.
 */
async function redeemed(req: Asked, routed: Routed, resolved: Served, mac: string, ua: UserAgentInfo | undefined, deps: RenderedDeps): Promise<RedeemResult | undefined> {
  const enrollment = deps.gate.enrollment;
  if (!enrollment || !resolved.snapshot.config.enrollment.enabled) return undefined;
  const header = req.headers.authorization;
  const creds = parseBasic(Array.isArray(header) ? header[0] : header);
  if (!creds || deps.gate.guard.deviceLocked(mac, routed.ip)) return undefined;
  return enrollment.redeem(resolved.snapshot, { typed: creds.pass, mac, ua, ip: routed.ip });
}

/**
 * An unknown MAC's refusal. When a wrong code was tried and this refusal's failure locks the
 * MAC for the client, the lock is an enrollment event: an audit record.
 */
async function refuseUnknown(req: Asked, routed: Routed, resolved: Served, mac: string | undefined, tried: RedeemResult | undefined, log: Reply['log'], deps: RenderedDeps): Promise<Reply> {
  const reply = await deps.gate.unknownDevice(resolved.snapshot, { ip: routed.ip, headers: req.headers }, mac, log);
  if (mac && tried && !tried.ok && tried.reason !== 'not a code' && deps.gate.guard.deviceLocked(mac, routed.ip)) void deps.gate.enrollment?.locked(mac, routed.ip, tried.codeId);
  return reply;
}

/** Resolve a rendered file against the snapshot `who` was identified in; `undefined` when no route names the path. */
export function resolveRendered(deps: RenderedDeps, routed: Routed, who: Identified, userAgent: string | undefined): Served {
  return deps.provisioner.resolve({ path: routed.path, userAgent, ua: who.ua, candidates: who.candidates, ip: routed.ip });
}

export async function replyRendered(req: Asked, routed: Routed, resolved: Served, deps: RenderedDeps): Promise<Reply | undefined | typeof BOUND> {
  const r = resolved.resolution;
  // vendor and scope label the request metrics (never a MAC or a path).
  const log: Reply['log'] = { mac: r.mac, model: r.model, ip: routed.ip, kind: 'rendered', vendor: r.kind === 'render' ? r.target.file.vendor : r.ua?.vendor, scope: r.kind === 'render' ? r.target.file.scope : undefined };
  if (r.kind === 'not-found') {
    if (r.reason === 'no route') return undefined;
    if (r.reason === 'model mismatch' && r.mac) warnOnce(deps.log, r.mac, { event: 'des_model_mismatch', mac: r.mac, model: r.model, pathModel: r.pathModel, path: `/${routed.path}` }, `a DES path names ${r.pathModel} for ${r.mac}, a ${r.model}: refused (logged once per device)`);
    const tried = r.reason === 'unknown device' && r.mac ? await redeemed(req, routed, resolved, r.mac, r.ua, deps) : undefined;
    if (tried?.ok) return BOUND;
    // A wrong model is refused as an unknown MAC is: another answer would confirm the MAC exists.
    if (r.reason === 'unknown device' || r.reason === 'model mismatch') return refuseUnknown(req, routed, resolved, r.mac, tried, { ...log, kind: 'refused', reason: r.reason }, deps);
    deps.gate.miss(routed.ip, r.mac);
    return emptyReply(404, { ...log, kind: 'refused', reason: r.reason });
  }
  // The shared fallback for a MAC we do not know would tell it from a known one, which is challenged.
  if (r.unknownMac !== undefined && deps.gate.guardsUnknown(resolved.snapshot)) {
    const tried = await redeemed(req, routed, resolved, r.unknownMac, r.ua, deps);
    if (tried?.ok) return BOUND;
    return refuseUnknown(req, routed, resolved, r.unknownMac, tried, { ...log, kind: 'refused', mac: r.unknownMac, reason: 'unknown device' }, deps);
  }
  const admitted = await deps.gate.admit(resolved.snapshot, { ip: routed.ip, headers: req.headers, socket: req.socket, subject: r.target.subject, tokenMac: routed.tokenMac });
  if (!admitted.ok) {
    const refused = admitted.reply.log;
    refused.vendor ??= log.vendor;
    refused.scope ??= log.scope;
    refused.kind ??= 'refused';
    return admitted.reply;
  }
  const served = deps.provisioner.render(resolved);
  if (!served.rendered) {
    deps.log.error({ event: 'render_failed', path: `/${routed.path}`, problems: (served.diagnostics ?? []).map(formatDiagnostic) }, 'render failed');
    return emptyReply(500, { ...log, reason: 'render failed' });
  }
  const rendered = served.rendered;
  const plan = planResponse(req, { size: rendered.size, etag: rendered.etag, contentType: rendered.contentType });
  // Ranges are byte offsets, so they cut the bytes; a whole file goes out as its text.
  const body = plan.body.kind === 'full' ? rendered.text : plan.body.kind === 'range' ? rendered.bytes.subarray(plan.body.start, plan.body.end + 1) : undefined;
  // Per-device files carry credentials: no shared cache may keep them. The plan's headers are
  // its own fresh object, so the header is added in place (a spread copy is V8's slow path).
  plan.headers['Cache-Control'] = r.target.subject?.known ? 'private, no-cache' : 'no-cache';
  return { status: plan.status, headers: plan.headers, body, log };
}
