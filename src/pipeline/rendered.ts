// The first handler: a file rendered from the profiles. Access control for it is decided here
// because what a refusal looks like depends on what was asked for (a known device, an unknown
// MAC, a shared file).

import type { Logger } from 'pino';
import { formatDiagnostic } from '../check/diagnostics.js';
import type { Gate } from '../security/gate.js';
import type { Provisioner, Served } from '../service/provisioner.js';
import { planResponse } from './conditional.js';
import type { Routed } from './handle.js';
import type { Identified } from './identify.js';
import { emptyReply, type Reply } from './reply.js';
import type { IncomingHttpHeaders } from 'node:http';

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

interface Asked {
  method: string;
  headers: IncomingHttpHeaders;
  socket?: unknown;
}

/** Resolve a rendered file against the snapshot `who` was identified in; `undefined` when no route names the path. */
export function resolveRendered(deps: RenderedDeps, routed: Routed, who: Identified, userAgent: string | undefined): Served {
  return deps.provisioner.resolve({ path: routed.path, userAgent, ua: who.ua, candidates: who.candidates });
}

export async function replyRendered(req: Asked, routed: Routed, resolved: Served, deps: RenderedDeps): Promise<Reply | undefined> {
  const r = resolved.resolution;
  const log: Reply['log'] = { mac: r.mac, model: r.model, ip: routed.ip, kind: 'rendered' };
  if (r.kind === 'not-found') {
    if (r.reason === 'no route') return undefined;
    if (r.reason === 'model mismatch' && r.mac) warnOnce(deps.log, r.mac, { event: 'des_model_mismatch', mac: r.mac, model: r.model, pathModel: r.pathModel, path: `/${routed.path}` }, `a DES path names ${r.pathModel} for ${r.mac}, a ${r.model}: refused (logged once per device)`);
    // A wrong model is refused as an unknown MAC is: another answer would confirm the MAC exists.
    if (r.reason === 'unknown device' || r.reason === 'model mismatch') return deps.gate.unknownDevice(resolved.snapshot, { ip: routed.ip, headers: req.headers }, r.mac, { ...log, kind: 'refused', reason: r.reason });
    deps.gate.miss(routed.ip, r.mac);
    return emptyReply(404, { ...log, kind: 'refused', reason: r.reason });
  }
  // The shared fallback for a MAC we do not know would tell it from a known one, which is challenged.
  if (r.unknownMac !== undefined && deps.gate.guardsUnknown(resolved.snapshot)) {
    return deps.gate.unknownDevice(resolved.snapshot, { ip: routed.ip, headers: req.headers }, r.unknownMac, { ...log, kind: 'refused', mac: r.unknownMac, reason: 'unknown device' });
  }
  const admitted = await deps.gate.admit(resolved.snapshot, { ip: routed.ip, headers: req.headers, socket: req.socket, subject: r.target.subject, tokenMac: routed.tokenMac });
  if (!admitted.ok) return admitted.reply;
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
