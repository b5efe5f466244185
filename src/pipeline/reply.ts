// What the pipeline answers, whatever the transport: status, headers and a body that is
// bytes in memory or an open file to stream. HTTP writes it (http/write-reply.ts); TFTP maps
// the status to its own errors and sends the same bytes.

import type { FileHandle } from 'node:fs/promises';

/** A file opened and checked by the pipeline; the transport streams bytes start..end (inclusive) and closes it. */
export interface FileBody {
  kind: 'file';
  handle: FileHandle;
  path: string;
  start: number;
  end: number;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** What to send for GET (a string goes out as UTF-8); HEAD sends the same headers and no body. */
  body?: Buffer | string | FileBody;
  /** What the access log should say; `ip` once the client address is known (saves working it out twice). */
  log: {
    mac?: string;
    model?: string;
    reason?: string;
    ip?: string;
    /** The vendor and the rendered file's scope: labels of the request metrics. */
    vendor?: string;
    scope?: 'device' | 'model' | 'shared';
    kind?: ReplyKind;
  };
}

/** Which handler answered: for the access log, the inventory and `deskset identify`. */
export type ReplyKind = 'rendered' | 'uploaded' | 'firmware' | 'resource' | 'upload' | 'refused' | 'operator' | 'none';

/** Refusals carry no body at all: phones never read error pages, attackers learn nothing. */
export function emptyReply(status: number, log: Reply['log'], headers?: Record<string, string>): Reply {
  const all: Record<string, string> = { 'Content-Length': '0' };
  if (headers) for (const k of Object.keys(headers)) all[k] = headers[k]!;
  return { status, headers: all, log };
}

export function isFileBody(body: Reply['body']): body is FileBody {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body);
}

/** Close a reply's file when it will not be sent (HEAD, a dropped connection, a transport error). */
export function discardReply(reply: Reply): void {
  if (isFileBody(reply.body)) void reply.body.handle.close().catch(() => {});
}
