// Shared pieces of the end-to-end security tests: an in-memory JSON log, fetch and raw-socket
// clients, Basic credentials, and YAML edits for temp roots (see tmp-root.ts).

import net from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/access-log.js';

/** A pino logger (createLogger, as the server uses) writing JSON lines into memory. */
export function memoryLog() {
  const lines: string[] = [];
  let buf = '';
  const dest = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      cb();
    },
  });
  const log = createLogger(dest as unknown as Parameters<typeof createLogger>[0]);
  return {
    log,
    lines,
    /** Every line parsed as JSON. */
    records: (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    /** Access-log records (they have a method). */
    access: (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => typeof o.method === 'string'),
    /** Records whose `event` is `name`. */
    events: (name: string): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o.event === name),
  };
}

export interface Got {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export async function get(base: string, p: string, init: RequestInit = {}): Promise<Got> {
  const r = await fetch(base + p, { redirect: 'manual', signal: AbortSignal.timeout(20_000), ...init });
  const body = Buffer.from(await r.arrayBuffer());
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  return { status: r.status, headers, body, text: body.toString('utf8') };
}

export function basic(user: string, pass: string): { authorization: string } {
  return { authorization: `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}` };
}

/** Headers that legitimately differ between two responses. */
export const VOLATILE = new Set(['date', 'connection', 'keep-alive']);
export const stable = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).filter(([k]) => !VOLATILE.has(k.toLowerCase())));

export interface RawResponse {
  /** 0 when the server closed without answering. */
  status: number;
  statusLine: string;
  /** Header lines in wire order, as sent. */
  headerLines: Array<[string, string]>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Everything the server sent. */
  raw: Buffer;
}

/**
 * Send `request` (a complete HTTP/1.1 request, bytes as given, nothing normalised) on a fresh
 * connection and read until the server closes it. The request should carry `Connection: close`.
 */
export function rawRequest(port: number, request: string | Buffer, opts: { host?: string; timeoutMs?: number; head?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, opts.host ?? '127.0.0.1', () => s.write(request));
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${opts.timeoutMs ?? 15_000} ms`));
    }, opts.timeoutMs ?? 15_000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined); // a reset after the answer is fine; 'close' follows
    s.on('close', () => {
      clearTimeout(guard);
      resolve(parseResponse(Buffer.concat(chunks), opts.head));
    });
  });
}

/** GET (or another method) of a raw request target, with extra header lines. */
export function rawGet(port: number, target: string, headers: Record<string, string> = {}, method = 'GET', opts: { host?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return rawRequest(port, `${lines.join('\r\n')}\r\n\r\n`, { ...opts, head: method === 'HEAD' });
}

export function parseResponse(raw: Buffer, head = false): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, statusLine: '', headerLines: [], headers: {}, body: Buffer.alloc(0), raw };
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headerLines = lines.map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  const headers = Object.fromEntries(headerLines.map(([k, v]) => [k.toLowerCase(), v]));
  let body = raw.subarray(end + 4);
  if (head) body = Buffer.alloc(0);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), statusLine, headerLines, headers, body, raw };
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i);
    if (eol === -1) break;
    const size = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** An Edit (tmp-root.ts) that appends YAML at the end of a file. */
export function appendYaml(text: string): (old: string) => string {
  return (old) => `${old.trimEnd()}\n${text.trimEnd()}\n`;
}

/** A deskset.yaml for tests: loopback, and whatever else is given. */
export function desksetYaml(extra = ''): string {
  return ['listen:', '  host: 127.0.0.1', '  port: 0', 'unknown_devices: reject', extra.trimEnd(), ''].join('\n');
}

/** The log must have caught up with the requests (pino writes asynchronously). */
export function settle(ms = 50): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
