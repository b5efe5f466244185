// One request pipeline for every transport: a phone's request in, a Reply out. It finds the
// client address and applies the cool-down once, identifies the phone once (identify.ts), and
// asks an ordered list of handlers: rendered file, uploaded override, firmware or resource,
// upload. Access control is the gate's, asked by each handler with what it knows. HTTP and
// TFTP are thin adapters around it, and `deskset identify` prints what it makes of a request.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { subjectOf } from '../config/resolve.js';
import { diskFileFor, type ServedTrees } from '../io/disk-file.js';
import { extensionOf } from '../render/resources.js';
import { etagOf } from '../render/render.js';
import type { Gate } from '../security/gate.js';
import type { Provisioner, Served } from '../service/provisioner.js';
import type { UploadBackend } from '../service/upload-backend.js';
import type { Metrics } from '../metrics/index.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { bytesReply, fileReply } from './file-reply.js';
import { identify, type Identified } from './identify.js';
import { BOUND, replyRendered, resolveRendered } from './rendered.js';
import { emptyReply, type Reply } from './reply.js';
import { replyUpload, replyUploaded, type UploadBody } from './upload.js';
import { route, type Routed } from './route.js';

export { route, type Routed };

/** A phone's request, as every transport describes it. */
export interface PhoneRequest {
  transport: 'http' | 'https' | 'tftp';
  method: string;
  /** The request target as sent: path and query, percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The direct peer's address. */
  remote?: string;
  /** The connection (a TLSSocket on HTTPS), for the client certificate. */
  socket?: unknown;
  /** A PUT's body and raw header pairs. */
  body?: UploadBody;
  rawHeaders?: readonly string[];
}

export interface PipelineDeps {
  provisioner: Provisioner;
  gate: Gate;
  log: Logger;
  uploads: UploadBackend;
  trees: ServedTrees;
  /** Counts uploads (bytes, refusals); requests are counted where they are logged (access.ts). */
  metrics?: Metrics;
}

/** What would answer a GET, decided without access control or I/O: `deskset identify` prints it. */
export type Choice =
  | { handler: 'rendered'; served: Served }
  | { handler: 'refused'; served: Served; reason: string }
  | { handler: 'files'; reason?: undefined };

/** The first handler that claims a GET: a rendered file (or its refusal), else the files on disk. */
export function choose(deps: Pick<PipelineDeps, 'provisioner' | 'gate' | 'log'>, routed: Routed, who: Identified, userAgent: string | undefined): Choice {
  const served = resolveRendered(deps, routed, who, userAgent);
  const r = served.resolution;
  if (r.kind === 'render') return { handler: 'rendered', served };
  if (r.reason !== 'no route') return { handler: 'refused', served, reason: r.reason };
  return { handler: 'files' };
}

export function createPipeline(deps: PipelineDeps): (req: PhoneRequest) => Promise<Reply> {
  const authorizeUpload = async (req: PhoneRequest, ip: string, mac: string, tokenMac: string | undefined): Promise<boolean | Reply> => {
    const snap = deps.provisioner.current();
    const device = snap.profiles.devices.get(mac);
    // Refused exactly as a known device without proof is (same count, same work).
    if (!device) return deps.gate.unknownDevice(snap, { ip, headers: req.headers }, mac, { mac, reason: 'unknown device' });
    const admitted = await deps.gate.admit(snap, { ip, headers: req.headers, socket: req.socket, subject: subjectOf(device), tokenMac });
    if (!admitted.ok) return admitted.reply;
    if (admitted.proof !== 'shared') return true;
    const may = snap.config.uploads.sharedCredentialsMayWrite;
    if (may === true || (device.site !== undefined && may.has(device.site))) return true;
    deps.log.warn({ event: 'upload_shared_credentials', ip, mac }, 'shared credentials may not write a device file (uploads.shared_credentials_may_write)');
    return false;
  };

  return async function handle(req: PhoneRequest, again = false): Promise<Reply> {
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'PUT') return emptyReply(405, { reason: 'method not allowed' }, { Allow: 'GET, HEAD, PUT' });
    const routed = route(req, deps.gate);
    if ('status' in routed) return routed;
    if (req.method === 'PUT') {
      // Uploads pass the gate like the device's own files (no credentials get the same 401
      // challenge as a GET), and then must be proven to come from that device.
      if (!req.body || !req.rawHeaders) return emptyReply(405, { reason: 'method not allowed', ip: routed.ip }, { Allow: 'GET, HEAD' });
      return replyUpload({ method: req.method, ip: routed.ip, rawHeaders: req.rawHeaders, body: req.body }, routed, {
        store: deps.uploads,
        log: (rec) => {
          deps.metrics?.recordUpload(Number(rec.status), typeof rec.bytes === 'number' ? rec.bytes : undefined);
          deps.log.info(rec);
        },
        authorize: (mac, tokenMac) => authorizeUpload(req, routed.ip, mac, tokenMac),
      });
    }

    const snap = deps.provisioner.current();
    const userAgent = typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined;
    const who = identify(snap, { path: routed.path, userAgent, tokenMac: routed.tokenMac });
    const choice = choose(deps, routed, who, userAgent);
    if (choice.handler !== 'files') {
      const reply = await replyRendered(req, routed, choice.served, deps);
      // The phone just bound itself with a code: answer from the snapshot that knows it.
      if (reply === BOUND) return again ? emptyReply(500, { reason: 'binding not visible', ip: routed.ip }) : handle(req, true);
      if (reply) return reply;
    }
    return replyFiles(req, routed, who, snap);
  };

  /** Uploaded overrides, firmware and resources: files on disk, for whoever `who` is. */
  async function replyFiles(req: PhoneRequest, routed: Routed, who: Identified, snap: Snapshot): Promise<Reply> {
    const log: Reply['log'] = { mac: who.mac, model: who.model, ip: routed.ip };
    const named = who.namedMac;
    // A per-device name for an unknown MAC is a guess: refused like a rendered file. Its shared
    // fallback (000000000000-directory.xml) too, once a known MAC's would be refused.
    if (named && !who.device && (await deps.uploads.get(routed.path)) === undefined && (deps.gate.guardsUnknown(snap) || !snap.resourceIndex.match(routed.path, {}))) {
      return deps.gate.unknownDevice(snap, { ip: routed.ip, headers: req.headers }, named, { mac: named, ip: routed.ip, kind: 'refused', reason: 'unknown device' });
    }
    const subject = who.device ? subjectOf(who.device) : undefined;
    const admitted = await deps.gate.admit(snap, { ip: routed.ip, headers: req.headers, socket: req.socket, subject: named ? subject : undefined, tokenMac: routed.tokenMac });
    if (!admitted.ok) return admitted.reply;
    const uploaded = await replyUploaded(req, deps.uploads, routed.path);
    if (uploaded) return withLog(uploaded, { ...log, mac: uploaded.log.mac ?? log.mac });
    const hit = await diskFileFor(snap, deps.trees, routed.path, { mac: who.mac, model: who.model, vendor: who.vendor, site: who.device?.site });
    if (hit) {
      const contentType = contentTypeFor(hit.file);
      const reply = hit.body
        ? bytesReply(req, hit.body, { etag: etagOf(hit.body), contentType, lastModified: hit.mtime })
        : await fileReply(req, hit.abs, { contentType, maxBytes: snap.config.maxFileBytes, confine: hit.confine });
      if (reply) {
        if (reply.status === 500) deps.log.error({ err: reply.log.reason, path: `/${routed.path}` }, 'request failed');
        return withLog(reply, { ...log, kind: hit.kind, reason: reply.status === 500 ? 'internal error' : undefined });
      }
    }
    return emptyReply(404, { ...log, kind: 'none', reason: 'no route' });
  }
}

function withLog(reply: Reply, log: Reply['log']): Reply {
  reply.log = log;
  return reply;
}

const CONTENT_TYPES: Record<string, string> = {
  xml: 'application/xml', txt: 'text/plain', cfg: 'text/plain', csv: 'text/csv', json: 'application/json',
  htm: 'text/html', html: 'text/html', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  bmp: 'image/bmp', mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', pem: 'application/x-pem-file',
  crt: 'application/x-x509-ca-cert', cer: 'application/x-x509-ca-cert', der: 'application/x-x509-ca-cert',
  p12: 'application/x-pkcs12', pfx: 'application/x-pkcs12', pkcs12: 'application/x-pkcs12',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extensionOf(name)] ?? 'application/octet-stream';
}
