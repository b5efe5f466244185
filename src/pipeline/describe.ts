// What the pipeline makes of a request, without answering it: `deskset identify` prints this.
// It runs the server's own steps (path decoding, identify, the resolver, the file handlers'
// lookups) and leaves out only what has effects: the gate's counters and reading any bytes.

import { normalizeIp } from '../config/ip-allow.js';
import { ouiOf } from '../config/mac.js';
import { diskFileFor, type ServedTrees } from '../io/disk-file.js';
import { parseTokenPath } from '../security/tokens.js';
import type { UploadBackend } from '../service/upload-backend.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { identify } from './identify.js';
import { decodeRequestPath } from './request-path.js';
import { resolveRequest } from './request.js';

export interface RequestReport {
  path: string;
  ip: string;
  userAgent?: { recognised: boolean; vendor?: string; model?: string; family?: string; firmware?: string; mac?: string };
  mac?: string;
  macFrom?: 'path' | 'token' | 'user-agent';
  vendor?: string;
  /** Where the vendor was read: the device profile, the User-Agent, or only the MAC's OUI. */
  vendorFrom?: 'device' | 'user-agent' | 'oui';
  model?: string;
  /** The vendor file the path names, when one does. */
  route?: { vendor: string; file: string; scope: string; servedAs?: string };
  device?: { mac: string; file: string; model: string; vendor: string; site?: string; groups: string[] };
  /** Why no device profile applies, when none does. */
  noDevice?: string;
  site?: string;
  handler: 'rendered' | 'uploaded' | 'firmware' | 'resource' | 'refused' | 'none';
  /** For `refused` and `none`: the reason the server would log. */
  reason?: string;
  /** The file on disk that would answer (firmware, resource, upload). */
  file?: string;
}

export interface Describable {
  /** The request target as a phone sends it, e.g. `/000000000000.cfg` or `/J179/c81fea83e85a/46xxsettings.txt`. */
  url: string;
  userAgent?: string;
  /** The peer address (default 127.0.0.1); X-Forwarded-For is not considered. */
  ip?: string;
}

export async function describeRequest(snap: Snapshot, uploads: UploadBackend | undefined, trees: ServedTrees, req: Describable): Promise<RequestReport> {
  const ip = normalizeIp(req.ip ?? '127.0.0.1') ?? req.ip ?? '127.0.0.1';
  const decoded = decodeRequestPath(req.url.startsWith('/') ? req.url : `/${req.url}`);
  if (!decoded.ok) return { path: req.url, ip, handler: 'refused', reason: `bad path (${decoded.status})` };
  const tokenPath = parseTokenPath(decoded.path);
  const path = tokenPath ? tokenPath.rest : decoded.path;
  const who = identify(snap, { path, userAgent: req.userAgent });
  const ua = who.ua;
  const report: RequestReport = {
    path,
    ip,
    userAgent: req.userAgent ? { recognised: ua !== undefined, vendor: ua?.vendor, model: ua?.model, family: ua?.family, firmware: ua?.firmware, mac: ua?.mac } : undefined,
    mac: who.mac,
    macFrom: who.macFrom,
    vendor: who.vendor,
    vendorFrom: who.device ? 'device' : who.ua ? 'user-agent' : undefined,
    model: who.model,
    handler: 'none',
  };
  // An unknown MAC's vendor is what its OUI says (the resolver picks the vendor's file by it).
  const ouiVendor = !who.vendor && who.mac ? snap.catalog.vendorForOui(ouiOf(who.mac))?.vendor : undefined;
  if (ouiVendor) [report.vendor, report.vendorFrom] = [ouiVendor, 'oui'];
  if (tokenPath) report.reason = 'came through a URL token: the token is not checked here';
  if (who.device) {
    const d = who.device;
    report.device = { mac: d.mac, file: d.profile.ref.file, model: d.model.name, vendor: d.model.vendor, site: d.site, groups: d.groups };
    report.site = d.site;
  } else {
    report.noDevice = who.mac ? `no profile for ${who.mac} (profiles/devices/${who.mac}.yaml)` : 'the request names no MAC (path, URL token or User-Agent)';
  }

  const r = resolveRequest(snap, { path, userAgent: req.userAgent, ua, candidates: who.candidates });
  if (r.kind === 'render') {
    report.route = { vendor: r.target.file.vendor, file: r.target.file.id, scope: r.target.file.scope, servedAs: r.target.path };
    report.handler = 'rendered';
    if (r.unknownMac) report.reason = `unknown MAC ${r.unknownMac}: the shared rendering, or the no-oracle refusal when unknown devices are guarded`;
    return report;
  }
  if (r.reason !== 'no route') {
    const c = who.candidates[0];
    if (c) report.route = { vendor: c.file.vendor, file: c.file.id, scope: c.file.scope };
    return { ...report, handler: 'refused', reason: r.reason };
  }
  if (uploads?.classify(path) && (await uploads.get(path))) return { ...report, handler: 'uploaded', file: path };
  const hit = await diskFileFor(snap, trees, path, { mac: who.mac, model: who.model, vendor: who.vendor, site: who.device?.site });
  if (hit) return { ...report, handler: hit.kind, file: hit.kind === 'firmware' ? hit.file : `resources/${hit.file}` };
  return { ...report, handler: 'none', reason: 'no route: no rendered file, upload, firmware image or resource has this name' };
}
