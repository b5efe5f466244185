// deskset behind the TFTP edge: a file name in, the bytes an anonymous HTTP GET of the same
// name gets out, through the very functions the HTTP listener calls (replyRendered for
// rendered files; route, the gate and diskFileFor for firmware and resources). Thin on
// purpose: when both transports move onto one handle(request) → reply pipeline, this file
// shrinks to a translation of names and refusals.
//
// TFTP carries no credentials, so on top of what anonymous HTTP may have, a file that
// carries secrets (its bytes change when secrets are masked; key material among resources)
// is served only with `tftp.serve_secrets` to an address in `tftp.allow`.

import type { Logger } from 'pino';
import { ZERO_MAC } from '../config/mac.js';
import { renderTarget } from '../render/render.js';
import { extensionOf } from '../render/resources.js';
import { subjectOf } from '../config/resolve.js';
import type { TftpConfig } from '../config/root-config.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Gate } from '../http/gate.js';
import { replyRendered, route, type RequestInfo } from '../http/provision.js';
import type { Reply } from '../http/reply.js';
import { diskFileFor, type ServedTrees } from '../io/disk-file.js';
import { IpAllowList } from '../config/ip-allow.js';
import type { Provisioner } from '../service/provisioner.js';
import { ERR } from './packet.js';
import type { FileBody, LogFields, Opened, Remote, TftpSource } from './source.js';

export interface DesksetSourceDeps {
  provisioner: Provisioner;
  gate: Gate;
  log: Logger;
  trees: ServedTrees;
  config: TftpConfig;
}

/** Resources that are key material whatever their bytes say (a PKCS#12 bundle, a PEM private key). */
const KEY_EXTENSIONS = new Set(['p12', 'pfx', 'pkcs12', 'pem', 'key']);

/** Bytes read ahead from a large file per disk read: 1 MB is ~700 blocks of 1428 bytes. */
const READ_AHEAD = 1024 * 1024;

/** Per snapshot: whether a rendered file (by its cache key) carries secrets. Bounded per snapshot. */
const MAX_REMEMBERED = 100_000;

/**
 * The TFTP name as the HTTP request target a phone would send: a leading slash is optional in
 * TFTP (phones send both forms), and every other byte is taken literally (percent-encoded, so
 * decodeRequestPath's decoding gives the name back and its checks — `..`, control bytes, NUL — apply).
 */
export function targetOf(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  return `/${bare.split('/').map(encodeURIComponent).join('/')}`;
}

/** An HTTP refusal as a TFTP error (RFC 1350 §5 codes); the log keeps the HTTP status. */
export function refusalOf(status: number): { code: number; message: string } {
  if (status === 404 || status === 400 || status === 414) return { code: ERR.FILE_NOT_FOUND, message: 'File not found' };
  if (status === 401 || status === 403) return { code: ERR.ACCESS_VIOLATION, message: 'Access violation' };
  if (status === 429) return { code: ERR.NOT_DEFINED, message: 'Try again later' };
  return { code: ERR.NOT_DEFINED, message: 'Server error' };
}

export function desksetSource(deps: DesksetSourceDeps): TftpSource {
  const allow = deps.config.allow?.length ? new IpAllowList(deps.config.allow) : undefined;
  const secretsFor = (ip: string) => deps.config.serveSecrets && allow !== undefined && allow.allows(ip);
  const carries = new WeakMap<Snapshot, Map<string, boolean>>();

  const refuse = (status: number, log: LogFields): Opened => ({ ok: false, status, log, ...refusalOf(status) });
  const fromReply = (reply: Reply): Opened => refuse(reply.status, { mac: reply.log.mac, model: reply.log.model, reason: reply.log.reason });

  /** Whether the rendered file at `path` changes when secrets are masked, i.e. carries some. */
  const carriesSecrets = (path: string): boolean => {
    const served = deps.provisioner.resolve({ path });
    const r = served.resolution;
    if (r.kind !== 'render') return false;
    const snap = served.snapshot;
    let seen = carries.get(snap);
    if (!seen) carries.set(snap, (seen = new Map()));
    const known = seen.get(r.cacheKey);
    if (known !== undefined) return known;
    const plain = deps.provisioner.render(served).rendered;
    const masked = renderTarget(snap.render, r.target, { redact: { secrets: snap.secrets, extraKeys: snap.secretKeys } }).rendered;
    // A file that cannot be rendered masked is treated as carrying secrets: refusing is the safe side.
    const verdict = !plain || !masked || plain.text !== masked.text;
    if (seen.size >= MAX_REMEMBERED) seen.clear();
    seen.set(r.cacheKey, verdict);
    return verdict;
  };

  return {
    async open(name: string, remote: Remote): Promise<Opened> {
      const ip = remote.address;
      if (allow && !allow.allows(ip)) return refuse(403, { reason: 'address not allowed' });
      const info: RequestInfo = { method: 'GET', url: targetOf(name), headers: {}, remote: ip };
      const reply = await replyRendered(info, deps);
      if (reply) {
        const log = { mac: reply.log.mac, model: reply.log.model };
        if (reply.status !== 200) return fromReply(reply);
        const routed = route(info, deps.gate);
        if ('status' in routed) return fromReply(routed);
        if (!secretsFor(ip) && carriesSecrets(routed.path)) {
          const reason = 'carries credentials (tftp.serve_secrets is off)';
          // A device's file is refused exactly as an unknown MAC's is (and counts toward the
          // cool-down): a different answer would tell a scanner which MACs exist.
          if (log.mac) return fromReply(await deps.gate.unknownDevice(deps.provisioner.current(), { ip, headers: {} }, log.mac, { ...log, reason }));
          return refuse(403, { ...log, reason });
        }
        const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : (reply.body ?? Buffer.alloc(0));
        return { ok: true, body, size: body.length, log };
      }
      return openDiskFile(info, ip);
    },
  };

  /** Firmware and resources: admitted as app.ts admits them for an anonymous GET (uploads are HTTP-only). */
  async function openDiskFile(info: RequestInfo, ip: string): Promise<Opened> {
    const routed = route(info, deps.gate);
    if ('status' in routed) return fromReply(routed);
    const snap = deps.provisioner.current();
    const named = /^([0-9a-fA-F]{12})-/.exec(routed.path)?.[1]?.toLowerCase();
    const mac = named && named !== ZERO_MAC ? named : routed.tokenMac;
    const device = mac ? snap.profiles.devices.get(mac) : undefined;
    const log: LogFields = { mac, model: device?.model.name };
    if (named && named !== ZERO_MAC && !device && (deps.gate.guardsUnknown(snap) || !snap.resourceIndex.match(routed.path, {}))) {
      return fromReply(await deps.gate.unknownDevice(snap, { ip, headers: {} }, named, { mac: named, reason: 'unknown device' }));
    }
    const admitted = await deps.gate.admit(snap, { ip: routed.ip, headers: {}, socket: undefined, subject: named && device ? subjectOf(device) : undefined, tokenMac: routed.tokenMac });
    if (!admitted.ok) return fromReply(admitted.reply);
    const hit = await diskFileFor(snap, deps.trees, routed.path, { mac, model: device?.model.name, vendor: device?.model.vendor, site: device?.site });
    if (!hit) return refuse(404, { ...log, reason: 'no route' });
    if (KEY_EXTENSIONS.has(extensionOf(hit.file)) && !secretsFor(ip)) {
      const reason = 'key material (tftp.serve_secrets is off)';
      if (named && device) return fromReply(await deps.gate.unknownDevice(snap, { ip, headers: {} }, device.mac, { ...log, reason }));
      return refuse(403, { ...log, reason });
    }
    if (hit.body) return { ok: true, body: hit.body, size: hit.body.length, log };
    const opened = await hit.confine.open(hit.abs);
    if (opened === undefined || opened === 'outside') return refuse(404, { ...log, reason: opened === 'outside' ? 'outside root' : 'unreadable' });
    const { handle, st } = opened;
    if (!st.isFile() || st.size > snap.config.maxFileBytes) {
      await handle.close().catch(() => {});
      return refuse(404, { ...log, reason: st.isFile() ? 'too large' : 'not a file' });
    }
    return { ok: true, body: fileBody(handle, st.size), size: st.size, log };
  }
}

/** A file read in READ_AHEAD chunks: a window of blocks is nearly always inside the chunk in hand. */
function fileBody(handle: import('node:fs/promises').FileHandle, size: number): FileBody {
  let chunk = Buffer.alloc(0);
  let at = 0;
  return {
    read(offset: number, length: number) {
      const end = Math.min(size, offset + length);
      if (offset >= at && end <= at + chunk.length) return chunk.subarray(offset - at, end - at);
      const want = Math.min(size - offset, Math.max(READ_AHEAD, end - offset));
      const buf = Buffer.allocUnsafe(want);
      return handle.read(buf, 0, want, offset).then(({ bytesRead }) => {
        chunk = buf.subarray(0, bytesRead);
        at = offset;
        return chunk.subarray(0, Math.min(bytesRead, end - offset));
      });
    },
    close: () => handle.close(),
  };
}
