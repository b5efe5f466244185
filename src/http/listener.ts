// The request listener in front of Koa. Requests for rendered files are answered here
// straight from the snapshot's cache, without building a Koa context (measured: Koa's
// per-request context costs more than half of nginx-relative throughput); everything else
// (firmware, resources, uploads, operator endpoints) goes to the Koa app. Both paths use
// replyRendered + writeReply + logAccess, so their answers are byte-for-byte alike. The fast
// path writes its replies at the end of the event-loop turn (turn-writer.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import type { Provisioner } from '../service/provisioner.js';
import { redactTokenPath } from '../security/tokens.js';
import { logAccess } from './access-log.js';
import type { Gate } from './gate.js';
import { replyRendered } from './provision.js';
import { emptyReply, writeReply, type Reply } from './reply.js';
import { TurnWriter } from './turn-writer.js';

/** Set on requests the fast path already looked at, so Koa does not resolve them twice. */
export const PASSED = Symbol('deskset.fastPathPassed');

export interface ListenerOptions {
  app: Koa<any>;
  provisioner: Provisioner;
  gate: Gate;
  log: Logger;
  /** Answer rendered files before Koa (default true). Off: Koa answers them the same way. */
  fastPath?: boolean;
  /** Counts each answered request where its access line is written. */
  metrics?: Metrics;
}

export function createListener(opts: ListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const koa = opts.app.callback();
  if (opts.fastPath === false) return koa;
  const deps = { provisioner: opts.provisioner, gate: opts.gate, log: opts.log };
  const turn = new TurnWriter((err) => opts.log.error({ err: String(err) }, 'reply write failed'));

  const metrics = opts.metrics;
  const logSent = (req: IncomingMessage, method: string, url: string, started: number, reply: Reply, bytes: number) => {
    const who = reply.log;
    const ms = round(performance.now() - started);
    metrics?.recordRequest(who.vendor, who.kind, reply.status, ms);
    // Written out rather than rest-and-spread, which V8 builds through a slow path.
    logAccess(opts.log, {
      ip: who.ip ?? deps.gate.clientIp(req.socket.remoteAddress, req.headers),
      method,
      path: logPath(url),
      status: reply.status,
      bytes,
      ms,
      mac: who.mac,
      model: who.model,
      reason: who.reason,
    });
  };

  /** Something inside deskset failed: the phone gets a bodyless 500, the log the reason and an access line. */
  const fail = (req: IncomingMessage, res: ServerResponse, method: string, url: string, started: number, err: unknown) => {
    opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'request failed');
    if (!res.headersSent && !res.destroyed) {
      const reply = emptyReply(500, { reason: 'internal error' });
      try {
        writeReply(res, method, reply);
        return logSent(req, method, url, started, reply, 0);
      } catch {
        /* the connection is past saving */
      }
    }
    res.destroy();
  };

  const send = (req: IncomingMessage, res: ServerResponse, method: string, url: string, started: number, reply: Reply) => {
    let bytes: number;
    try {
      bytes = res.destroyed ? 0 : writeReply(res, method, reply);
    } catch (err) {
      return fail(req, res, method, url, started, err);
    }
    logSent(req, method, url, started, reply, bytes);
  };

  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    if ((method !== 'GET' && method !== 'HEAD') || url.startsWith('/-/') || url === '/healthz') return koa(req, res);
    replyRendered({ method, url, headers: req.headers, remote: req.socket.remoteAddress, socket: req.socket }, deps).then(
      (reply) => {
        if (!reply) {
          (req as IncomingMessage & { [PASSED]?: boolean })[PASSED] = true;
          return koa(req, res);
        }
        turn.defer(() => send(req, res, method, url, started, reply));
      },
      (err: unknown) => fail(req, res, method, url, started, err),
    );
  };
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Paths are logged without the query, with URL tokens masked, and cut short: a 64 KB path
 * must not become a 64 KB log line, and a token in a log is a credential in a log.
 */
export function logPath(url: string): string {
  const q = url.indexOf('?');
  let p = q === -1 ? url : url.slice(0, q);
  // Mask tokens however they were spelled (/%70/…, /p%2F…): decode first, and mask anything
  // shaped like a token (43 base64url characters) that is still there.
  try {
    p = decodeURIComponent(p);
  } catch {
    /* keep it raw */
  }
  p = redactTokenPath(p).replace(/[A-Za-z0-9_-]{43}/g, '••••');
  return p.length > 256 ? `${p.slice(0, 256)}…` : p;
}
