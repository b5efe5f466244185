// Phone uploads: PUT of `<mac>-app.log`, `<mac>-phone.cfg`... into the upload backend (disk or database), and GET/HEAD
// of an uploaded override back to the phone. Two handlers of the pipeline (handle.ts).
//
// Statuses (the body is always empty: phones never read it, and nothing internal leaks):
//   400  hostile or malformed target (traversal, encoded separators, NUL, backslash, `//x`),
//        more than one path segment, bad or repeated Content-Length, body shorter than declared
//   414  target longer than MAX_PATH (from decodeRequestPath)
//   401  `authorize` answered with the gate's challenge (no or wrong credentials), as for GET
//   403  a well-formed single name that is not an allowed upload (unknown suffix, all-zero MAC),
//        `authorize` said no, or a symlink in the state directory
//   405  not a PUT (Allow: PUT)
//   411  neither Content-Length nor chunked (or another Transfer-Encoding)
//   413  over the per-file cap or the device quota (declared, or as a chunked body streams)
//   429  too many uploads already waiting for this device (Retry-After)
//   507  the state directory's disk is full
//   500  anything unexpected (logged through `log`)
//   201  created, 204 replaced (or appended to today's log)

import type { Readable } from 'node:stream';
import { STREAMED, UPLOAD_KINDS, type UploadBackend } from '../service/upload-backend.js';
import { bytesReply, fileReply } from './file-reply.js';
import { emptyReply, type Reply } from './reply.js';

/** The body of a PUT as the transport hands it over: a stream that knows whether it was read to the end. */
export type UploadBody = Readable & { readonly complete?: boolean };

export interface UploadRequest {
  method: string;
  ip: string;
  /** The raw header pairs, to check the framing the way RFC 9112 asks. */
  rawHeaders: readonly string[];
  body: UploadBody;
}

export interface UploadOptions {
  store: UploadBackend;
  /**
   * Decide whether this request may write this device's files: true, false (403), or the
   * refusal to send (the gate's 401 challenge, 429...). The body is left unread on a refusal.
   * `tokenMac` is the device of the URL token the request came through, if any.
   */
  authorize?: (mac: string, tokenMac: string | undefined) => boolean | Reply | Promise<boolean | Reply>;
  /** One record per PUT: status, reason, mac, kind, bytes. */
  log?: (rec: Record<string, unknown>) => void;
}

/** Where an upload is headed once any /p/<token>/ prefix is taken off. */
export interface UploadTarget {
  /** The decoded request path without its leading `/` (and without the token prefix). */
  path: string;
  /** The device of the URL token the request came through. */
  tokenMac?: string;
}

export type ContentLength = { ok: true; length: number | typeof STREAMED | undefined } | { ok: false; status: 400 | 411 };

/**
 * The declared body length from raw header pairs: a number, STREAMED for a chunked body (no
 * length up front; the store bounds it while it streams), or undefined for neither (411).
 * RFC 9112 §6.3: Transfer-Encoding with Content-Length, and differing or repeated
 * Content-Length fields, are errors. Node's parser already rejects most of these; this is
 * defence in depth.
 */
export function parseContentLength(rawHeaders: readonly string[]): ContentLength {
  const values: string[] = [];
  const codings: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'transfer-encoding') codings.push(rawHeaders[i + 1]!.trim().toLowerCase());
    if (name === 'content-length') values.push(rawHeaders[i + 1]!.trim());
  }
  if (codings.length) {
    // Both framings at once is the classic smuggling probe, never a phone.
    if (values.length) return { ok: false, status: 400 };
    // Only plain chunked: a compressed body's size on disk is not what was counted.
    return codings.length === 1 && codings[0] === 'chunked' ? { ok: true, length: STREAMED } : { ok: false, status: 411 };
  }
  if (values.length === 0) return { ok: true, length: undefined };
  // Even `Content-Length: 5` twice is refused: a smuggling probe, never a phone.
  if (values.length > 1) return { ok: false, status: 400 };
  const v = values[0]!;
  // Digits only: no sign, no `5, 5`, no hex, no exponent. 15 digits keeps it a safe integer.
  if (!/^\d{1,15}$/.test(v)) return { ok: false, status: 400 };
  return { ok: true, length: Number(v) };
}

/** Seconds a phone is asked to wait when too many of its device's uploads are already waiting. */
const BUSY_RETRY_AFTER = '5';

export async function replyUpload(req: UploadRequest, target: UploadTarget, opts: UploadOptions): Promise<Reply> {
  const { store } = opts;
  const rec: Record<string, unknown> = { event: 'upload', ip: req.ip };
  let mac: string | undefined;
  const finish = (status: number, reason: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Reply => {
    // A body we did not read to the end stays unread: close the connection rather than let
    // Node drain (or, once we have stopped reading, stall on) whatever the client still sends.
    if (!req.body.complete) headers['Connection'] = 'close';
    opts.log?.({ ...rec, status, reason, ...extra });
    return emptyReply(status, { mac, reason, ip: req.ip, kind: 'upload' }, headers);
  };

  if (req.method !== 'PUT') return finish(405, 'method not allowed', {}, { Allow: 'PUT' });
  // The name only: a token prefix was taken off by the caller, and a token is never logged.
  const name = target.path;
  rec.name = name.length > 128 ? `${name.slice(0, 128)}…` : name;
  // Phones PUT to the directory they were provisioned from; any sub-path is not ours.
  if (name === '' || name.includes('/')) return finish(400, 'not a single path segment');
  const c = store.classify(name);
  if (!c) return finish(403, 'not an allowed upload name');
  rec.mac = mac = c.mac;
  rec.kind = c.kind;
  const cl = parseContentLength(req.rawHeaders);
  if (!cl.ok) return finish(cl.status, cl.status === 411 ? 'length required' : 'bad Content-Length');

  try {
    const allowed = opts.authorize ? await opts.authorize(c.mac, target.tokenMac) : true;
    if (allowed === false) return finish(403, 'not authorized');
    if (allowed !== true) {
      // The gate's own answer, headers and all: a 401 carries the same challenge as for GET.
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(allowed.headers)) if (k !== 'Content-Length') headers[k] = v;
      return finish(allowed.status, allowed.log.reason ?? 'not authorized', {}, headers);
    }
    const r = await store.put(name, req.body, cl.length);
    return finish(r.status, r.reason, r.bytes === undefined ? {} : { bytes: r.bytes }, r.status === 429 ? { 'Retry-After': BUSY_RETRY_AFTER } : {});
  } catch (err) {
    // Only the log sees the message; the phone gets an empty 500.
    return finish(500, 'upload failed', { error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * An uploaded non-log file (e.g. `<mac>-phone.cfg`) served back for GET/HEAD, with the same
 * conditional/range handling as every other file. Undefined when there is nothing to serve
 * (not an upload name, a log, not uploaded yet, or swapped for a symlink out of the state
 * directory) so the pipeline goes on to its next handler.
 */
export async function replyUploaded(req: { method: string; headers: import('node:http').IncomingHttpHeaders }, store: UploadBackend, name: string): Promise<Reply | undefined> {
  const c = store.classify(name);
  if (!c) return undefined;
  const found = await store.get(name);
  if (!found) return undefined;
  const contentType = UPLOAD_KINDS[c.kind].contentType;
  // From the database: the ETag stored with the body, so every replica answers alike.
  const reply = found.kind === 'bytes' ? bytesReply(req, found.body, { etag: found.etag, contentType, lastModified: found.mtime }) : await fileReply(req, found.path, { contentType, confine: found.confine });
  if (!reply) return undefined;
  // The phone rewrites this file whenever a user changes a setting: always revalidate.
  reply.headers['Cache-Control'] = 'no-cache';
  reply.log = { ...reply.log, mac: c.mac, kind: 'uploaded' };
  return reply;
}
