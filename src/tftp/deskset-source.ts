// The TFTP adapter of the request pipeline: a file name in, the pipeline's Reply for an
// anonymous GET of the same name out, as TFTP bytes or a TFTP error. Identification, the
// enumeration defence and the handlers are the pipeline's (pipeline/handle.ts), as for HTTP.
//
// TFTP carries no credentials, so on top of what anonymous HTTP may have, a file that carries
// secrets (a rendered file whose bytes change when secrets are masked, a phone's own upload,
// key material among resources) is served only with `tftp.serve_secrets` to an address in
// `tftp.allow`.

import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { IpAllowList } from '../config/ip-allow.js';
import type { TftpConfig } from '../config/root-config.js';
import type { PhoneRequest } from '../pipeline/handle.js';
import { discardReply, isFileBody, type Reply } from '../pipeline/reply.js';
import { decodeRequestPath } from '../pipeline/request-path.js';
import { renderTarget } from '../render/render.js';
import { extensionOf } from '../render/resources.js';
import type { Gate } from '../security/gate.js';
import type { Provisioner } from '../service/provisioner.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { ERR } from './packet.js';
import type { FileBody, LogFields, Opened, Remote, TftpSource } from './source.js';

export interface DesksetSourceDeps {
  handle: (req: PhoneRequest) => Promise<Reply>;
  provisioner: Provisioner;
  gate: Gate;
  log: Logger;
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

  /** Does this answer carry credentials TFTP may not hand to anyone who asks? */
  const secret = (reply: Reply, target: string): boolean => {
    const kind = reply.log.kind;
    if (kind === 'uploaded') return true;
    if (kind === 'resource' || kind === 'firmware') return KEY_EXTENSIONS.has(extensionOf(target));
    if (kind !== 'rendered') return false;
    const decoded = decodeRequestPath(target);
    return !decoded.ok || carriesSecrets(decoded.path);
  };

  return {
    async open(name: string, remote: Remote): Promise<Opened> {
      const ip = remote.address;
      if (allow && !allow.allows(ip)) return refuse(403, { reason: 'address not allowed' });
      const target = targetOf(name);
      const reply = await deps.handle({ transport: 'tftp', method: 'GET', url: target, headers: {}, remote: ip });
      const log: LogFields = { mac: reply.log.mac, model: reply.log.model, reason: reply.log.reason, vendor: reply.log.vendor, scope: reply.log.scope, kind: reply.log.kind };
      if (reply.status !== 200) {
        discardReply(reply);
        return refuse(reply.status, log);
      }
      if (!secretsFor(ip) && secret(reply, target)) {
        discardReply(reply);
        const reason = 'carries credentials (tftp.serve_secrets is off)';
        // A device's file is refused exactly as an unknown MAC's is (and counts toward the
        // cool-down): a different answer would tell a scanner which MACs exist.
        if (log.mac) {
          const refusal = await deps.gate.unknownDevice(deps.provisioner.current(), { ip, headers: {} }, log.mac, { ...log, reason });
          return refuse(refusal.status, { ...log, reason });
        }
        return refuse(403, { ...log, reason });
      }
      const body = reply.body;
      if (isFileBody(body)) return { ok: true, body: fileBody(body.handle, body.start, body.end - body.start + 1), size: body.end - body.start + 1, log };
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0));
      return { ok: true, body: bytes, size: bytes.length, log };
    },
  };
}

/** A file read in READ_AHEAD chunks: a window of blocks is nearly always inside the chunk in hand. */
function fileBody(handle: FileHandle, start: number, size: number): FileBody {
  let chunk = Buffer.alloc(0);
  let at = 0;
  return {
    read(offset: number, length: number) {
      const end = Math.min(size, offset + length);
      if (offset >= at && end <= at + chunk.length) return chunk.subarray(offset - at, end - at);
      const want = Math.min(size - offset, Math.max(READ_AHEAD, end - offset));
      const buf = Buffer.allocUnsafe(want);
      return handle.read(buf, 0, want, start + offset).then(({ bytesRead }) => {
        chunk = buf.subarray(0, bytesRead);
        at = offset;
        return chunk.subarray(0, Math.min(bytesRead, end - offset));
      });
    },
    close: () => handle.close(),
  };
}
