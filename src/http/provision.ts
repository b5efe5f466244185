// Answer a request for a rendered file, framework-free: path in, Reply out. The raw node:http
// fast path and the Koa app both call this, so identification, caching, conditional
// requests and logging fields are one code path. `undefined` means "not a rendered file":
// the caller goes on to firmware, resources and uploads.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { formatDiagnostic } from '../core/diagnostics.js';
import type { Provisioner } from '../service/provisioner.js';
import { planResponse } from './conditional.js';
import { emptyReply, type Reply } from './reply.js';
import { decodeRequestPath } from './request-path.js';

export interface RequestInfo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface ProvisionDeps {
  provisioner: Provisioner;
  log: Logger;
}

export function replyRendered(req: RequestInfo, deps: ProvisionDeps): Reply | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const decoded = decodeRequestPath(req.url);
  if (!decoded.ok) return emptyReply(decoded.status, { reason: 'bad path' });
  const ua = req.headers['user-agent'];
  const served = deps.provisioner.serve({ path: decoded.path, userAgent: typeof ua === 'string' ? ua : undefined });
  const r = served.resolution;
  const log = { mac: r.mac, model: r.model };
  if (r.kind === 'not-found') return r.reason === 'no route' ? undefined : emptyReply(404, { ...log, reason: r.reason });
  if (!served.rendered) {
    deps.log.error({ event: 'render_failed', path: `/${decoded.path}`, problems: (served.diagnostics ?? []).map(formatDiagnostic) }, 'render failed');
    return emptyReply(500, { ...log, reason: 'render failed' });
  }
  const rendered = served.rendered;
  const plan = planResponse({ method: req.method, headers: req.headers }, { size: rendered.bytes.length, etag: rendered.etag, contentType: rendered.contentType });
  const body = plan.body.kind === 'full' ? rendered.bytes : plan.body.kind === 'range' ? rendered.bytes.subarray(plan.body.start, plan.body.end + 1) : undefined;
  return { status: plan.status, headers: plan.headers, body, log };
}
