// Reading what a caller sent: query parameters (strict: unknown or repeated ones are a 400)
// and a bounded request body. Pure over plain values except readBody, which reads the stream.

import type { IncomingMessage } from 'node:http';
import { badParam, Problem } from './problem.js';

export type Query = Record<string, string | string[] | undefined>;

/** The query's single values; an unknown or repeated parameter is a 400 that names it. */
export function strictQuery(q: Query, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!known.includes(k)) throw badParam(k, `unknown query parameter (known: ${known.join(', ') || 'none'})`);
    if (Array.isArray(v)) throw badParam(k, 'given more than once');
    out[k] = v;
  }
  return out;
}

export const MAX_LIMIT = 1000;

export function paging(q: Record<string, string | undefined>, dflt = 100): { limit: number; offset: number } {
  return { limit: intParam(q, 'limit', 1, MAX_LIMIT, dflt), offset: intParam(q, 'offset', 0, 1_000_000_000, 0) };
}

export function intParam(q: Record<string, string | undefined>, name: string, min: number, max: number, dflt: number): number {
  const v = q[name];
  if (v === undefined) return dflt;
  if (!/^\d{1,10}$/.test(v)) throw badParam(name, `expected an integer ${min}..${max}, got ${JSON.stringify(v.slice(0, 40))}`);
  const n = Number(v);
  if (n < min || n > max) throw badParam(name, `${n} is out of range ${min}..${max}`);
  return n;
}

export function boolParam(q: Record<string, string | undefined>, name: string, dflt: boolean): boolean {
  const v = q[name];
  if (v === undefined) return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badParam(name, `expected true or false, got ${JSON.stringify(v.slice(0, 40))}`);
}

export function enumParam<T extends string>(q: Record<string, string | undefined>, name: string, values: readonly T[]): T | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw badParam(name, `expected one of ${values.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`);
  return v as T;
}

/** An ISO 8601 time as sortable text (UTC, milliseconds), or a 400. */
export function timeParam(q: Record<string, string | undefined>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw badParam(name, `expected an ISO 8601 time such as 2026-12-01T09:00:00Z, got ${JSON.stringify(v.slice(0, 40))}`);
  return new Date(t).toISOString();
}

/**
 * The body, at most `max` bytes. A declared length over the cap is refused before reading;
 * a body that grows past it is cut off (the connection closes: the rest is never read).
 */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw new Problem('payload-too-large', `the body is ${declared} bytes; at most ${max} are accepted (admin.max_body_bytes)`, { headers: { Connection: 'close' } });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      req.pause();
      throw new Problem('payload-too-large', `the body is over ${max} bytes (admin.max_body_bytes)`, { headers: { Connection: 'close' } });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
