// Replies for bytes that are not rendered: files on disk (opened and checked here, streamed by
// the transport) and bytes held in memory, both with the conditional and range handling of
// ./conditional.ts. Modelled on pillarjs/send, minus path resolution: callers hand in an
// absolute path they have already confined to their root.

import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Confinement } from '../io/confine.js';
import { planResponse, strongEtag, type ResponsePlan } from './conditional.js';
import type { Reply } from './reply.js';

export interface Asked {
  method: string;
  headers: IncomingHttpHeaders;
}

export interface FileOptions {
  contentType: string;
  /** Refuse (403) files larger than this, e.g. to keep a stray disk image out of a served tree. */
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
 * The one place filesystem errors become statuses. Anything unexpected is a 500: the caller
 * logs the error, the client only ever sees the status text.
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

/** Status line text as body: never a path, message or stack, which could leak the server's layout. */
function statusReply(status: 403 | 404 | 500, err?: unknown): Reply {
  const reason = status === 500 ? `file error: ${err instanceof Error ? err.message : String(err)}` : undefined;
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: STATUS_CODES[status] ?? 'Error', log: { reason } };
}

function planned(plan: ResponsePlan, body: Reply['body']): Reply {
  return { status: plan.status, headers: plan.headers, body, log: {} };
}

/**
 * A file on disk with conditional-request and single-range support; the transport streams the
 * selected bytes. Never throws for filesystem problems. Undefined, with nothing opened, when
 * the opened file lies outside `opts.confine`: the caller answers as for a name it does not
 * know, so a refusal is no oracle.
 */
export async function fileReply(req: Asked, absPath: string, opts: FileOptions): Promise<Reply | undefined> {
  let handle: FileHandle | undefined;
  try {
    // Open first, then fstat the descriptor: the validators we plan with and the bytes we stream
    // belong to the same inode, so a file replaced after we look at it can't yield a 200 whose
    // body disagrees with its ETag or Content-Length. O_NONBLOCK keeps a FIFO in the tree from
    // parking a libuv thread in open(); it has no effect on reads of regular files.
    handle = await fs.promises.open(absPath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const st = await handle.stat();
    if (opts.confine && !(await opts.confine.opened(handle.fd, absPath, st))) return undefined;
    // Directories, devices, FIFOs and sockets are not files we serve: 404 as for a missing file.
    if (!st.isFile()) return statusReply(404);
    if (opts.maxBytes !== undefined && st.size > opts.maxBytes) return statusReply(403);

    const plan = planResponse(req, { size: st.size, etag: strongEtag(st), lastModified: st.mtime, contentType: opts.contentType });
    if (plan.body.kind === 'none') return planned(plan, undefined);
    const start = plan.body.kind === 'range' ? plan.body.start : 0;
    const end = plan.body.kind === 'range' ? plan.body.end : st.size - 1;
    // An empty file needs no descriptor.
    if (end < start) return planned(plan, Buffer.alloc(0));
    const body = { kind: 'file' as const, handle, path: absPath, start, end };
    handle = undefined; // the reply owns it now
    return planned(plan, body);
  } catch (err) {
    return statusReply(statusForFsError(err), err);
  } finally {
    // Still ours only if we returned before handing it to the reply.
    if (handle !== undefined) await handle.close().catch(() => {});
  }
}

/** Bytes in memory with the same conditional and range handling as files. */
export function bytesReply(req: Asked, body: Buffer, meta: BytesMeta): Reply {
  const plan = planResponse(req, { ...meta, size: body.length });
  switch (plan.body.kind) {
    case 'none':
      return planned(plan, undefined);
    case 'full':
      return planned(plan, body);
    case 'range':
      // subarray shares memory: no copy for a range of a cached rendering.
      return planned(plan, body.subarray(plan.body.start, plan.body.end + 1));
  }
}
