// A reply decided without any framework: status, headers, optional body. Both the fast path
// (raw node:http) and the Koa path write replies through writeReply, so they cannot drift.

import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** What to send for GET (a string goes out as UTF-8); HEAD sends the same headers and no body. */
  body?: Buffer | string;
  /**
   * What the access log should say; `ip` once the client address is known (saves working it
   * out twice). `vendor` and `kind` (the file's scope) label the request metrics only.
   */
  log: { mac?: string; model?: string; reason?: string; ip?: string; vendor?: string; kind?: string };
}

/** Refusals carry no body at all: phones never read error pages, attackers learn nothing. */
export function emptyReply(status: number, log: Reply['log'], headers?: Record<string, string>): Reply {
  const all: Record<string, string> = { 'Content-Length': '0' };
  if (headers) for (const k of Object.keys(headers)) all[k] = headers[k]!;
  return { status, headers: all, log };
}

export function writeReply(res: ServerResponse, method: string, reply: Reply): number {
  const body = reply.body;
  // 412/416 get a short reason text, as for files on disk (send.ts).
  const text = !body && (reply.status === 412 || reply.status === 416) ? Buffer.from(STATUS_CODES[reply.status] ?? '') : undefined;
  const payload = body ?? text;
  // A rendered file's reply already says its length; measuring a string again costs a pass over it.
  const declared = reply.headers['Content-Length'];
  let headers = reply.headers;
  if (payload !== undefined && reply.status !== 304 && declared === undefined) {
    // The reply is the caller's: its headers are copied, not changed.
    headers = Object.assign({}, reply.headers);
    headers['Content-Length'] = String(byteSize(payload));
  }
  res.writeHead(reply.status, headers);
  if (method === 'HEAD' || reply.status === 304 || payload === undefined) {
    res.end();
    return 0;
  }
  res.end(payload);
  return declared === undefined ? byteSize(payload) : Number(declared);
}

function byteSize(payload: Buffer | string): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}
