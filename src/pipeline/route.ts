// The first step of every request: the client address (X-Forwarded-For only from trusted
// proxies), the enumeration cool-down, the path decoded and checked, and a URL token unwrapped.

import type { IncomingHttpHeaders } from 'node:http';
import type { Gate } from '../security/gate.js';
import { parseTokenPath } from '../security/tokens.js';
import { emptyReply, type Reply } from './reply.js';
import { decodeRequestPath } from './request-path.js';

/** Where a request is headed once any /p/<token>/ prefix is taken off. */
export interface Routed {
  path: string;
  ip: string;
  tokenMac?: string;
}

/** Enough of a request to route it. */
export interface Routable {
  url: string;
  headers: IncomingHttpHeaders;
  remote?: string;
}

/**
 * Decode the path, find the client address, apply the cool-down, and unwrap a URL token.
 * A Reply means the request is already answered (400, 404 for an unknown token, 429).
 */
export function route(req: Routable, gate: Gate): Routed | Reply {
  const ip = gate.clientIp(req.remote, req.headers);
  const cooling = gate.coolingDown(ip);
  if (cooling) return cooling;
  const decoded = decodeRequestPath(req.url);
  if (!decoded.ok) return emptyReply(decoded.status, { reason: 'bad path', ip });
  const tokenPath = parseTokenPath(decoded.path);
  if (!tokenPath) return { path: decoded.path, ip };
  const mac = gate.tokens?.lookup(tokenPath.token);
  if (!mac) {
    // A wrong token is a guess like a wrong MAC.
    gate.miss(ip, `token:${tokenPath.token.slice(0, 8)}`);
    return emptyReply(404, { reason: 'unknown token', ip });
  }
  return { path: tokenPath.rest, ip, tokenMac: mac };
}

