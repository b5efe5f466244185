// The HTTP edge of phone uploads: PUT of `<mac>-app.log`, `<mac>-phone.cfg`... into the
// UploadStore, and GET/HEAD of an uploaded override back to the phone.
//
// Statuses (the body is always empty: phones never read it, and nothing internal leaks):
//   400  hostile or malformed target (traversal, encoded separators, NUL, backslash, `//x`),
//        more than one path segment, bad or repeated Content-Length, body shorter than declared
//   414  target longer than MAX_PATH (from decodeRequestPath)
//   403  a well-formed single name that is not an allowed upload (unknown suffix, all-zero MAC),
//        `authorize` said no, or a symlink in the state directory
//   405  not a PUT (Allow: PUT)
//   411  no Content-Length (chunked or other Transfer-Encoding): we only accept bounded bodies
//   413  over the per-file cap or the device quota
//   507  the state directory's disk is full
//   500  anything unexpected (logged through `log`)
//   201  created, 204 replaced (or appended to today's log)

import type Koa from 'koa';
import { UPLOAD_KINDS, type UploadStore } from '../service/upload-store.js';
import { decodeRequestPath } from './request-path.js';
import { sendFile } from './send.js';

export interface UploadHandlerOptions {
  store: UploadStore;
  /** Decide whether this request may write this device's files (false: 403, body unread). */
  authorize?: (ctx: Koa.Context, mac: string) => boolean | Promise<boolean>;
  /** One record per PUT: status, reason, mac, kind, bytes. */
  log?: (rec: Record<string, unknown>) => void;
}

export type ContentLength = { ok: true; length: number | undefined } | { ok: false; status: 400 | 411 };

/**
 * The declared body length from raw header pairs. RFC 9112 §6.3: a message with
 * Transfer-Encoding has no usable Content-Length, and differing or repeated Content-Length
 * fields are an error. Node's parser already rejects most of these; this is defence in depth
 * and the place where "no length" becomes 411.
 */
export function parseContentLength(rawHeaders: readonly string[]): ContentLength {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    // Chunked (or any coding) has no length known up front: we refuse rather than bound it later.
    if (name === 'transfer-encoding') return { ok: false, status: 411 };
    if (name === 'content-length') values.push(rawHeaders[i + 1]!.trim());
  }
  if (values.length === 0) return { ok: true, length: undefined };
  // Even `Content-Length: 5` twice is refused: a smuggling probe, never a phone.
  if (values.length > 1) return { ok: false, status: 400 };
  const v = values[0]!;
  // Digits only: no sign, no `5, 5`, no hex, no exponent. 15 digits keeps it a safe integer.
  if (!/^\d{1,15}$/.test(v)) return { ok: false, status: 400 };
  return { ok: true, length: Number(v) };
}

export function createUploadHandler(opts: UploadHandlerOptions): (ctx: Koa.Context) => Promise<void> {
  const { store } = opts;
  return async function handleUpload(ctx: Koa.Context): Promise<void> {
    const rec: Record<string, unknown> = { event: 'upload', ip: ctx.ip };
    const finish = (status: number, reason: string, extra: Record<string, unknown> = {}) => {
      // A body we did not read to the end stays unread: close the connection rather than let
      // Node drain (or, once we have stopped reading, stall on) whatever the client still sends.
      if (!ctx.req.complete) ctx.set('Connection', 'close');
      ctx.status = status;
      ctx.body = '';
      ctx.state.reason = reason;
      opts.log?.({ ...rec, status, reason, ...extra });
    };

    if (ctx.method !== 'PUT') {
      ctx.set('Allow', 'PUT');
      return finish(405, 'method not allowed');
    }
    const decoded = decodeRequestPath(ctx.originalUrl);
    if (!decoded.ok) return finish(decoded.status, 'hostile or malformed path');
    const name = decoded.path;
    rec.name = name.length > 128 ? `${name.slice(0, 128)}…` : name;
    // Phones PUT to the directory they were provisioned from; any sub-path is not ours.
    if (name === '' || name.includes('/')) return finish(400, 'not a single path segment');
    const c = store.classify(name);
    if (!c) return finish(403, 'not an allowed upload name');
    rec.mac = c.mac;
    rec.kind = c.kind;
    ctx.state.mac = c.mac;
    const cl = parseContentLength(ctx.req.rawHeaders);
    if (!cl.ok) return finish(cl.status, cl.status === 411 ? 'length required' : 'bad Content-Length');

    try {
      if (opts.authorize && !(await opts.authorize(ctx, c.mac))) return finish(403, 'not authorized');
      const r = await store.put(name, ctx.req, cl.length);
      return finish(r.status, r.reason, r.bytes === undefined ? {} : { bytes: r.bytes });
    } catch (err) {
      // Only the log sees the message; the phone gets an empty 500.
      return finish(500, 'upload failed', { error: err instanceof Error ? err.message : String(err) });
    }
  };
}

/**
 * Serve an uploaded non-log file (e.g. `<mac>-phone.cfg`) back for GET/HEAD, with the same
 * conditional/range handling as every other file. Returns false when there is nothing to serve
 * (not GET/HEAD, not an upload name, a log, or not uploaded yet) so the caller can continue.
 * `name` is the decoded request path without its leading `/`.
 */
export async function serveUploaded(ctx: Koa.Context, store: UploadStore, name: string): Promise<boolean> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
  const c = store.classify(name);
  if (!c) return false;
  const found = await store.get(name);
  if (!found) return false;
  ctx.state.mac = c.mac;
  // The phone rewrites this file whenever a user changes a setting: always revalidate.
  ctx.set('Cache-Control', 'no-cache');
  const sent = await sendFile(ctx, found.path, { contentType: UPLOAD_KINDS[c.kind].contentType, confine: found.confine });
  // Refused (swapped for a symlink out): the caller answers as for any unknown name.
  if (!sent) ctx.remove('Cache-Control');
  return sent;
}
