// Which file, for which device, does a request ask for? Pure: a snapshot, a path and the
// request's identifying headers in; a render target or a reason for 404 out.

import { ouiOf } from '../config/mac.js';
import type { RenderTarget } from '../render/render.js';
import { subjectOf, type Subject } from '../config/resolve.js';
import { canonicalPath, type RouteMatch } from '../snapshot/routes.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { parseUserAgent, type UserAgentInfo } from './user-agent.js';

export interface RequestIdentity {
  /** Request path, percent-decoded, without the leading slash. */
  path: string;
  userAgent?: string;
}

export type Resolution =
  | {
      kind: 'render';
      target: RenderTarget;
      cacheKey: string;
      mac?: string;
      model?: string;
      ua?: UserAgentInfo;
      /** A MAC the request named (path or User-Agent) that has no device: the shared fallback is served for it. */
      unknownMac?: string;
    }
  | { kind: 'not-found'; reason: string; mac?: string; model?: string; ua?: UserAgentInfo; pathModel?: string };

export function resolveRequest(snap: Snapshot, req: RequestIdentity): Resolution {
  const candidates = snap.routes.match(req.path);
  const ua = parseUserAgent(req.userAgent, snap.vendors);
  if (candidates.length === 0) return { kind: 'not-found', reason: 'no route', ua, mac: ua?.mac, model: ua?.model };

  // Shared and model files need no device.
  for (const c of candidates) {
    if (c.file.scope === 'shared') return done(c, undefined, req.path, ua);
    if (c.file.scope === 'model' && c.model) return done(c, { known: false, vendor: c.file.vendor, model: c.model, groups: [] }, req.path, ua);
  }

  // Device files: the MAC comes from the path, else from the User-Agent (46xxsettings.txt).
  const mac = candidates.find((c) => c.mac)?.mac ?? ua?.mac;
  const device = mac ? snap.profiles.devices.get(mac) : undefined;
  // A known MAC asked for under another vendor's name is answered as an unknown MAC would be:
  // a different answer would tell a scanner the MAC exists.
  const c = device && candidates.find((x) => x.file.vendor === device.model.vendor);
  if (device && c) {
    // A DES path names the model too (`…/J189/<mac>/…`): a model that is not the device's is a
    // wrong or forged URL, refused like any other miss rather than answered as if it were right.
    if (c.pathModel !== undefined && !namesModel(snap, c.pathModel, device.model.name)) {
      return { kind: 'not-found', reason: 'model mismatch', mac, model: device.model.name, ua, pathModel: c.pathModel };
    }
    // A device's own name was worked out when the route table was built.
    const path = c.mac === mac && c.path !== undefined ? c.path : canonicalPath(c.file, mac, device.model);
    return done(c, subjectOf(device), path ?? req.path, ua);
  }
  // Files every phone of a vendor may have (the Avaya upgrade script): unidentified and
  // unknown phones get the shared rendering, which carries no credentials.
  const shared = candidates.find((c) => c.file.fallback === 'shared');
  if (shared) {
    const modelName = (ua?.vendor === shared.file.vendor ? ua.model : undefined) ?? shared.pathModel;
    const found = modelName ? snap.catalog.find(modelName) : undefined;
    const model = found?.vendor === shared.file.vendor ? found : undefined;
    const r = done({ ...shared, model }, undefined, canonicalPath(shared.file) ?? req.path, ua);
    return mac && r.kind === 'render' ? { ...r, unknownMac: mac } : r;
  }
  if (!mac) return { kind: 'not-found', reason: 'device not identified', ua, model: ua?.model };

  // Unknown MAC: the OUI, then the User-Agent, say which vendor is asking.
  if (snap.config.unknownDevices === 'reject') return { kind: 'not-found', reason: 'unknown device', mac, ua, model: ua?.model };
  const vendor = snap.catalog.vendorForOui(ouiOf(mac))?.vendor ?? ua?.vendor;
  const u = candidates.find((x) => x.file.vendor === vendor) ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!u) return { kind: 'not-found', reason: 'unknown device, vendor undecided', mac, ua };
  const modelName = (ua?.vendor === u.file.vendor ? ua.model : undefined) ?? u.pathModel;
  const model = modelName ? snap.catalog.find(modelName) : undefined;
  const subject: Subject = { mac, known: false, vendor: u.file.vendor, model: model?.vendor === u.file.vendor ? model : undefined, groups: [] };
  return done(u, subject, canonicalPath(u.file, mac) ?? req.path, ua);
}

/** Does a model segment of a path (`J179`, the model4 form, any case) name this model? */
function namesModel(snap: Snapshot, segment: string, model: string): boolean {
  return snap.catalog.find(segment)?.name === model;
}

function done(c: RouteMatch, subject: Subject | undefined, path: string, ua: UserAgentInfo | undefined): Resolution {
  const target: RenderTarget = { file: c.file, subject, model: c.model, path: subject ? path : canonicalPath(c.file, undefined, c.model) ?? path };
  const cacheKey = `${c.file.vendor}/${c.file.id}|${subject?.mac ?? ''}|${subject?.known ? 'k' : 'u'}|${subject?.model?.name ?? c.model?.name ?? ''}`;
  return { kind: 'render', target, cacheKey, mac: subject?.mac ?? ua?.mac, model: subject?.model?.name ?? c.model?.name ?? ua?.model, ua };
}

/** Every file `render` and `check` produce: shared files, model files in use, every device's files. */
export function allTargets(snap: Snapshot): RenderTarget[] {
  const out = sharedTargets(snap);
  // A loop, not push(...): 100,000 devices would overflow the call stack.
  for (const t of deviceTargets(snap, [...snap.profiles.devices.keys()].sort())) out.push(t);
  return out;
}

/** The shared files, and the model files of models in use. */
export function sharedTargets(snap: Snapshot): RenderTarget[] {
  const out: RenderTarget[] = [];
  const usedModels = new Set<string>([...snap.profiles.devices.values()].map((d) => d.model.name));
  for (const m of snap.profiles.models.keys()) usedModels.add(m);
  for (const v of snap.vendors) {
    for (const f of v.files) {
      if (f.scope === 'shared' || (f.scope === 'device' && f.fallback === 'shared')) {
        const path = canonicalPath(f);
        if (path) out.push({ file: f, path });
      } else if (f.scope === 'model') {
        for (const m of v.models) {
          if (!usedModels.has(m.name)) continue;
          const path = canonicalPath(f, undefined, m);
          if (path) out.push({ file: f, model: m, path, subject: { known: false, vendor: v.vendor, model: m, groups: [] } });
        }
      }
    }
  }
  return out;
}

/** The files of these devices (known MACs), in the order given. */
export function deviceTargets(snap: Snapshot, macs: Iterable<string>): RenderTarget[] {
  const out: RenderTarget[] = [];
  for (const mac of macs) {
    const d = snap.profiles.devices.get(mac);
    if (!d) continue;
    const v = snap.catalog.vendor(d.model.vendor);
    for (const f of v?.files ?? []) {
      if (f.scope !== 'device') continue;
      const path = canonicalPath(f, d.mac, d.model);
      if (path) out.push({ file: f, subject: subjectOf(d), path });
    }
  }
  return out;
}
