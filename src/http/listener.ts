// The HTTP adapter of the request pipeline: node:http's request in, the pipeline's Reply out as
// bytes, one access line per request. No framework: every phone request (GET, HEAD, PUT)
// goes through pipeline/handle.ts; only the operator endpoints are answered here. Replies are
// written at the end of the event-loop turn (turn-writer.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { logReply, type AccessSinks, type Observe } from '../pipeline/access.js';
import type { Metrics } from '../metrics/index.js';
import type { PhoneRequest } from '../pipeline/handle.js';
import { discardReply, emptyReply, type Reply } from '../pipeline/reply.js';
import type { Gate } from '../security/gate.js';
import { isOperatorPath, replyOperator, type OperatorDeps } from './operator.js';
import { TurnWriter } from './turn-writer.js';
import { writeReply } from './write-reply.js';

export interface ListenerOptions extends OperatorDeps {
  handle: (req: PhoneRequest) => Promise<Reply>;
  gate: Gate;
  log: Logger;
  /** The inventory's observer, told of every answered phone request. */
  observe?: Observe;
  /** Counts each answered request where its access line is written. */
  metrics?: Metrics;
}

export function createListener(opts: ListenerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const turn = new TurnWriter((err) => opts.log.error({ err: String(err) }, 'reply write failed'));
  const sinks: AccessSinks = { log: opts.log, observe: opts.observe, metrics: opts.metrics };
  const ipOf = (req: IncomingMessage) => opts.gate.clientIp(req.socket.remoteAddress, req.headers);

  /** Something inside deskset failed: the phone gets a bodyless 500, the log the reason and an access line. */
  const fail = (req: IncomingMessage, res: ServerResponse, method: string, url: string, started: number, err: unknown) => {
    opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'request failed');
    if (!res.headersSent && !res.destroyed) {
      const reply = emptyReply(500, { reason: 'internal error' });
      try {
        writeReply(res, method, reply);
        return logReply(sinks, { method, url }, ipOf(req), reply, 0, started);
      } catch {
        /* the connection is past saving */
      }
    }
    res.destroy();
  };

  const send = (req: IncomingMessage, res: ServerResponse, method: string, url: string, started: number, reply: Reply) => {
    let bytes: number;
    try {
      if (res.destroyed) {
        discardReply(reply);
        bytes = 0;
      } else bytes = writeReply(res, method, reply);
    } catch (err) {
      discardReply(reply);
      return fail(req, res, method, url, started, err);
    }
    const ua = req.headers['user-agent'];
    logReply(sinks, { method, url, userAgent: typeof ua === 'string' ? ua : undefined }, reply.log.ip ?? ipOf(req), reply, bytes, started);
  };

  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    if ((method === 'GET' || method === 'HEAD') && isOperatorPath(pathOf(url))) {
      return send(req, res, method, url, started, replyOperator(pathOf(url), { remote: req.socket.remoteAddress, headers: req.headers }, opts));
    }
    const phoneRequest: PhoneRequest = { transport: 'encrypted' in req.socket ? 'https' : 'http', method, url, headers: req.headers, remote: req.socket.remoteAddress, socket: req.socket };
    if (method === 'PUT') {
      phoneRequest.body = req;
      phoneRequest.rawHeaders = req.rawHeaders;
    }
    opts.handle(phoneRequest).then(
      (reply) => turn.defer(() => send(req, res, method, url, started, reply)),
      (err: unknown) => fail(req, res, method, url, started, err),
    );
  };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
