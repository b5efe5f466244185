// The access log line of a request, the same for every transport: one JSON line per request,
// with the path's query dropped, URL tokens masked and long paths cut.

import type { Logger } from 'pino';
import { redactTokenPath } from '../security/tokens.js';
import type { Metrics } from '../metrics/index.js';
import type { Reply } from './reply.js';

export interface AccessRecord {
  ip: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  ms: number;
  mac?: string;
  model?: string;
  reason?: string;
  /** Only for transports other than HTTP(S), which is the default. */
  transport?: string;
}

/**
 * Hands each answered request to the inventory (inventory/inventory.ts), with the two headers
 * the log line does not carry.
 */
export type Observe = (r: AccessRecord, userAgent: string | undefined, etag: string | undefined) => void;

export interface Answered {
  method: string;
  url: string;
  transport?: string;
  userAgent?: string;
}

/** Where an answered request is told: the access log, the inventory, the request metrics. */
export interface AccessSinks {
  log: Logger;
  observe?: Observe;
  metrics?: Metrics;
}

/**
 * Log one answered request, and let the inventory and the metrics see it: the one place every
 * transport's requests end. `started` is a performance.now() reading taken when it arrived.
 */
export function logReply(sinks: AccessSinks, req: Answered, ip: string, reply: Reply, bytes: number, started: number): void {
  const who = reply.log;
  // Written out rather than rest-and-spread, which V8 builds through a slow path.
  const record: AccessRecord = {
    ip: who.ip ?? ip,
    method: req.method,
    path: logPath(req.url),
    status: reply.status,
    bytes,
    ms: round(performance.now() - started),
    mac: who.mac,
    model: who.model,
    reason: who.reason,
  };
  if (req.transport === 'tftp') record.transport = 'tftp';
  logRecord(sinks, record, who, req.userAgent, reply.headers.ETag);
}

/** The last step of every request, whatever the transport. */
export function logRecord(sinks: AccessSinks, record: AccessRecord, labels: Pick<Reply['log'], 'vendor' | 'scope' | 'kind'>, userAgent: string | undefined, etag: string | undefined): void {
  sinks.metrics?.recordRequest(labels.vendor, metricKind(labels), record.status, record.ms);
  sinks.log.info(record);
  sinks.observe?.(record, userAgent, etag);
}

/** The request metrics' `kind` label: a rendered file (or its refusal) by its scope, anything else by its handler. */
export function metricKind(l: Pick<Reply['log'], 'scope' | 'kind'>): string {
  if (l.kind === 'rendered' || l.kind === 'refused') return l.scope ?? 'none';
  return l.kind ?? 'none';
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
