// The operator endpoints on the phones' port: /healthz for load balancers and /-/status. Their
// names cannot collide with phone files (no extension, a leading "-/" no vendor uses). The
// details name devices and paths, so only operators (security.operators, loopback by default)
// get them; everyone else the status alone.

import type { IncomingHttpHeaders } from 'node:http';
import { formatLoc, type Diagnostic } from '../check/diagnostics.js';
import { redactSecrets } from '../config/secret-refs.js';
import { allTargets } from '../pipeline/request.js';
import type { Reply } from '../pipeline/reply.js';
import type { Gate } from '../security/gate.js';
import type { Provisioner } from '../service/provisioner.js';
import type { Health } from '../service/reloader.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export interface OperatorDeps {
  provisioner: Provisioner;
  gate: Gate;
  health?: () => Health;
}

export function isOperatorPath(path: string): boolean {
  return path === '/healthz' || path === '/-/status';
}

export function replyOperator(path: string, req: { remote?: string; headers: IncomingHttpHeaders }, deps: OperatorDeps): Reply {
  const h: Health = deps.health?.() ?? { ok: true, errors: [] };
  const ip = deps.gate.clientIp(req.remote, req.headers);
  const operator = deps.gate.isOperator(ip);
  if (path === '/healthz') {
    const status = h.ok ? 200 : 503;
    const shown = (list: Diagnostic[]) => list.map((d) => ({ code: d.code, message: redactSecrets(d.message, deps.provisioner.current().secrets), at: d.loc ? formatLoc(d.loc) : undefined, device: d.device, path: d.path }));
    const warnings = h.warnings?.length ? shown(h.warnings) : undefined;
    if (!operator || (h.ok && !warnings)) return text(status, h.ok ? 'ok\n' : 'unhealthy\n', ip);
    // Serving, and healthy for a load balancer; the body says what to look at.
    if (h.ok) return json(status, { ok: true, warnings, lastReload: h.lastReload }, ip);
    return json(status, { ok: false, errors: shown(h.errors), warnings, lastReload: h.lastReload }, ip);
  }
  if (!operator) return json(200, { healthy: h.ok }, ip);
  const snap = deps.provisioner.current();
  return json(
    200,
    {
      snapshot: snap.id,
      loadedAt: snap.loadedAt.toISOString(),
      devices: snap.profiles.devices.size,
      files: fileCount(snap),
      cachedFiles: deps.provisioner.cachedFiles(),
      healthy: h.ok,
      validating: h.validating,
      reloadChecks: h.reloadChecks,
      lastReload: h.lastReload,
    },
    ip,
  );
}

/**
 * How many files a snapshot serves, counted once per snapshot: naming every file of 10,000
 * devices took the serving thread 20–40 ms, and a monitor polls this endpoint.
 */
const fileCounts = new WeakMap<Snapshot, number>();
function fileCount(snap: Snapshot): number {
  let n = fileCounts.get(snap);
  if (n === undefined) fileCounts.set(snap, (n = allTargets(snap).length));
  return n;
}

function text(status: number, body: string, ip: string): Reply {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body, log: { ip, kind: 'operator' } };
}

function json(status: number, value: unknown, ip: string): Reply {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }, body: JSON.stringify(value), log: { ip, kind: 'operator' } };
}
