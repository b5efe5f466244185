// Koa adapters over the pure planning in ./conditional.ts: one for files on disk (streamed,
// never read whole), one for bytes rendered in memory. Modelled on pillarjs/send, minus path
// resolution: callers hand in an absolute path they have already confined to their root.

import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type Koa from 'koa';
import type { Confinement } from '../io/confine.js';
import { planResponse, strongEtag, type ResponsePlan } from './conditional.js';

export interface SendFileOptions {
  contentType: string;
  /** Refuse (403) files larger than this, e.g. to keep a stray disk image out of a TFTP-style tree. */
  maxBytes?: number;
  /** The root the opened file must really lie in (symlinks resolved on the descriptor). */
  confine?: Confinement;
}

export interface BytesMeta {
  etag: string;
  contentType: string;
  lastModified?: Date;
}

/**
 * The one place filesystem errors become HTTP statuses. Anything unexpected is a 500: the
 * caller logs the error, the client only ever sees the status text.
 */
export function statusForFsError(err: unknown): 403 | 404 | 500 {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  switch (code) {
    case 'ENOENT': // gone (including deleted between listing and request)
    case 'ENOTDIR': // a path component is a file: "/a.cfg/b"
    case 'EISDIR':
    case 'ENAMETOOLONG': // client-controlled path length must not produce a 500
      return 404;
    case 'EACCES':
    case 'EPERM':
      return 403;
    default:
      return 500;
  }
}

/** Status line text as body: never a path, message or stack, which could leak the layout of the server. */
function respondWithStatus(ctx: Koa.Context, status: 403 | 404 | 500, err?: unknown): void {
  ctx.status = status;
  ctx.body = STATUS_CODES[status] ?? 'Error';
  // A 500 means something is wrong with the server, not the request: hand it to the app's
  // 'error' listener (the server logger) rather than swallowing it.
  if (status === 500 && err !== undefined) ctx.app.emit('error', err, ctx);
}

function applyPlan(ctx: Koa.Context, plan: ResponsePlan, body: Buffer | Readable | undefined): void {
  ctx.status = plan.status;
  if (body !== undefined) {
    ctx.body = body;
  } else if (plan.status === 412 || plan.status === 416) {
    // Explicit short body so a body left by earlier middleware can't ride along on the error.
    ctx.body = STATUS_CODES[plan.status];
  }
  // Headers last: Koa's body setter defaults Content-Type and (for streams replacing an earlier
  // body) drops Content-Length, so setting ours afterwards makes the plan win.
  // For 304 Koa itself strips the body and body headers; HEAD is ended without a body.
  ctx.set(plan.headers);
}

/**
 * Bytes per read when streaming a file. Node has no sendfile, so a firmware image goes through
 * user space; with the default 64 KB a 60 MB image took ~960 reads and socket writes, and 8
 * parallel downloads ran at 0.57–0.69 of nginx. 256 KB: 0.74–0.85 with the same flat memory
 * (1 MB was slower again: big buffers are external memory V8 has to account for).
 */
const READ_CHUNK = 256 * 1024;

/**
 * Serve a file from disk with conditional-request and single-range support, streaming the
 * selected bytes. Sets ctx.status/headers/body; never throws for filesystem problems.
 * False, with nothing answered, when the opened file lies outside `opts.confine`: the caller
 * answers as for a name it does not know, so a refusal is no oracle.
 */
export async function sendFile(ctx: Koa.Context, absPath: string, opts: SendFileOptions): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    // Open first, then fstat the descriptor: the validators we plan with and the bytes we stream
    // belong to the same inode, so a file deleted or atomically replaced after we look at it
    // can't yield a 200 whose body disagrees with its ETag or Content-Length, and there is no
    // stat→open window to fail in after headers are decided. O_NONBLOCK keeps a FIFO in the tree
    // from parking a libuv thread in open(); it has no effect on reads of regular files.
    handle = await fs.promises.open(absPath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const st = await handle.stat();
    if (opts.confine && !(await opts.confine.opened(handle.fd, absPath, st))) return false;
    // Directories, devices, FIFOs and sockets are not files we serve; say 404 as for a missing file.
    if (!st.isFile()) return answered(respondWithStatus(ctx, 404));
    if (opts.maxBytes !== undefined && st.size > opts.maxBytes) return answered(respondWithStatus(ctx, 403));

    const plan = planResponse(
      { method: ctx.method, headers: ctx.headers },
      { size: st.size, etag: strongEtag(st), lastModified: st.mtime, contentType: opts.contentType },
    );

    if (plan.body.kind === 'none') return answered(applyPlan(ctx, plan, undefined));
    const start = plan.body.kind === 'range' ? plan.body.start : 0;
    const end = plan.body.kind === 'range' ? plan.body.end : st.size - 1;
    // createReadStream rejects end < start, and an empty file needs no descriptor anyway.
    if (end < start) return answered(applyPlan(ctx, plan, Buffer.alloc(0)));

    // The stream takes ownership of the handle (autoClose): it is closed when the stream ends,
    // errors, or is destroyed — which Koa does when the client goes away (its response pipeline
    // destroys the source) and when the response finishes (on-finished → destroy).
    const stream = fs.createReadStream(absPath, { fd: handle, start, end, autoClose: true, highWaterMark: READ_CHUNK });
    handle = undefined;

    // If the file shrinks while we stream it the read ends early, short of the Content-Length
    // already sent. Node's http server then closes the connection rather than leaving a
    // keep-alive client waiting for bytes that never come (pinned by test/http-send.test.ts).
    return answered(applyPlan(ctx, plan, stream));
  } catch (err) {
    return answered(respondWithStatus(ctx, statusForFsError(err), err));
  } finally {
    // Still ours only if we returned before handing it to a stream (HEAD, 304, 412, 416, 404...).
    if (handle !== undefined) await handle.close().catch(() => {});
  }
}

/** Reads `return answered(respond(...))`: the response is set, the file was ours to answer for. */
function answered(_response: void): true {
  return true;
}

/** Serve bytes rendered in memory with the same conditional and range handling as files. */
export function sendBytes(ctx: Koa.Context, body: Buffer, meta: BytesMeta): void {
  const plan = planResponse({ method: ctx.method, headers: ctx.headers }, { ...meta, size: body.length });
  switch (plan.body.kind) {
    case 'none':
      return applyPlan(ctx, plan, undefined);
    case 'full':
      return applyPlan(ctx, plan, body);
    case 'range':
      // subarray shares memory: no copy for a range of a cached rendering.
      return applyPlan(ctx, plan, body.subarray(plan.body.start, plan.body.end + 1));
  }
}
