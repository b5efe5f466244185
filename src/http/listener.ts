// The request listener in front of Koa. Requests for rendered files are answered here
// straight from the snapshot's cache, without building a Koa context (measured: Koa's
// per-request context costs more than half of nginx-relative throughput); everything else
// (firmware, resources, uploads, operator endpoints) goes to the Koa app. Both paths use
// replyRendered + writeReply + logAccess, so their answers are byte-for-byte alike.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { Provisioner } from '../service/provisioner.js';
import { logAccess } from './access-log.js';
import { replyRendered } from './provision.js';
import { writeReply } from './reply.js';

/** Set on requests the fast path already looked at, so Koa does not resolve them twice. */
export const PASSED = Symbol('deskset.fastPathPassed');

export interface ListenerOptions {
  app: Koa<any>;
  provisioner: Provisioner;
  log: Logger;
  /** Answer rendered files before Koa (default true). Off: Koa answers them the same way. */
  fastPath?: boolean;
}

export function createListener(opts: ListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const koa = opts.app.callback();
  if (opts.fastPath === false) return koa;
  const deps = { provisioner: opts.provisioner, log: opts.log };
  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    if ((req.method === 'GET' || req.method === 'HEAD') && !url.startsWith('/-/') && url !== '/healthz') {
      let reply;
      try {
        reply = replyRendered({ method: req.method, url, headers: req.headers }, deps);
      } catch (err) {
        opts.log.error({ err: (err as Error).message }, 'request failed');
        reply = { status: 500, headers: { 'Content-Length': '0' }, log: { reason: 'internal error' } };
      }
      if (reply) {
        const bytes = writeReply(res, req.method, reply);
        logAccess(opts.log, { ip: req.socket.remoteAddress ?? '', method: req.method, path: logPath(url), status: reply.status, bytes, ms: round(performance.now() - started), ...reply.log });
        return;
      }
      (req as IncomingMessage & { [PASSED]?: boolean })[PASSED] = true;
    }
    koa(req, res);
  };
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Paths are logged without the query and cut short: a 64 KB path must not become a 64 KB log line. */
export function logPath(url: string): string {
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  return p.length > 256 ? `${p.slice(0, 256)}…` : p;
}
