// The one function that turns a pipeline Reply into HTTP bytes.

import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { discardReply, isFileBody, type Reply } from '../pipeline/reply.js';

/**
 * Bytes per read when streaming a file. Node has no sendfile, so a firmware image goes through
 * user space; 256 KB reads keep large downloads near nginx with flat memory (docs/performance.md).
 */
const READ_CHUNK = 256 * 1024;

/** Write `reply`; returns the body bytes it sends (declared length for a streamed file). */
export function writeReply(res: ServerResponse, method: string, reply: Reply): number {
  const body = reply.body;
  // 412/416 get a short reason text, as for files on disk.
  const text = !body && (reply.status === 412 || reply.status === 416) ? Buffer.from(STATUS_CODES[reply.status] ?? '') : undefined;
  const payload = body ?? text;
  // A rendered file's reply already says its length; measuring a string again costs a pass over it.
  const declared = reply.headers['Content-Length'];
  let headers = reply.headers;
  if (payload !== undefined && !isFileBody(payload) && reply.status !== 304 && declared === undefined) {
    // The reply is the caller's: its headers are copied, not changed.
    headers = Object.assign({}, reply.headers);
    headers['Content-Length'] = String(byteSize(payload));
  }
  res.writeHead(reply.status, headers);
  if (method === 'HEAD' || reply.status === 304 || payload === undefined) {
    discardReply(reply);
    res.end();
    return 0;
  }
  if (isFileBody(payload)) return streamFile(res, payload);
  res.end(payload);
  return declared === undefined ? byteSize(payload) : Number(declared);
}

function streamFile(res: ServerResponse, file: Extract<Reply['body'], { kind: 'file' }>): number {
  // If the file shrinks while it streams, the read ends short of the Content-Length already
  // sent and Node closes the connection rather than leave a keep-alive client waiting (pinned
  // by test/http-send.test.ts).
  // Reads go through the numeric descriptor (a stream over the FileHandle itself reads through
  // promises, four times slower for firmware: docs/performance.md), but the FileHandle stays
  // the one owner of the descriptor: the stream's own close is a no-op, and the handle is
  // closed once the stream is done, however it ends (a descriptor closed twice could be
  // another request's by then).
  const stream = fs.createReadStream(file.path, { fd: file.handle.fd, fs: READ_ONLY_FS, start: file.start, end: file.end, autoClose: true, highWaterMark: READ_CHUNK });
  stream.once('close', () => void file.handle.close().catch(() => {}));
  stream.on('error', () => res.destroy());
  // A client that goes away must not leave the descriptor open.
  res.on('close', () => stream.destroy());
  stream.pipe(res);
  return file.end - file.start + 1;
}

const READ_ONLY_FS = { open: fs.open, read: fs.read, close: (_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => cb(null) };

function byteSize(payload: Buffer | string): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}
